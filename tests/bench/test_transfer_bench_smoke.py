"""Keeps bench/transfer_bench.py from rotting: a tiny eager run (2 files x 1 MiB, one round).

The real measurement (8 x 256 MiB, Celery worker, 3 rounds) is run by hand: see docs/performance.md.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    """A PostgreSQL database of the bench's own next to the test database (dropped and re-created)."""
    base, _, name = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/registry").rpartition("/")
    return f"{base}/{name.split('?', 1)[0]}_xfersmoke"


def test_quick_transfer_bench_uploads_and_downloads_identical_files(tmp_path):
    out = tmp_path / "transfer.json"
    # --eager: no Celery worker, so the bench never flushes the test run's Redis database.
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "transfer_bench.py"), "--quick", "--eager", "--files", "2",
         "--file-mib", "1", "--database-url", _database_url(), "--work-dir", str(tmp_path), "--json-out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    report = json.loads(out.read_text())
    assert report["failed"] is None
    result = report["result"]
    for key in ("copy_MBps", "upload_MBps", "download_MBps", "server_peak_rss_MB"):
        assert result[key] > 0, key
    assert "verdict" in proc.stdout
