#!/usr/bin/env python3
"""Model-version transfer benchmark: upload and download through the NGC API, next to a local copy.

    .venv/bin/python bench/transfer_bench.py            # 8 files x 256 MiB = 2 GiB (about a minute)
    .venv/bin/python bench/transfer_bench.py --quick    # 8 files x 8 MiB (seconds; a smoke run)

What it does, in one run on this machine:
  * starts the registry like production: a fresh PostgreSQL database (--database-url, dropped and
    re-created), `migrate`, `manage.py createorg bench --owner ...`, `manage.py apikey`, gunicorn with
    the worker settings of scripts/run (gthread, 1 worker x 16 threads; plain http on loopback,
    REGISTRY_PRODUCTION=1 otherwise) and a Celery worker over Redis (--redis-url; its own database
    index, flushed) that finalises versions, as scripts/run starts them. `--eager` runs tasks in
    the web process instead.
  * writes N distinct random files (sha256 computed while writing, as the SDK does before it uploads).
  * local copy: `shutil.copyfile` of the same files to the same filesystem, three times a round (before
    the upload, between upload and download, after the download); the median is the reference rate.
  * --rounds (default 3): each round gives the files a new header (so dedup cannot skip them) and
    uploads them as a new model; the table shows medians, the markdown every round and the load average.
  * upload: the SDK's V2 protocol (reference/ngc-api.md 5.3) spoken with the standard library:
    token -> create model -> create version -> dedup check -> per file `POST files/multipart`,
    `PUT` of each 500 MB part (zero-copy `sendfile`), `PUT files/multipart` -> commit -> `PATCH
    status=UPLOAD_COMPLETE`, then GET the version until it reads UPLOAD_COMPLETE. The files go in
    parallel (--parallel, default 8 like the SDK's upload pool for few files). Timed from the
    dedup check to UPLOAD_COMPLETE (the moment the version can be downloaded).
  * download: the SDK's protocol (5.4): version info, file list, URL listing, then `GET` of every
    URL with `Range` chunks of 512 MiB, files in parallel, written to disk. Sizes and sha256 are
    checked after the clock stops.
  * samples the RSS of the server (gunicorn master + workers) and of the Celery worker every 50 ms
    with psutil; reports the peak of the sum and of the largest single process per phase.
  * prints a table with the targets of the issue (download >= 0.8x and upload >= 0.3x the local
    copy rate, server RSS < 150 MB) and PASS/MISS; --markdown FILE writes it as markdown.

Page cache: nothing is dropped, so every phase reads warm files and writes into the page cache;
`os.sync()` runs between phases (outside the clock) so one phase's writeback does not slow the next.
Sizes: MB = 10^6 bytes, MiB = 2^20 bytes; rates are MB/s.
Exit status: 0 when every step ran and the files came back identical (targets missed or not), 1 otherwise.
"""
import argparse
import base64
import hashlib
import http.client
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import BenchError, free_port, gunicorn_args, log, recreate_database, stop  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# The checkout's venv; a git worktree has none of its own, so the interpreter running the bench.
VENV_PY = ROOT / ".venv" / "bin" / "python" if (ROOT / ".venv").exists() else Path(sys.executable)
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/registry_xferbench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
MB = 1_000_000
MiB = 1 << 20
PARTITION_SIZE = 500_000_000  # the SDK's upload part size (ngcbase.transfer: PARTITION_SIZE)
DOWNLOAD_CHUNK = 512 * MiB  # the SDK's download Range size
IO_BUFFER = 4 * MiB
ORG, MODEL, VERSION = "bench", "xfer", "1"
TARGETS = {"download": 0.8, "upload": 0.3, "rss_MB": 150}

GUNICORN_ARGS = gunicorn_args()
# A queue of this run's own, so no stray worker on the same Redis database takes its tasks.
CELERY_QUEUE = f"transfer-bench-{os.getpid()}"
CELERY_ARGS = ["--concurrency", os.environ.get("CELERY_CONCURRENCY", "2"), "--queues", CELERY_QUEUE]


# --- the server ------------------------------------------------------------------------------


