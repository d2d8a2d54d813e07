"""`manage.py verify_blobs [--repair] [DIGEST ...]`: re-hash stored blobs and report (and, with
--repair, quarantine) those whose bytes do not match their digest. Exits 1 when mismatches were
found and not repaired, so a scheduled run can alert."""
from django.core.management.base import BaseCommand, CommandError

from artifacts.blobs import verify


class Command(BaseCommand):
    help = "Re-hash every stored blob (or the digests given); report mismatches, and quarantine them with --repair."

    def add_arguments(self, parser):
        parser.add_argument("digests", nargs="*", help="check only these blobs (e.g. sha256:…)")
        parser.add_argument(
            "--repair", action="store_true",
            help="move mismatching files to quarantine/ and take the blobs out of service, so the next genuine upload replaces them",
        )

    def handle(self, *args, digests=(), repair=False, **options):
        report = verify.blob_verify_stored(repair=repair, digests=digests or None)
        for mismatch in report.mismatches:
            line = f"MISMATCH {mismatch.digest} {mismatch.problem}"
            if mismatch.repaired:
                line += f"; quarantined to {mismatch.quarantined_to}" if mismatch.quarantined_to else "; taken out of service"
            self.stdout.write(line)
        self.stdout.write(
            f"Checked {report.checked} blobs ({report.bytes_checked} bytes): {len(report.mismatches)} mismatches"
            + (", repaired." if repair else ".")
        )
        if report.mismatches and not repair:
            raise CommandError(f"{len(report.mismatches)} stored blobs do not match their digest; run with --repair.")
