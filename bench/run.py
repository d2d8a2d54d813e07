#!/usr/bin/env python3
"""Benchmark this registry against the reference registry (CNCF distribution), side by side.

    .venv/bin/python bench/run.py                # full run (about 3 minutes), both registries
    .venv/bin/python bench/run.py --quick --only ours   # seconds; what tests/bench runs

What it does, in one run on this machine:
  * ours: a fresh PostgreSQL database (--database-url, dropped and re-created; `sqlite` for a
    throw-away SQLite file), `migrate`, `createorg bench --owner bench@example.com`, `apikey`, then
    gunicorn with the settings of scripts/run (gthread workers, long timeout) and production-like
    environment (DEBUG off, REGISTRY_PRODUCTION=1 but plain http on loopback), blob store in a
    temp dir.  The client authenticates like docker: 401 challenge -> GET /token with Basic
    `$oauthtoken:<api key>` -> Bearer token.
  * reference: Debian's `docker-registry` (installed with apt-get when missing; the bench fails
    if it cannot be), its Debian config with storage in a temp dir, auth off, on a free port.
  * measures for each (interleaved, the order flipping at every step): 1 GiB blob push MB/s
    (monolithic, chunked in 64 MiB PATCHes, streamed as docker does), pull MB/s (raw, and with
    sha256 verification), 200 small layers (64 KiB) pushed then pulled docker-style over one
    connection, manifest GET req/s and p99 at 32 concurrent connections (wrk), and the server's
    peak RSS (process tree, i.e. gunicorn master + workers) during each 1 GiB push.
  * prints a table with ratio vs target and PASS/MISS; --markdown FILE writes it as markdown.

Exit status: 0 when every step ran (targets missed or not), 1 when a step failed.
"""
import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402
from harness import log  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
VENV_PY = ROOT / ".venv" / "bin" / "python"
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/registry_benchdb"

# Keep in step with the gunicorn invocation in scripts/run (same env overrides).
GUNICORN_ARGS = [
    "--worker-class", "gthread",
    "--workers", os.environ.get("WEB_CONCURRENCY", "1"),
    "--threads", os.environ.get("GUNICORN_THREADS", "16"),
    "--timeout", os.environ.get("GUNICORN_TIMEOUT", "3600"),
]

REFERENCE_CONFIG = """\
version: 0.1
log:
  level: info
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
  headers:
    X-Content-Type-Options: [nosniff]
"""

# (key, label, kind, target): kind "ratio_min" = ours/ref must be >= target, "ratio_max" = ours/ref
# must be <= target, "abs_max" = ours must be <= target (absolute), None = informational.
METRICS = [
    ("push_monolithic_MBps", "{big} push, monolithic (MB/s)", "ratio_min", 1.5),
    ("push_chunked_MBps", "{big} push, chunked 64 MiB PATCHes (MB/s)", "ratio_min", 1.5),
    ("push_streamed_MBps", "{big} push, streamed PATCH like docker (MB/s)", None, None),
    ("pull_raw_MBps", "{big} pull (MB/s)", "ratio_min", 1.5),
    ("pull_verified_MBps", "{big} pull, client verifies sha256 (MB/s)", None, None),
    ("small_total_s", "{n} small layers push+pull (s)", "ratio_max", 1.25),
    ("small_c1_push_s", "  of which push (s)", None, None),
    ("small_c1_pull_s", "  of which pull (s)", None, None),
    ("manifest_get_c32_rps", "manifest GET, 32 clients (req/s)", "ratio_min", 0.6),
    ("manifest_get_c32_p99_ms", "manifest GET, 32 clients, p99 (ms)", None, None),
    ("push_peak_rss_MB", "peak server RSS during {big} pushes (MB)", "abs_max", 150),
]


def die(msg):
    log("ERROR: " + msg)
    raise SystemExit(2)