class Server:
    """gunicorn (and a Celery worker) on a fresh database; `key` is the bench owner's API key."""

    def __init__(self, tmp: Path, a):
        self.tmp, self.a = tmp, a
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.web = self.worker = None
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("DJANGO_", "REGISTRY_", "SECURE_", "DATABASE_", "REDIS_", "CELERY_"))}
        self.env.update({
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Production settings, but plain http on loopback (no TLS proxy in front).
            "REGISTRY_PRODUCTION": "1",
            "SECURE_SSL_REDIRECT": "0",
            "REGISTRY_SITE_URL": self.url,
            "REGISTRY_VAR_DIR": str(tmp / "var"),
            "REGISTRY_BLOB_STORE_ROOT": str(tmp / "storage"),
            "DATABASE_URL": a.database_url,
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        })
        if not a.eager:
            self.env["REDIS_URL"] = a.redis_url
            self.env["CELERY_QUEUE"] = CELERY_QUEUE

    def manage(self, *args: str) -> str:
        done = subprocess.run([str(VENV_PY), "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True)
        if done.returncode:
            raise BenchError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def start(self) -> str:
        started = time.perf_counter()
        recreate_database(self.a.database_url)
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("createorg", ORG, "--owner", "bench@example.com")
        self.key = self.manage("apikey", "bench@example.com").strip()
        log(f"database ready ({self.a.database_url.split('@')[-1]}) in {time.perf_counter() - started:.1f}s")
        if not self.a.eager:
            import redis

            redis.Redis.from_url(self.a.redis_url).flushdb()
            self.worker = subprocess.Popen(
                [str(VENV_PY), "-m", "celery", "-A", "registry_portal", "worker", *CELERY_ARGS,
                 "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
                cwd=ROOT, env=self.env, stdout=open(self.tmp / "celery.log", "wb"), stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self._wait(lambda: b"ready." in (self.tmp / "celery.log").read_bytes(), self.worker, "celery worker")
        self.web = subprocess.Popen(
            [str(VENV_PY), "-m", "gunicorn", "registry_portal.wsgi", "--bind", f"127.0.0.1:{self.port}",
             *GUNICORN_ARGS, "--access-logfile", str(self.tmp / "access.log")],
            cwd=ROOT, env=self.env, stdout=open(self.tmp / "gunicorn.log", "wb"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait(self._answers, self.web, "gunicorn")
        return self.key

    def _answers(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", "/v2/products")
            return conn.getresponse().status == 200
        except OSError:
            return False

    @staticmethod
    def _wait(check, proc: subprocess.Popen, what: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise BenchError(f"{what} exited with {proc.returncode} while starting")
            if check():
                return
            time.sleep(0.1)
        raise BenchError(f"{what} did not become ready in {seconds}s")

    def stop(self) -> None:
        stop(self.web)
        stop(self.worker)


def tree_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) used so far by a process and its live children."""
    if pid is None:
        return 0.0
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


class RssSampler(threading.Thread):
    """Peak resident memory of process trees, per phase: the sum over a tree and its largest process."""

    def __init__(self, roots: dict[str, int], interval: float = 0.05):
        super().__init__(daemon=True)
        self.roots, self.interval = roots, interval
        self.phase = "idle"
        self.peaks: dict[tuple[str, str], tuple[float, float]] = {}
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            phase = self.phase
            for name, pid in self.roots.items():
                try:
                    root = psutil.Process(pid)
                    rss = []
                    for proc in [root, *root.children(recursive=True)]:
                        try:
                            rss.append(proc.memory_info().rss)
                        except psutil.NoSuchProcess:
                            pass
                except psutil.NoSuchProcess:
                    continue
                total, largest = sum(rss) / MB, max(rss, default=0) / MB
                old_total, old_largest = self.peaks.get((name, phase), (0.0, 0.0))
                self.peaks[(name, phase)] = (max(old_total, total), max(old_largest, largest))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()


# --- the client: the SDK's protocol with the standard library --------------------------------


class Api:
    """JSON calls with a Bearer token from /token (Basic `$oauthtoken:<key>`), one connection per thread."""

    def __init__(self, base: str, key: str):
        self.base = urllib.parse.urlsplit(base)
        self.key = key
        self.local = threading.local()
        self.token = self._token()

    def _conn(self, netloc: str | None = None) -> http.client.HTTPConnection:
        netloc = netloc or self.base.netloc
        conns = self.local.__dict__.setdefault("conns", {})
        if netloc not in conns:
            conns[netloc] = http.client.HTTPConnection(netloc, timeout=600, blocksize=IO_BUFFER)
        return conns[netloc]

    def _token(self) -> str:
        basic = base64.b64encode(f"$oauthtoken:{self.key}".encode()).decode()
        status, body = self.request("GET", f"/token?service=ngc&scope=group/ngc:{ORG}", auth=f"Basic {basic}")
        if status != 200:
            raise BenchError(f"/token answered {status}: {body[:300]!r}")
        return json.loads(body)["token"]

    def request(self, method: str, path: str, body: bytes | None = None, auth: str | None = None) -> tuple[int, bytes]:
        headers = {"Authorization": auth or f"Bearer {self.token}", "Content-Type": "application/json"}
        for attempt in (1, 2):
            conn = self._conn()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()  # a kept-alive connection the server closed: reconnect once
                if attempt == 2:
                    raise

    def json(self, method: str, path: str, payload=None, ok=(200, 201)) -> dict:
        status, body = self.request(method, path, None if payload is None else json.dumps(payload).encode())
        if status not in ok:
            raise BenchError(f"{method} {path} answered {status}: {body[:500]!r}")
        return json.loads(body or b"{}")

    def put_range(self, url: str, path: Path, offset: int, length: int) -> None:
        """PUT bytes [offset, offset+length) of a file to an upload URL, no Authorization (as the SDK)."""
        parts = urllib.parse.urlsplit(url)
        conn = self._conn(parts.netloc)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.putrequest("PUT", target, skip_accept_encoding=True)
        conn.putheader("Content-Length", str(length))
        conn.putheader("Content-Type", "application/octet-stream")
        conn.endheaders()
        with path.open("rb") as file:
            if length:
                conn.sock.sendfile(file, offset, length)
        response = conn.getresponse()
        body = response.read()
        if not 200 <= response.status < 300:
            raise BenchError(f"PUT {target} answered {response.status}: {body[:300]!r}")

    def get_range(self, url: str, fd: int, start: int, end: int) -> None:
        """GET bytes [start, end] of a download URL (one `Range`, as the SDK asks in 512 MiB chunks)
        and write them at their offset of the open file `fd`: read with `readinto` into this
        thread's preallocated IO_BUFFER, one `pwrite` per full buffer. Nothing is trusted here: the
        files are hashed against the originals after the clock stops."""
        parts = urllib.parse.urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        buffer = self.local.__dict__.get("buffer")
        if buffer is None:
            buffer = self.local.buffer = memoryview(bytearray(IO_BUFFER))
        conn = self._conn(parts.netloc)
        conn.request("GET", target, headers={"Range": f"bytes={start}-{end}"})
        response = conn.getresponse()
        if response.status not in (200, 206):
            raise BenchError(f"GET {target} answered {response.status}: {response.read()[:300]!r}")
        received, offset = 0, start
        while True:
            filled = 0
            while filled < IO_BUFFER:
                n = response.readinto(buffer[filled:])
                if not n:
                    break
                filled += n
            if not filled:
                break
            written = 0
            while written < filled:
                written += os.pwrite(fd, buffer[written:filled], offset + written)
            offset += filled
            received += filled
            if filled < IO_BUFFER:
                break
        if received != max(0, end - start + 1):
            raise BenchError(f"GET {target} range {start}-{end}: {received} bytes")


def b64_sha256(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def make_files(folder: Path, count: int, size: int, run_id: str) -> dict[str, tuple[Path, int, str]]:
    """`count` distinct files of `size` random bytes: {relative path: (path, size, base64 sha256)}."""
    block = os.urandom(16 * MiB)
    files = {}
    for index in range(count):
        relative = f"shard-{index:02d}/weights-{index:02d}.bin" if index % 2 else f"weights-{index:02d}.bin"
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        header = f"transfer-bench {run_id} file {index}\n".encode().ljust(4096, b"\0")[:size]
        with path.open("wb") as out:
            out.write(header)
            digest.update(header)
            written = len(header)
            while written < size:
                chunk = memoryview(block)[: min(len(block), size - written)]
                out.write(chunk)
                digest.update(chunk)
                written += len(chunk)
        files[relative] = (path, size, b64_sha256(digest.digest()))
    return files


def restamp(files: dict, tag: str) -> dict:
    """New contents for another round: a new 4 KiB header, so the server's dedup cannot skip a file."""
    fresh = {}
    for index, (relative, (path, size, _sha)) in enumerate(files.items()):
        header = f"transfer-bench {tag} file {index}\n".encode().ljust(4096, b"\0")[:size]
        with path.open("r+b") as file:
            file.write(header)
            file.seek(0)
            digest = hashlib.sha256()
            while chunk := file.read(IO_BUFFER):
                digest.update(chunk)
        fresh[relative] = (path, size, b64_sha256(digest.digest()))
    return fresh


def local_copy(files: dict, folder: Path) -> float:
    """MB/s of shutil.copyfile of every file into `folder` (removed afterwards)."""
    folder.mkdir()
    os.sync()
    started = time.perf_counter()
    for relative, (path, _size, _hash) in files.items():
        shutil.copyfile(path, folder / relative.replace("/", "_"))
    elapsed = time.perf_counter() - started
    shutil.rmtree(folder)
    return sum(size for _p, size, _h in files.values()) / MB / elapsed


def upload(api: Api, files: dict, parallel: int, model: str = MODEL) -> dict:
    """Create the model and upload its version as the SDK does; return timings (seconds)."""
    base = f"/v2/org/{ORG}"
    api.json("POST", f"{base}/models", {
        "name": model, "application": "OTHER", "framework": "PyTorch", "modelFormat": "PyTorch PTH",
        "precision": "FP16", "shortDescription": "transfer benchmark", "labelsV2": [], "publicDatasetUsed": {},
    })
    version = api.json("POST", f"{base}/models/{model}/versions", {"versionId": VERSION})["modelVersion"]
    if version.get("storageVersion") == "V1":
        raise BenchError("the server answered storageVersion V1; the bench speaks V2")
    os.sync()
    started = time.perf_counter()
    exists = api.json("POST", f"{base}/models/{model}/files?page-size=100",
                      {"files": [{"sha256": h} for _p, _s, h in files.values()]})["files"]
    present = {entry["sha256"] for entry in exists if entry.get("exists")}
    if present:
        raise BenchError(f"{len(present)} of the fresh files already exist on the server")

    def one_file(item) -> None:
        relative, (path, size, sha) = item
        common = {"name": model, "version": VERSION, "artifactType": "models", "filePath": relative}
        start = api.json("POST", f"{base}/files/multipart", {**common, "size": size, "sha256": sha})
        for index, url in enumerate(start["urls"]):
            offset = index * PARTITION_SIZE
            api.put_range(url, path, offset, min(PARTITION_SIZE, size - offset))
        api.json("PUT", f"{base}/files/multipart", {**common, "uploadID": start["uploadID"], "sha256": sha},
                 ok=(200, 201, 400))  # 400: "already completed", accepted by the SDK too

    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(one_file, files.items()))
    parts_done = time.perf_counter()
    api.json("POST", f"{base}/files/commit?upload-pending=True", {
        "name": model, "artifactType": "models", "version": VERSION, "baseVersion": None,
        "files": [{"commitType": "ADDITION", "filePath": rel, "sha256": sha} for rel, (_p, _s, sha) in files.items()],
    })
    api.json("PATCH", f"{base}/models/{model}/versions/{VERSION}", {"status": "UPLOAD_COMPLETE"})
    patched = time.perf_counter()
    while True:
        answer = api.json("GET", f"{base}/models/{model}/versions/{VERSION}")["modelVersion"]
        status = answer["status"]
        if status == "UPLOAD_COMPLETE":
            break
        if status != "UPLOAD_PENDING":
            raise BenchError(f"the version ended in status {status}: {answer.get('failureReason')}")
        if time.perf_counter() - patched > 600:
            raise BenchError("the version did not reach UPLOAD_COMPLETE within 10 minutes")
        time.sleep(0.05)
    complete = time.perf_counter()
    return {"parts_s": parts_done - started, "client_done_s": patched - started, "complete_s": complete - started}


def download(api: Api, files: dict, folder: Path, parallel: int, model: str = MODEL) -> dict:
    base = f"/v2/org/{ORG}"
    os.sync()
    started = time.perf_counter()
    if api.json("GET", f"{base}/models/{model}/versions/{VERSION}")["modelVersion"]["status"] != "UPLOAD_COMPLETE":
        raise BenchError("the version is not UPLOAD_COMPLETE")
    listed = api.json("GET", f"{base}/models/{model}/versions/{VERSION}/files?page-size=1000")
    sizes = {entry["path"]: entry["sizeInBytes"] for entry in listed["modelFiles"]}
    urls = api.json("GET", f"{base}/models/{model}/{VERSION}/files")
    pairs = list(zip(urls["filepath"], urls["urls"]))
    if sorted(path for path, _url in pairs) != sorted(files):
        raise BenchError(f"the download listing names {sorted(p for p, _u in pairs)}, not {sorted(files)}")
    # Every file preallocated (sparse) and opened once; its 512 MiB Range chunks are separate
    # tasks, so a large file is fetched over several connections at once like the SDK does.
    fds, tasks = {}, []
    try:
        for path, url in pairs:
            dest = folder / path
            dest.parent.mkdir(parents=True, exist_ok=True)
            fds[path] = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.ftruncate(fds[path], sizes[path])
            for start in range(0, max(sizes[path], 1), DOWNLOAD_CHUNK):
                tasks.append((url, fds[path], start, min(start + DOWNLOAD_CHUNK, sizes[path]) - 1))
        with ThreadPoolExecutor(parallel) as pool:
            list(pool.map(lambda task: api.get_range(*task), tasks))
    finally:
        for fd in fds.values():
            os.close(fd)
    return {"download_s": time.perf_counter() - started}


def verify(files: dict, folder: Path) -> None:
    for relative, (_path, size, sha) in files.items():
        got = folder / relative
        digest = hashlib.sha256()
        with got.open("rb") as file:
            while chunk := file.read(IO_BUFFER):
                digest.update(chunk)
        if got.stat().st_size != size or b64_sha256(digest.digest()) != sha:
            raise BenchError(f"{relative} came back different ({got.stat().st_size} bytes)")


# --- report -------------------------------------------------------------------------------------


def cpu_now(server: "Server") -> dict:
    return {"server": tree_cpu(server.web.pid), "worker": tree_cpu(server.worker.pid if server.worker else None),
            "client": sum(psutil.Process().cpu_times()[:2])}  # this process only: the servers are its children


def cpu_since(before: dict, server: "Server") -> dict:
    after = cpu_now(server)
    return {name: round(after[name] - before[name], 2) for name in before}


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu, "nproc": os.cpu_count(), "mem_gib": round(psutil.virtual_memory().total / 2**30),
        "kernel": platform.release(), "python": platform.python_version(),
    }


def rows(r: dict) -> list[list[str]]:
    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    copy = r["copy_MBps"]
    up, down = r["upload_MBps"], r["download_MBps"]
    rss = r["server_peak_rss_MB"]
    return [
        ["local copy, shutil.copyfile (MB/s, median)", f"{copy:.0f}", "", ""],
        ["upload until UPLOAD_COMPLETE (MB/s)", f"{up:.0f}", f"{up / copy:.2f}x (>= {TARGETS['upload']}x)",
         verdict(up / copy >= TARGETS["upload"])],
        ["  of which part PUTs done (MB/s)", f"{r['upload_parts_MBps']:.0f}", f"{r['upload_parts_MBps'] / copy:.2f}x", ""],
        ["  finalisation after the client's PATCH (s)", f"{r['finalise_s']:.2f}", "", ""],
        ["  CPU s: gunicorn / Celery worker / bench client", f"{r['cpu_upload_server_s']:.1f} / {r['cpu_upload_worker_s']:.1f} / {r['cpu_upload_client_s']:.1f}", "", ""],
        ["download (MB/s)", f"{down:.0f}", f"{down / copy:.2f}x (>= {TARGETS['download']}x)",
         verdict(down / copy >= TARGETS["download"])],
        ["  CPU s: gunicorn / bench client", f"{r['cpu_download_server_s']:.1f} / {r['cpu_download_client_s']:.1f}", "", ""],
        ["server peak RSS, gunicorn master + workers (MB)", f"{rss:.0f}", f"< {TARGETS['rss_MB']} MB",
         verdict(rss < TARGETS["rss_MB"])],
        ["  largest single gunicorn process (MB)", f"{r['server_largest_process_MB']:.0f}", "", ""],
        ["  idle, before the transfers (MB)", f"{r['server_idle_rss_MB']:.0f}", "", ""],
        ["Celery worker peak RSS, all processes (MB)", f"{r.get('worker_peak_rss_MB', 0):.0f}", "", ""],
    ]


def render(table: list[list[str]], markdown: bool) -> str:
    head = ["metric", "value", "vs target", "verdict"]
    if markdown:
        return "\n".join(["| " + " | ".join(head) + " |", "|---|---:|---|---|"]
                         + ["| " + " | ".join(row) + " |" for row in table])
    widths = [max(len(row[i]) for row in [head, *table]) for i in range(4)]
    return "\n".join("  ".join(cell.ljust(widths[i]) if i != 1 else cell.rjust(widths[i]) for i, cell in enumerate(row))
                     for row in [head, ["-" * w for w in widths], *table])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="8 files x 8 MiB (a smoke run)")
    ap.add_argument("--files", type=int, default=8, help="number of files (default 8)")
    ap.add_argument("--file-mib", type=int, help="size of each file, MiB (default 256, i.e. 2 GiB in all; quick 8)")
    ap.add_argument("--parallel", type=int, default=8, help="files transferred at once (default 8)")
    ap.add_argument("--rounds", type=int, default=3, help="upload+download rounds, fresh contents each; medians shown (default 3; quick 1)")
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB),
                    help=f"PostgreSQL database the bench drops and re-creates (default {DEFAULT_DB})")
    ap.add_argument("--redis-url", default=DEFAULT_REDIS, help=f"Redis database for Celery, flushed (default {DEFAULT_REDIS})")
    ap.add_argument("--eager", action="store_true", help="no Celery worker: tasks run in the web process")
    ap.add_argument("--work-dir", help="where the files, the blob store and the downloads go (default: a temp dir)")
    ap.add_argument("--markdown", help="write the table and the run's details (markdown) here")
    ap.add_argument("--json-out", help="write the raw results here")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, storage)")
    a = ap.parse_args(argv)
    a.file_mib = a.file_mib or (8 if a.quick else 256)
    if a.quick and "--rounds" not in " ".join(argv if argv is not None else sys.argv[1:]):
        a.rounds = 1
    size = a.file_mib * MiB
    run_id = f"{int(time.time())}-{os.getpid()}"
    tmp = Path(tempfile.mkdtemp(prefix="transfer-bench-", dir=a.work_dir))
    server = Server(tmp, a)
    sampler = None
    result: dict = {"files": a.files, "file_bytes": size, "total_bytes": a.files * size}
    failed = None
    try:
        key = server.start()
        log(f"server on {server.url} (gunicorn pid {server.web.pid}{'' if a.eager else f', celery pid {server.worker.pid}'})")
        roots = {"server": server.web.pid}
        if server.worker:
            roots["worker"] = server.worker.pid
        sampler = RssSampler(roots)
        sampler.start()
        log(f"writing {a.files} files x {a.file_mib} MiB")
        files = make_files(tmp / "source", a.files, size, run_id)
        total = a.files * size
        api = Api(server.url, key)
        time.sleep(0.5)  # an idle sample of the started server

        runs = []
        for round_no in range(1, a.rounds + 1):
            if round_no > 1:
                files = restamp(files, f"{run_id} round {round_no}")
            model = f"{MODEL}{round_no}"
            run = {"copy_MBps": [local_copy(files, tmp / "copy")], "load_before": os.getloadavg()[0]}
            cpu = cpu_now(server)
            sampler.phase = "upload"
            up = upload(api, files, a.parallel, model)
            sampler.phase = "between"
            run.update(up)
            run["cpu_upload_s"] = cpu_since(cpu, server)
            run["upload_MBps"] = total / MB / up["complete_s"]
            run["upload_parts_MBps"] = total / MB / up["parts_s"]
            run["finalise_s"] = up["complete_s"] - up["client_done_s"]
            run["copy_MBps"].append(local_copy(files, tmp / "copy"))
            sampler.phase = "download"
            cpu = cpu_now(server)
            down = download(api, files, tmp / "download", a.parallel, model)
            sampler.phase = "between"
            run.update(down)
            run["cpu_download_s"] = cpu_since(cpu, server)
            run["download_MBps"] = total / MB / down["download_s"]
            verify(files, tmp / "download")
            shutil.rmtree(tmp / "download")
            run["copy_MBps"].append(local_copy(files, tmp / "copy"))
            run["load_after"] = os.getloadavg()[0]
            log(f"round {round_no}: copy {'/'.join(f'{c:.0f}' for c in run['copy_MBps'])} MB/s, "
                f"upload {run['upload_MBps']:.0f} MB/s (parts {up['parts_s']:.2f}s, UPLOAD_COMPLETE {up['complete_s']:.2f}s), "
                f"download {run['download_MBps']:.0f} MB/s, load {run['load_before']:.1f}->{run['load_after']:.1f}")
            runs.append(run)
        result["runs"] = runs
        result["copy_runs_MBps"] = [c for run in runs for c in run["copy_MBps"]]
        result["copy_MBps"] = statistics.median(result["copy_runs_MBps"])
        for name in ("upload_MBps", "upload_parts_MBps", "finalise_s", "download_MBps"):
            result[name] = statistics.median(run[name] for run in runs)
        for phase in ("upload", "download"):
            for who in ("server", "worker", "client"):
                result[f"cpu_{phase}_{who}_s"] = statistics.median(run[f"cpu_{phase}_s"][who] for run in runs)
        result["load_avg"] = [round(run[k], 1) for run in runs for k in ("load_before", "load_after")]
    except (BenchError, OSError, KeyError, ValueError) as exc:
        failed = f"{type(exc).__name__}: {exc}"
        log("FAILED:", failed)
    finally:
        try:
            if sampler:
                sampler.stop()
        finally:
            server.stop()

    if sampler:
        peaks = sampler.peaks
        transfer = [peaks.get(("server", phase), (0, 0)) for phase in ("upload", "download")]
        result["server_idle_rss_MB"] = peaks.get(("server", "idle"), (0, 0))[0]
        result["server_peak_rss_MB"] = max(total for total, _l in transfer)
        result["server_largest_process_MB"] = max(largest for _t, largest in transfer)
        result["rss_by_phase_MB"] = {f"{name}:{phase}": value for (name, phase), value in peaks.items()}
        if ("worker", "upload") in peaks:
            result["worker_peak_rss_MB"] = max(peaks.get(("worker", p), (0, 0))[0] for p in ("upload", "between", "download"))
    meta = machine()
    command = "python bench/transfer_bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
    if failed is None:
        table = rows(result)
        print()
        print(render(table, markdown=False))
        if a.markdown:
            Path(a.markdown).write_text("\n".join([
                f"Measured {meta['date_utc']} on {meta['cpu']}, nproc {meta['nproc']}, {meta['mem_gib']} GiB RAM, "
                f"kernel {meta['kernel']}, Python {meta['python']}.", "",
                f"Command: `{command.strip()}`", "",
                f"- {a.files} files x {a.file_mib} MiB = {result['total_bytes'] / MB:.0f} MB, {a.parallel} at a time; "
                f"gunicorn {' '.join(GUNICORN_ARGS)}; {'eager tasks' if a.eager else 'Celery worker ' + ' '.join(CELERY_ARGS)}",
                f"- {a.rounds} round(s), medians shown; per round (MB/s): "
                + "; ".join(f"copy {'/'.join(f'{c:.0f}' for c in run['copy_MBps'])}, upload {run['upload_MBps']:.0f}, "
                            f"download {run['download_MBps']:.0f}" for run in result["runs"]),
                f"- load average (1 min) before/after each round: {result['load_avg']} on {meta['nproc']} CPUs", "",
                render(table, markdown=True), "",
            ]))
    if a.json_out:
        Path(a.json_out).write_text(json.dumps({"meta": meta, "args": vars(a), "result": result, "failed": failed},
                                               indent=1, default=str))
    if a.keep:
        log(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
