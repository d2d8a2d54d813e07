#!/usr/bin/env python3
"""Benchmark this registry against the reference registry (CNCF distribution), side by side.

    .venv/bin/python bench/run.py --rounds 3     # full run, both registries, local files
    .venv/bin/python bench/run.py --rounds 3 --storage s3   # both on one SeaweedFS S3 server
    .venv/bin/python bench/run.py --quick --only ours   # seconds; what tests/bench runs

What it does, in one run on this machine:
  * ours: a fresh PostgreSQL database (--database-url, dropped and re-created; `sqlite` for a
    throw-away SQLite file), `migrate`, `createorg bench --owner bench@example.com`, `apikey`, then
    gunicorn with the settings of scripts/run (gthread workers, long timeout) and production-like
    environment (DEBUG off, REGISTRY_PRODUCTION=1 but plain http on loopback), blob store in a
    temp dir or (--storage s3) a bucket.  The client authenticates like docker: 401 challenge ->
    GET /token with Basic `$oauthtoken:<api key>` -> Bearer token.
  * reference: Debian's `docker-registry` (installed with apt-get when missing; the bench fails
    if it cannot be), its Debian config with storage in a temp dir or (--storage s3) its own S3
    driver on a second bucket of the same S3 server, redirects on; auth off, on a free port.
  * measures for each (interleaved, the order flipping at every step): 1 GiB blob push MB/s
    (monolithic, chunked in 64 MiB PATCHes, streamed as docker does), pull MB/s (raw, and with
    sha256 verification), 200 small layers (64 KiB) pushed then pulled docker-style over one
    connection, manifest GET req/s and p99 at 32 concurrent connections (wrk), 1,000 manifest
    PUTs by tag, tags/list p50 at 1,000 tags, _catalog p50 at 1,000 repositories, the server's
    RSS (process tree, i.e. gunicorn master + workers) at the start of each round and its peak
    during each 1 GiB transfer, with PSS beside it (shared pages divided among the processes that
    share them: the tree's real footprint once there are several workers), and its CPU seconds per operation class (/proc/<pid>/stat of the
    tree; in S3 mode the S3 server's too).
  * prints the medians with ratio vs target and PASS/MISS, every round's values with the ratios
    paired by round, the CPU table and the load average before each round; --markdown FILE
    writes them as markdown.

Exit status: 0 when every step ran (targets missed or not), 1 when a step failed.
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402
import listing  # noqa: E402
import report  # noqa: E402
import servers  # noqa: E402
from harness import log  # noqa: E402
from servers import die  # noqa: E402

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/registry_benchdb"

STEPS = [("push:monolithic", h.bench_push, "monolithic"),
         ("push:chunked", h.bench_push, "chunked"),
         ("push:streamed", h.bench_push, "streamed"),
         ("pull:raw", h.bench_pull, "raw"),
         ("pull:verified", h.bench_pull, "verified"),
         ("small:c1", h.bench_small, 1),
         ("manifest:GET:c32", h.bench_manifest, ("GET", 32)),
         ("tags", listing.bench_tags, None),
         ("catalog", listing.bench_catalog, None)]
# What issue 15 item 6 compares on S3; the metadata steps do not touch our blob store.
S3_DEFAULT_STEPS = "push,pull,small,manifest"


def in_round_order(steps, rnd):
    """`steps` with the big pushes taking turns to go first, one more place each round. Every GiB
    pushed takes new page-cache pages, which on a VM can cost a fault in the hypervisor
    (docs/performance.md, bench/machine_floors.py): in a fixed order the first push mode met the
    fewest in every round and the last the most."""
    pushes = [s for s in steps if s[0].startswith("push:")]
    if not pushes:
        return steps
    turn = rnd % len(pushes)
    rotated = iter(pushes[turn:] + pushes[:turn])
    return [next(rotated) if s[0].startswith("push:") else s for s in steps]


# The manifest GET load runs in slices that alternate between the registries (ours, reference,
# reference, ours, ...) rather than in one window each: on the VMs measured, speed drifts by a
# quarter within seconds (docs/performance.md), and one window each measured the drift as much as
# the servers. wrk counts whole seconds: slices of 2 s at least.
MANIFEST_SLICES = 5


def merged_slices(slices: list[dict]) -> dict:
    """One result from equal-length slices of a step: rates averaged, latencies the median
    slice's, CPU seconds and error counts summed, peaks the highest, the rest the last slice's;
    lists (warnings, errors) joined."""
    merged: dict = {}
    for part in slices:
        for key, value in part.items():
            if isinstance(value, list):
                merged.setdefault(key, []).extend(value)
    for key in {key for part in slices for key in part} - set(merged):
        values = [part[key] for part in slices if key in part]
        if not all(isinstance(v, (int, float)) for v in values):
            merged[key] = values[-1]
        elif key.endswith("_rps"):
            merged[key] = sum(values) / len(values)
        elif key.endswith("_ms"):
            merged[key] = statistics.median(values)
        elif key.endswith(("_cpu_s", "_errors")):
            merged[key] = sum(values)
        else:
            merged[key] = max(values)
    return merged


def plan(a):
    chosen = a.steps or (S3_DEFAULT_STEPS if a.storage == "s3" else "")
    if not chosen:
        return STEPS
    wanted = [w.strip() for w in chosen.split(",") if w.strip()]
    steps = [s for s in STEPS if any(s[0] == w or s[0].split(":")[0] == w for w in wanted)]
    if not steps:
        die(f"--steps {chosen!r} matches none of {[s[0] for s in STEPS]}")
    return steps


def loadavg():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="64 MiB blob, 20 layers, 2 s of manifest GETs, 20 tags and repositories (a smoke run)")
    ap.add_argument("--only", choices=["both", "ours", "reference"], default="both")
    ap.add_argument("--storage", choices=["filesystem", "s3"], default="filesystem",
                    help="s3: one SeaweedFS for the run, each registry on a bucket of its own (the reference "
                         "with distribution's S3 driver, redirects on); default steps push,pull,small,manifest")
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB),
                    help=f"PostgreSQL URL of a database the bench may drop and re-create "
                         f"(default {DEFAULT_DB}), or `sqlite` for a temp SQLite file")
    ap.add_argument("--big-mib", type=int, help="big blob size, MiB (default 1024; quick 64)")
    ap.add_argument("--small-layers", type=int, help="small layers (default 200; quick 20)")
    ap.add_argument("--duration", type=float, help="seconds of manifest GETs (default 10; quick 2)")
    ap.add_argument("--tags", type=int, dest="tag_count", help="tag PUTs, then tags/list on them (default 1000; quick 20)")
    ap.add_argument("--catalog-repos", type=int, help="repositories behind _catalog (default 1000; quick 20)")
    ap.add_argument("--list-requests", type=int, help="GETs of tags/list and of _catalog for the p50 (default 200; quick 10)")
    ap.add_argument("--steps", help="comma list of steps (or groups: push, pull, small, manifest, tags, catalog) "
                                    "to run; default all (with --storage s3: push,pull,small,manifest)")
    ap.add_argument("--rounds", type=int, default=1, help="repeat the plan; medians are shown")
    ap.add_argument("--cache-dir", default="/tmp/registry-bench-cache",
                    help="where the random big-blob file is cached")
    ap.add_argument("--json-out", help="write the raw results here")
    ap.add_argument("--markdown", help="write the table (markdown) and run details here")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, storage)")
    a = ap.parse_args(argv)
    a.big_mib = a.big_mib or (64 if a.quick else 1024)
    a.small_layers = a.small_layers or (20 if a.quick else 200)
    a.duration = a.duration or (2.0 if a.quick else 10.0)
    a.tag_count = a.tag_count or (20 if a.quick else 1000)
    a.catalog_repos = a.catalog_repos or (20 if a.quick else 1000)
    a.list_requests = a.list_requests or (10 if a.quick else 200)
    a.settle = 0.2 if a.quick else 1.0
    # the attributes the harness's bench_* functions read
    a.repo, a.chunk_mib, a.stream_frame_kib, a.layer_kib = "bench", 64, 32, 64
    a.load_tool, a.wrk_threads, a.timeout = "auto", 1, 600.0
    a.run_id = f"{int(time.time())}-{os.getpid()}"

    if not shutil.which("wrk"):
        if a.quick:
            log("wrk not installed: manifest GETs use the asyncio load generator")
        else:
            servers.ensure_tool("wrk", "wrk")
    # a SIGTERM unwinds like ^C, so the `finally` below stops the servers and the S3 server
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="registry-bench-"))
    procs, targets, info, stop_s3, s3 = [], [], {}, None, None
    load_start = loadavg()
    try:
        if a.storage == "s3":
            s3, stop_s3 = servers.start_s3(tmp / "s3")
            info["S3 server"] = f"SeaweedFS `weed mini` pid {s3.process.pid} at {s3.endpoint_url}"
            log(f"[s3] {info['S3 server']}")
        storage_pid = s3.process.pid if s3 else None
        if a.only in ("both", "reference"):
            d = tmp / "reference"
            d.mkdir()
            port = h.free_port()
            proc, version = servers.start_reference(d, port, open(d / "server.log", "wb"), s3=s3)
            procs.append(proc)
            targets.append(h.Target("reference", f"http://127.0.0.1:{port}", pid=proc.pid,
                                    storage_pid=storage_pid))
            where = f"S3 bucket {servers.S3_BUCKETS['reference']} (its s3 driver, redirects on)" if s3 \
                else "filesystem storage"
            info["reference"] = f"{version}, auth off, {where}, port {port}"
            log(f"[reference] {version} pid {proc.pid} on :{port}")
        if a.only in ("both", "ours"):
            d = tmp / "ours"
            d.mkdir()
            port = h.free_port()
            proc, key, gargs = servers.start_ours(d, port, a.database_url, open(d / "server.log", "wb"), s3=s3)
            procs.append(proc)
            targets.append(h.Target("ours", f"http://127.0.0.1:{port}", user="$oauthtoken",
                                    password=key, pid=proc.pid, storage_pid=storage_pid))
            where = f"S3 bucket {servers.S3_BUCKETS['ours']} (blob GETs redirect)" if s3 else "filesystem storage"
            info["ours"] = f"gunicorn {gargs}, token auth ($oauthtoken + API key), {where}, port {port}"
            log(f"[ours] gunicorn pid {proc.pid} on :{port}")
        a.big = h.BigBlob(a.cache_dir, a.big_mib * h.MiB)
        steps = plan(a)
        rounds, failed, loads = [], [], []
        step_no = 0
        for rnd in range(a.rounds):
            loads.append(loadavg())
            log(f"round {rnd + 1}/{a.rounds}, load average {loads[-1]}")
            per = {t.name: {"idle_rss_MB": t.mon.rss_mib() * h.MiB / h.MB, "idle_pss_MB": t.mon.pss_mib() * h.MiB / h.MB}
                   for t in targets}
            for label, fn, spec in in_round_order(steps, rnd):
                order = targets if step_no % 2 == 0 else targets[::-1]
                step_no += 1
                slices = max(1, min(MANIFEST_SLICES, int(a.duration // 2))) if fn is h.bench_manifest and len(targets) > 1 else 1
                parts = {t.name: [] for t in targets}
                whole_duration, a.duration = a.duration, a.duration / slices
                try:
                    for part in range(slices):
                        for t in order if part % 2 == 0 else order[::-1]:
                            os.sync()
                            time.sleep(a.settle)
                            t0 = time.perf_counter()
                            try:
                                res = fn(t, a, spec, rnd)
                            except Exception as e:  # noqa: BLE001 - report, keep going
                                res = {"_errors": [f"{label}: {type(e).__name__}: {e}"]}
                            parts[t.name].append(res)
                            brief = ", ".join(f"{k}={h.fmt(v)}" for k, v in res.items()
                                              if not k.startswith("_") and not k.endswith("cpu_s"))[:150]
                            log(f"{label:<18} [{t.name}] {time.perf_counter() - t0:5.1f}s "
                                f"{brief or res.get('_errors')}")
                finally:
                    a.duration = whole_duration
                for t in order:
                    res = merged_slices(parts[t.name])
                    for k, v in res.items():
                        if k.startswith("_") and isinstance(v, list):
                            per[t.name].setdefault(k, []).extend(v)
                        elif not k.startswith("_"):
                            per[t.name][k] = v
                    if res.get("_errors"):
                        failed += [f"[{t.name}] {e}" for e in res["_errors"]]
            for t in targets:
                report.derive(per[t.name])
                h.cleanup_round(t, a)
            rounds.append(per)
        loads.append(loadavg())
        results = {}
        for t in targets:
            keys = {k for rd in rounds for k, v in rd[t.name].items() if isinstance(v, (int, float))}
            results[t.name] = {}
            for k in keys:
                results[t.name][k] = statistics.median(rd[t.name][k] for rd in rounds if k in rd[t.name])
        for t in targets:
            if t.mon:
                t.mon.stop()
            t.client.close()
        meta = h.machine_meta()
        meta["loadavg_rounds"] = loads
        print()
        print(report.table(results, a))
        for part in (report.spread(rounds, a), report.cpu_table(rounds, a)):
            if part:
                print()
                print(part)
        print(f"\nload average (1, 5, 15 min) before each round and at the end: {' | '.join(loads)}")
        for f in failed:
            print("FAILED:", f)
        cmd = "python bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
        if a.markdown:
            lines = [f"Measured {meta['date_utc']} on {meta.get('cpu_model', '?')}, "
                     f"nproc {meta['cpus']}, {meta.get('mem_gib', '?')} GiB RAM, kernel {meta['kernel']}; "
                     f"{a.rounds} round(s), medians; storage {a.storage}; load average at the start "
                     f"{load_start}, before each round and at the end {' | '.join(loads)}.",
                     "", f"Command: `{cmd.strip()}`", ""]
            lines += [f"- {n}: {v}" for n, v in info.items()]
            lines += ["", report.table(results, a, markdown=True), ""]
            for part in (report.spread(rounds, a, markdown=True), report.cpu_table(rounds, a, markdown=True)):
                if part:
                    lines += [part, ""]
            Path(a.markdown).write_text("\n".join(lines))
        if a.json_out:
            Path(a.json_out).write_text(json.dumps(
                {"meta": meta, "servers": info, "args": {k: v for k, v in vars(a).items() if k != "big"},
                 "results": results, "rounds": rounds, "failed": failed}, indent=1, default=str))
        return 1 if failed else 0
    finally:
        for p in procs:
            h.stop(p)
        if stop_s3:
            stop_s3()
        if a.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
