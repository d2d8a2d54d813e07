"""Keeps bench/run.py from rotting: its --quick mode against our registry only (a few seconds).

The real benchmark (both registries, 1 GiB blobs) is run by hand: see docs/performance.md.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    """A database of the bench's own next to the test database (it is dropped and re-created)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        base, _, name = url.rpartition("/")
        return f"{base}/{name.split('?', 1)[0]}_benchsmoke"
    return "sqlite"


def test_quick_bench_against_our_registry(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--only", "ours",
         "--big-mib", "4", "--small-layers", "4", "--duration", "0.5", "--tags", "4",
         "--catalog-repos", "3", "--list-requests", "3",
         "--database-url", _database_url(), "--cache-dir", str(tmp_path / "cache"),
         "--json-out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    results = json.loads(out.read_text())["results"]["ours"]
    for key in ("push_monolithic_MBps", "push_chunked_MBps", "pull_raw_MBps", "small_total_s",
                "manifest_get_c32_rps", "push_peak_rss_MB", "tag_put_per_s", "tags_list_p50_ms",
                "catalog_p50_ms", "tag_put_server_cpu_s", "idle_pss_MB", "push_peak_pss_MB"):
        assert results[key] > 0, key
    # PSS divides the pages gunicorn's master and worker share: never above their summed RSS.
    assert results["idle_pss_MB"] < results["idle_rss_MB"]
    assert "verdict" in proc.stdout and "ours" in proc.stdout
