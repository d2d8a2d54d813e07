"""`manage.py gc_blobs`: remove blobs nothing references, stale upload sessions and (S3) abandoned multipart uploads."""
from datetime import timedelta

from django.core.management.base import BaseCommand

from artifacts.blobs import gc


class Command(BaseCommand):
    help = "Delete unreferenced blobs older than the grace period and stale upload sessions."

    def add_arguments(self, parser):
        parser.add_argument("--grace-minutes", type=int, default=None, help="keep blobs linked within this many minutes")
        parser.add_argument("--session-ttl-hours", type=int, default=None, help="keep upload sessions touched within this many hours")

    def handle(self, *args, grace_minutes=None, session_ttl_hours=None, **options):
        report = gc.blob_collect_garbage(
            grace=timedelta(minutes=grace_minutes) if grace_minutes is not None else None,
            session_ttl=timedelta(hours=session_ttl_hours) if session_ttl_hours is not None else None,
        )
        self.stdout.write(
            f"Deleted {report.blobs_deleted} blobs ({report.bytes_freed} bytes) and {report.sessions_deleted} upload sessions; "
            f"aborted {report.multipart_uploads_aborted} multipart uploads."
        )