def wait_http(url, proc, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            die(f"server exited with {proc.returncode} before answering {url}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError:
            return  # 401 etc.: it answers
        except OSError:
            time.sleep(0.1)
    die(f"no answer from {url} within {seconds}s")


def ensure_tool(cmd, package):
    """The command, installed with apt-get when missing; fails loudly when that is impossible."""
    path = shutil.which(cmd)
    if path:
        return path
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        die(f"`{cmd}` is missing: install the Debian package {package} (apt-get install {package})")
    log(f"installing {package} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], env=env, check=False, stdout=subprocess.DEVNULL)
    p = subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y", "-q",
                        "--no-install-recommends", package], env=env)
    path = shutil.which(cmd)
    if p.returncode or not path:
        die(f"apt-get install {package} failed; `{cmd}` is required")
    return path




# --- our registry ----------------------------------------------------------------------------




def start_ours(tmp, port, database_url, logs):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "REGISTRY_", "SECURE_", "DATABASE_"))}
    env.update({
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Production settings, but plain http on loopback (no TLS proxy in front).
        "REGISTRY_PRODUCTION": "1",
        "SECURE_SSL_REDIRECT": "0",
        "REGISTRY_SITE_URL": f"http://127.0.0.1:{port}",
        "REGISTRY_VAR_DIR": str(tmp / "var"),
        "REGISTRY_BLOB_STORE_ROOT": str(tmp / "storage"),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("REDIS_URL", None)  # Celery runs eagerly; no registry request enqueues work anyway
    if database_url == "sqlite":
        database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    else:
        h.recreate_database(database_url)
    env["DATABASE_URL"] = database_url

    def manage(*args):
        p = subprocess.run([str(VENV_PY), "manage.py", *args], cwd=ROOT, env=env,
                           capture_output=True, text=True)
        if p.returncode:
            die(f"manage.py {' '.join(args)} failed:\n{p.stdout}{p.stderr}")
        return p.stdout

    t0 = time.perf_counter()
    manage("migrate", "--noinput", "-v", "0")
    manage("createorg", "bench", "--owner", "bench@example.com")
    key = manage("apikey", "bench@example.com").strip()
    log(f"[ours] database ready ({database_url.split('@')[-1]}) in {time.perf_counter() - t0:.1f}s")
    cmd = [str(VENV_PY), "-m", "gunicorn", "registry_portal.wsgi", "--bind", f"127.0.0.1:{port}",
           *GUNICORN_ARGS, "--access-logfile", str(tmp / "access.log")]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=logs, stderr=logs,
                            start_new_session=True)
    wait_http(f"http://127.0.0.1:{port}/v2/", proc)
    return proc, key, " ".join(GUNICORN_ARGS)


def start_reference(tmp, port, logs):
    exe = ensure_tool("docker-registry", "docker-registry")
    (tmp / "storage").mkdir()
    cfg = tmp / "config.yml"
    cfg.write_text(REFERENCE_CONFIG.format(root=tmp / "storage", port=port))
    proc = subprocess.Popen([exe, "serve", str(cfg)], cwd=tmp, stdout=logs, stderr=logs,
                            start_new_session=True)
    wait_http(f"http://127.0.0.1:{port}/v2/", proc)
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
    return proc, version


# --- measuring -------------------------------------------------------------------------------


STEPS = [("push:monolithic", h.bench_push, "monolithic"),
         ("push:chunked", h.bench_push, "chunked"),
         ("push:streamed", h.bench_push, "streamed"),
         ("pull:raw", h.bench_pull, "raw"),
         ("pull:verified", h.bench_pull, "verified"),
         ("small:c1", h.bench_small, 1),
         ("manifest:GET:c32", h.bench_manifest, ("GET", 32))]


def plan(a):
    if not a.steps:
        return STEPS
    wanted = [w.strip() for w in a.steps.split(",") if w.strip()]
    steps = [s for s in STEPS if any(s[0] == w or s[0].split(":")[0] == w for w in wanted)]
    if not steps:
        die(f"--steps {a.steps!r} matches none of {[s[0] for s in STEPS]}")
    return steps


def derive(res):
    """Add the composite metrics of METRICS to one target's results."""
    if "small_c1_push_s" in res and "small_c1_pull_s" in res:
        res["small_total_s"] = res["small_c1_push_s"] + res["small_c1_pull_s"]
    peaks = [v for k, v in res.items() if k.startswith("push_") and k.endswith("_peak_rss_MiB")]
    if peaks:
        res["push_peak_rss_MB"] = max(peaks) * h.MiB / h.MB
    return res


def verdict(key, kind, target, ours, ref):
    if kind is None or ours is None:
        return "", ""
    if kind == "abs_max":
        return f"{ours:.0f} (≤ {target})", "PASS" if ours <= target else "MISS"
    if not ref:
        return "-", "n/a"
    r = ours / ref
    ok = r >= target if kind == "ratio_min" else r <= target
    sign = "≥" if kind == "ratio_min" else "≤"
    return f"{r:.2f} ({sign} {target})", "PASS" if ok else "MISS"


def table(results, a, markdown=False):
    names = list(results)
    rows = []
    for key, label, kind, target in METRICS:
        big = f"{a.big_mib // 1024} GiB" if a.big_mib % 1024 == 0 else f"{a.big_mib} MiB"
        label = label.format(n=a.small_layers, big=big)
        vals = [results[n].get(key) for n in names]
        if all(v is None for v in vals):
            continue
        ours = results.get("ours", {}).get(key)
        ref = results.get("reference", {}).get(key)
        ratio, ok = verdict(key, kind, target, ours, ref) if "ours" in results else ("", "")
        if kind != "abs_max" and "reference" not in results:
            ratio, ok = ("", "") if kind is None else ("(no reference)", "")
        rows.append([label] + [h.fmt(v) if v is not None else "-" for v in vals] + [ratio, ok])
    head = ["metric"] + names + ["ours vs target", "verdict"]
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(out)
    w = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    out = ["  ".join(x.ljust(w[i]) for i, x in enumerate(head)), "  ".join("-" * x for x in w)]
    out += ["  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(r))
            for r in rows]
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="64 MiB blob, 20 layers, 2 s of manifest GETs (a smoke run)")
    ap.add_argument("--only", choices=["both", "ours", "reference"], default="both")
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB),
                    help=f"PostgreSQL URL of a database the bench may drop and re-create "
                         f"(default {DEFAULT_DB}), or `sqlite` for a temp SQLite file")
    ap.add_argument("--big-mib", type=int, help="big blob size, MiB (default 1024; quick 64)")
    ap.add_argument("--small-layers", type=int, help="small layers (default 200; quick 20)")
    ap.add_argument("--duration", type=float, help="seconds of manifest GETs (default 10; quick 2)")
    ap.add_argument("--steps", help="comma list of steps (or groups: push, pull, small, manifest) "
                                    "to run; default all")
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
    a.settle = 0.2 if a.quick else 1.0
    # the attributes the harness's bench_* functions read
    a.repo, a.chunk_mib, a.stream_frame_kib, a.layer_kib = "bench", 64, 32, 64
    a.load_tool, a.wrk_threads, a.timeout = "auto", 1, 600.0
    a.run_id = f"{int(time.time())}-{os.getpid()}"

    if not shutil.which("wrk"):
        if a.quick:
            log("wrk not installed: manifest GETs use the asyncio load generator")
        else:
            ensure_tool("wrk", "wrk")
    tmp = Path(tempfile.mkdtemp(prefix="registry-bench-"))
    procs, targets, info = [], [], {}
    try:
        if a.only in ("both", "reference"):
            d = tmp / "reference"
            d.mkdir()
            port = h.free_port()
            proc, version = start_reference(d, port, open(d / "server.log", "wb"))
            procs.append(proc)
            targets.append(h.Target("reference", f"http://127.0.0.1:{port}", pid=proc.pid))
            info["reference"] = f"{version}, auth off, filesystem storage, port {port}"
            log(f"[reference] {version} pid {proc.pid} on :{port}")
        if a.only in ("both", "ours"):
            d = tmp / "ours"
            d.mkdir()
            port = h.free_port()
            proc, key, gargs = start_ours(d, port, a.database_url, open(d / "server.log", "wb"))
            procs.append(proc)
            targets.append(h.Target("ours", f"http://127.0.0.1:{port}", user="$oauthtoken",
                                    password=key, pid=proc.pid))
            info["ours"] = f"gunicorn {gargs}, token auth ($oauthtoken + API key), port {port}"
            log(f"[ours] gunicorn pid {proc.pid} on :{port}")
        a.big = h.BigBlob(a.cache_dir, a.big_mib * h.MiB)
        steps = plan(a)
        rounds = []
        failed = []
        step_no = 0
        for rnd in range(a.rounds):
            per = {t.name: {} for t in targets}
            for label, fn, spec in steps:
                order = targets if step_no % 2 == 0 else targets[::-1]
                step_no += 1
                for t in order:
                    os.sync()
                    time.sleep(a.settle)
                    t0 = time.perf_counter()
                    try:
                        res = fn(t, a, spec, rnd)
                    except Exception as e:  # noqa: BLE001 - report, keep going
                        res = {"_errors": [f"{label}: {type(e).__name__}: {e}"]}
                    for k, v in res.items():
                        if k.startswith("_") and isinstance(v, list):
                            per[t.name].setdefault(k, []).extend(v)
                        elif not k.startswith("_"):
                            per[t.name][k] = v
                    if res.get("_errors"):
                        failed += [f"[{t.name}] {e}" for e in res["_errors"]]
                    brief = ", ".join(f"{k}={h.fmt(v)}" for k, v in res.items()
                                      if not k.startswith("_") and not k.endswith("cpu_s"))[:150]
                    log(f"{label:<18} [{t.name}] {time.perf_counter() - t0:5.1f}s "
                        f"{brief or res.get('_errors')}")
            for t in targets:
                derive(per[t.name])
                h.cleanup_round(t, a)
            rounds.append(per)
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
        meta["idle_rss_MB"] = {}
        print()
        print(table(results, a))
        for f in failed:
            print("FAILED:", f)
        cmd = "python bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
        if a.markdown:
            load = open("/proc/loadavg").read().split()[:3]
            lines = [f"Measured {meta['date_utc']} on {meta.get('cpu_model', '?')}, "
                     f"nproc {meta['cpus']}, {meta.get('mem_gib', '?')} GiB RAM, kernel {meta['kernel']}; "
                     f"{a.rounds} round(s), medians; load average at the end {' '.join(load)}.",
                     "", f"Command: `{cmd.strip()}`", ""]
            lines += [f"- {n}: {v}" for n, v in info.items()]
            lines += ["", table(results, a, markdown=True), ""]
            Path(a.markdown).write_text("\n".join(lines))
        if a.json_out:
            Path(a.json_out).write_text(json.dumps(
                {"meta": meta, "servers": info, "args": {k: v for k, v in vars(a).items() if k != "big"},
                 "results": results, "rounds": rounds, "failed": failed}, indent=1, default=str))
        return 1 if failed else 0
    finally:
        for p in procs:
            h.stop(p)
        if a.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
