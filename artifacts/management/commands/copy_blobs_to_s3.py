"""`manage.py copy_blobs_to_s3 [--from DIR] [--dry-run]`: copy the local blob store into the S3
bucket the REGISTRY_S3_* variables configure, verifying each digest (artifacts.blobs.copy_to_s3).
Exits 1 when a file did not hash to its digest (it is reported and not copied)."""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from artifacts.blobs.copy_to_s3 import DEFAULT_PART_SIZE, blob_store_copy_to_s3
from artifacts.blobs.s3_uploads import MIN_PART_SIZE
from artifacts.blobs.store import get_blob_store

MIB = 1024 * 1024


class Command(BaseCommand):
    help = (
        "Copy every blob of the local store (REGISTRY_BLOB_STORE_ROOT) into the S3 bucket STORAGES['blobs'] names, "
        "re-hashing each file on the way; objects already there with the right size are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="source", type=Path, default=None,
                            help="the local store's root (default: REGISTRY_BLOB_STORE_ROOT)")
        parser.add_argument("--dry-run", action="store_true", help="say what would be copied, copy nothing")
        parser.add_argument("--part-size-mib", type=int, default=DEFAULT_PART_SIZE // MIB,
                            help=f"multipart part size for large files (at least {MIN_PART_SIZE // MIB})")

    def handle(self, *args, source=None, dry_run=False, part_size_mib=DEFAULT_PART_SIZE // MIB, **options):
        from artifacts.blobs.s3_store import S3BlobStore

        store = get_blob_store()
        if not isinstance(store, S3BlobStore):
            raise CommandError("STORAGES['blobs'] is local files: set REGISTRY_S3_BUCKET (and the other REGISTRY_S3_* variables) first.")
        if part_size_mib * MIB < MIN_PART_SIZE:
            raise CommandError(f"--part-size-mib must be at least {MIN_PART_SIZE // MIB}.")
        root = Path(source or settings.BLOB_STORE_ROOT)
        if not (root / "blobs").is_dir():
            raise CommandError(f"{root} holds no blobs/ folder: is it the local blob store's root?")
        self.stdout.write(f"{'Checking' if dry_run else 'Copying'} the blobs of {root} into s3://{store.bucket}/{store.key('')}")
        report = blob_store_copy_to_s3(
            store=store, source_root=root, dry_run=dry_run, part_size=part_size_mib * MIB, progress=self.stdout.write,
        )
        for path in report.not_blobs:
            self.stdout.write(f"not a blob (its path is no content address), not copied: {path}")
        if report.uploads_left:
            self.stdout.write(f"{report.uploads_left} unfinished uploads under uploads/ were not copied: their clients restart them.")
        if dry_run:
            self.stdout.write(f"Would copy {report.to_copy} blobs; {report.already_there} are already in the bucket.")
            return
        self.stdout.write(
            f"Copied {report.copied} blobs ({report.bytes_copied} bytes); {report.already_there} were already in the bucket; "
            f"{len(report.mismatches)} did not match their digest."
        )
        if report.mismatches:
            raise CommandError(
                f"{len(report.mismatches)} files did not hash to their digest and were not copied "
                "(above); `manage.py verify_blobs --repair` on the local store takes them out of service."
            )
