"""Client side of the registry benchmark: the Docker Registry HTTP API V2 spoken directly.

Adapted from the shared harness (../shared/bench/registry_bench.py) and trimmed to what
bench/run.py measures: big-blob push (monolithic, chunked, streamed) and pull, an image of many
small layers pushed and pulled docker-style, and manifest GET load (wrk when installed, asyncio
otherwise).  Python standard library only.  Registry auth: none, Basic, or the docker token flow
(a 401 `Bearer realm=...` challenge is answered by fetching a token from the realm with Basic
credentials, cached per scope).  The registry process tree's RSS is sampled every 20 ms.

Sizes: MB = 10^6 bytes, MiB = 2^20 bytes; throughput is MB/s.
"""

import base64
import hashlib
import http.client
import json
import mmap
import os
import platform
import queue
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

MB = 1_000_000
MiB = 1 << 20
KiB = 1 << 10
UA = "registry-bench/1.0 (python-http.client)"
TRAILER = 4096  # bytes of fresh random data at the end of every big blob
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
MEDIA_TYPES = {  # --manifest-format -> (manifest, config, layer) media types
    "oci": (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER),
    "docker": ("application/vnd.docker.distribution.manifest.v2+json",
               "application/vnd.docker.container.image.v1+json",
               "application/vnd.docker.image.rootfs.diff.tar.gzip"),
}
MANIFEST_FORMAT = ["oci"]  # set from --manifest-format
ACCEPT_MANIFESTS = ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])


def gunicorn_args() -> list[str]:
    """The web process's worker settings exactly as scripts/serve web sets them (scripts/lib.sh
    web_gunicorn_args: the worker class, one worker per core, at most 8, the
    WEB_CONCURRENCY/GUNICORN_THREADS/GUNICORN_TIMEOUT overrides, the access logger)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return subprocess.run(["bash", "-c", 'source "$1/scripts/lib.sh" && web_gunicorn_args', "-", root],
                          capture_output=True, text=True, check=True).stdout.splitlines()

def log(*a):
    print(time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# --------------------------------------------------------------------------
# Servers the drivers start (bench/run.py, bench/transfer_bench.py)
# --------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_database(url: str) -> None:
    import psycopg  # from the project's venv

    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def stop(proc: "subprocess.Popen | None") -> None:
    """SIGTERM, then SIGKILL after 20 s."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --------------------------------------------------------------------------
# HTTP client with registry auth
# --------------------------------------------------------------------------

def parse_www_authenticate(value):
    """'Bearer realm="x",service="y",scope="a:b:c,d"' -> ('bearer', {...})."""
    value = (value or "").strip()
    if not value:
        return None, {}
    scheme, _, rest = value.partition(" ")
    params = {}
    for m in re.finditer(r'([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))', rest):
        params[m.group(1).lower()] = m.group(2) if m.group(2) is not None else m.group(3)
    return scheme.lower(), params


class Auth:
    """Shared (thread-safe) credentials and token cache for one target."""

    def __init__(self, user, password, insecure, timeout):
        self.user = user
        self.password = password or ""
        self.insecure = insecure
        self.timeout = timeout
        self.mode = None  # None | "basic" | "bearer"
        self.tokens = {}  # caller scope -> token
        self.lock = threading.Lock()
        self.token_fetches = 0
        self.token_fetch_s = 0.0

    def _basic(self):
        raw = f"{self.user}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def header(self, scope):
        if self.mode == "basic":
            return self._basic()
        if self.mode == "bearer":
            tok = self.tokens.get(scope or "")
            return "Bearer " + tok if tok else None
        return None

    def challenge(self, www, scope):
        """Handle a 401.  Returns True when the request should be retried."""
        scheme, params = parse_www_authenticate(www)
        if scheme == "basic":
            if self.user is None:
                return False
            with self.lock:
                self.mode = "basic"
            return True
        if scheme != "bearer" or "realm" not in params:
            return False
        scopes = []
        for s in (params.get("scope"), scope):
            for part in (s or "").split(" "):
                if part and part not in scopes:
                    scopes.append(part)
        q = []
        if params.get("service"):
            q.append(("service", params["service"]))
        q += [("scope", s) for s in scopes]
        if self.user is not None:
            q.append(("account", self.user))
        realm = params["realm"]
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(q)
        req = urllib.request.Request(url, headers={"User-Agent": UA})
        if self.user is not None:
            req.add_header("Authorization", self._basic())
        ctx = None
        if url.startswith("https") and self.insecure:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        t0 = time.perf_counter()
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=ctx) as r:
                data = json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            raise BenchError(f"token request {realm} -> HTTP {e.code}: {e.read()[:200]!r}") from e
        tok = data.get("token") or data.get("access_token")
        if not tok:
            raise BenchError(f"token endpoint {realm} returned no token: {str(data)[:200]}")
        with self.lock:
            self.token_fetches += 1
            self.token_fetch_s += time.perf_counter() - t0
            self.tokens[scope or ""] = tok
            self.mode = "bearer"
        return True


class Resp:
    __slots__ = ("status", "headers", "value", "url")

    def __init__(self, status, headers, value, url):
        self.status, self.headers, self.value, self.url = status, headers, value, url

    def h(self, name):
        return self.headers.get(name)


def sendmsg_all(sock, bufs):
    """Gather-write a list of buffers (falls back to sendall for TLS sockets)."""
    if isinstance(sock, ssl.SSLSocket):
        for b in bufs:
            sock.sendall(b)
        return
    total = sum(len(b) for b in bufs)
    sent = sock.sendmsg(bufs)
    if sent >= total:
        return
    for b in bufs:
        if sent >= len(b):
            sent -= len(b)
            continue
        sock.sendall(memoryview(b)[sent:])
        sent = 0


class Client:
    """One keep-alive connection per origin; not thread-safe (one per thread)."""

    def __init__(self, target):
        self.t = target
        self.auth = target.auth
        self.timeout = target.timeout
        self._conns = {}

    def close(self):
        for c in self._conns.values():
            c.close()
        self._conns.clear()

    def _conn(self, scheme, netloc):
        key = (scheme, netloc)
        c = self._conns.get(key)
        if c is None:
            if scheme == "https":
                ctx = ssl.create_default_context()
                if self.t.insecure:
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                c = http.client.HTTPSConnection(netloc, timeout=self.timeout, context=ctx,
                                                blocksize=MiB)
            else:
                c = http.client.HTTPConnection(netloc, timeout=self.timeout, blocksize=MiB)
            self._conns[key] = c
        if c.sock is None:
            c.connect()
            c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return c

    @staticmethod
    def _send(conn, method, path, headers, body):
        if body is None or isinstance(body, (bytes, bytearray, memoryview)):
            conn.request(method, path, body=body, headers=headers)
        else:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v)
            if body.length is None:
                conn.putheader("Transfer-Encoding", "chunked")
            else:
                conn.putheader("Content-Length", str(body.length))
            conn.endheaders()
            body.send(conn.sock)
        return conn.getresponse()

    def request(self, method, url, headers=None, body=None, scope=None, consume=None,
                follow=True):
        """Send a request; returns Resp.  consume(resp) reads a 2xx body (default:
        read all into bytes).  401 challenges and redirects (GET/HEAD) are handled."""
        url = urllib.parse.urljoin(self.t.base, url)
        auth_retried = conn_retried = False
        redirects = 0
        while True:
            p = urllib.parse.urlsplit(url)
            same_origin = (p.scheme, p.netloc) == (self.t.scheme, self.t.netloc)
            h = {"User-Agent": UA}
            if headers:
                h.update(headers)
            if same_origin:
                ah = self.auth.header(scope)
                if ah:
                    h["Authorization"] = ah
            path = (p.path or "/") + ("?" + p.query if p.query else "")
            conn = self._conn(p.scheme, p.netloc)
            try:
                resp = self._send(conn, method, path, h, body)
            except (ConnectionError, http.client.RemoteDisconnected,
                    http.client.BadStatusLine, http.client.CannotSendRequest,
                    http.client.ResponseNotReady) as e:
                conn.close()
                if conn_retried:
                    raise BenchError(f"{method} {url}: connection failed twice: {e!r}") from e
                conn_retried = True
                continue
            st = resp.status
            if st == 401 and same_origin and not auth_retried:
                www = resp.getheader("WWW-Authenticate", "")
                resp.read()
                if self.auth.challenge(www, scope):
                    auth_retried = True
                    continue
            elif (follow and st in (301, 302, 303, 307, 308) and method in ("GET", "HEAD")
                  and resp.getheader("Location")):
                loc = resp.getheader("Location")
                resp.read()
                redirects += 1
                if redirects > 5:
                    raise BenchError(f"{method} {url}: too many redirects")
                url = urllib.parse.urljoin(url, loc)
                continue
            if method != "HEAD" and consume is not None and 200 <= st < 300:
                value = consume(resp)
            else:
                value = resp.read()
            if resp.will_close:
                conn.close()
            return Resp(st, resp.headers, value, url)


def expect(r, *codes, what=""):
    if r.status not in codes:
        body = r.value if isinstance(r.value, (bytes, bytearray)) else b""
        raise BenchError(f"{what or r.url}: HTTP {r.status} (expected {codes}): {bytes(body[:300])!r}")
    return r


def add_digest(location, digest):
    sep = "&" if "?" in location else "?"
    return location + sep + "digest=" + urllib.parse.quote(digest, safe="")


def consume_hash(verify, bufsize=MiB):
    def consume(resp):
        buf = bytearray(bufsize)
        mv = memoryview(buf)
        h = hashlib.sha256() if verify else None
        total = 0
        while True:
            n = resp.readinto(buf)
            if not n:
                break
            if h is not None:
                h.update(mv[:n])
            total += n
        return total, ("sha256:" + h.hexdigest()) if h is not None else None
    return consume


# --------------------------------------------------------------------------
# big blob data (cached file + per-push random trailer)
# --------------------------------------------------------------------------

class BigBlob:
    def __init__(self, cache_dir, size):
        if size <= TRAILER:
            raise SystemExit("--big-mib too small")
        self.size = size
        os.makedirs(cache_dir, exist_ok=True)
        self.path = os.path.join(cache_dir, f"random-{size}.bin")
        if not (os.path.exists(self.path) and os.path.getsize(self.path) == size):
            log(f"generating {size / MiB:.0f} MiB of random data in {self.path}")
            tmp = self.path + ".tmp"
            with open(tmp, "wb") as f:
                left = size
                while left:
                    n = min(left, 16 * MiB)
                    f.write(os.urandom(n))
                    left -= n
            os.replace(tmp, self.path)
        self.f = open(self.path, "rb")
        self.mm = mmap.mmap(self.f.fileno(), 0, access=mmap.ACCESS_READ)
        t0 = time.perf_counter()
        h = hashlib.sha256()
        mv = memoryview(self.mm)
        for off in range(0, size - TRAILER, 64 * MiB):
            h.update(mv[off:min(off + 64 * MiB, size - TRAILER)])
        del mv
        self.base_hash = h
        log(f"hashed cached blob prefix in {time.perf_counter() - t0:.2f}s")

    def variant(self):
        return BlobVariant(self, os.urandom(TRAILER))


class BlobVariant:
    """The cached data with a fresh random 4 KiB trailer: a brand-new blob."""

    def __init__(self, blob, trailer):
        self.blob = blob
        self.size = blob.size
        self.trailer = trailer
        h = blob.base_hash.copy()
        h.update(trailer)
        self.digest = "sha256:" + h.hexdigest()
        self.split = blob.size - TRAILER

    def view(self, a, b):
        if b <= self.split:
            return memoryview(self.blob.mm)[a:b]
        if a >= self.split:
            return memoryview(self.trailer)[a - self.split:b - self.split]
        return bytes(self.blob.mm[a:self.split]) + self.trailer[:b - self.split]

    def send(self, sock, a, count, frame=None):
        b = a + count
        if frame is None:
            if a < self.split:
                n = min(b, self.split) - a
                if isinstance(sock, ssl.SSLSocket):
                    for off in range(a, a + n, MiB):
                        sock.sendall(self.view(off, min(off + MiB, a + n)))
                else:
                    sock.sendfile(self.blob.f, offset=a, count=n)
            if b > self.split:
                sock.sendall(self.trailer[max(a, self.split) - self.split:b - self.split])
            return
        off = a
        while off < b:
            n = min(frame, b - off)
            sendmsg_all(sock, [b"%x\r\n" % n, self.view(off, off + n), b"\r\n"])
            off += n
        sock.sendall(b"0\r\n\r\n")


class RangeBody:
    def __init__(self, variant, offset, count, frame=None):
        self.variant, self.offset, self.count, self.frame = variant, offset, count, frame
        self.length = None if frame else count

    def send(self, sock):
        self.variant.send(sock, self.offset, self.count, self.frame)


# --------------------------------------------------------------------------
# registry process monitor (RSS of process tree, CPU time)
# --------------------------------------------------------------------------

def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def proc_tree(pid):
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        st = _read(f"/proc/{d}/stat")
        if not st:
            continue
        try:
            ppid = int(st.rsplit(b")", 1)[1].split()[1])
        except (IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _summed_kib(pids, filename, field):
    """`field` (a "Name: <n> kB" line of /proc/<pid>/<filename>) summed over `pids`."""
    tot = 0
    for p in pids:
        for line in _read(f"/proc/{p}/{filename}").splitlines():
            if line.startswith(field):
                tot += int(line.split()[1])
                break
    return tot


def rss_kib(pids):
    return _summed_kib(pids, "status", b"VmRSS:")


def pss_kib(pids):
    """Proportional set size summed over `pids`: a page shared by n processes counts 1/n in each, so
    with several gunicorn workers (or a preloading master) the sum is the tree's real footprint,
    where summed RSS counts every shared page once per process. Reading smaps_rollup walks the
    process's page tables: sampled less often than RSS (ProcMonitor)."""
    return _summed_kib(pids, "smaps_rollup", b"Pss:")


def cpu_ticks(pids):
    tot = 0
    for p in pids:
        st = _read(f"/proc/{p}/stat")
        if st:
            f = st.rsplit(b")", 1)[1].split()
            tot += int(f[11]) + int(f[12])  # utime, stime
    return tot


class ProcMonitor:
    """Peak RSS (every `interval`) and peak PSS (every `pss_every` intervals) of a process tree."""

    def __init__(self, pid, interval=0.02, pss_every=10):
        if not os.path.exists(f"/proc/{pid}"):
            raise SystemExit(f"--pid {pid}: no such process")
        self.pid = pid
        self.interval = interval
        self.tree = proc_tree(pid)
        self.tree_ts = time.monotonic()
        self.peak = self.peak_pss = 0
        self.pss_every = pss_every
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.hz = os.sysconf("SC_CLK_TCK")
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self):
        tick = 0
        while not self.stop_ev.wait(self.interval):
            now = time.monotonic()
            if now - self.tree_ts > 0.5:
                self.tree = proc_tree(self.pid)
                self.tree_ts = now
            r = rss_kib(self.tree)
            tick += 1
            pss = pss_kib(self.tree) if tick % self.pss_every == 0 else 0
            with self.lock:
                self.peak = max(self.peak, r)
                self.peak_pss = max(self.peak_pss, pss)

    def rss_mib(self):
        return rss_kib(proc_tree(self.pid)) / 1024

    def pss_mib(self):
        return pss_kib(proc_tree(self.pid)) / 1024

    def begin(self):
        tree = proc_tree(self.pid)
        with self.lock:
            self.peak = rss_kib(tree)
            self.peak_pss = pss_kib(tree)
        return cpu_ticks(tree)

    def end(self, ticks0):
        """(peak RSS MiB, peak PSS MiB, CPU seconds) since begin()."""
        tree = proc_tree(self.pid)
        r, pss = rss_kib(tree), pss_kib(tree)
        with self.lock:
            peak, peak_pss = max(self.peak, r), max(self.peak_pss, pss)
        return peak / 1024, peak_pss / 1024, (cpu_ticks(tree) - ticks0) / self.hz

    def stop(self):
        self.stop_ev.set()


class Phase:
    """Context manager: wall time, client CPU, registry peak RSS and CPU (and the CPU of the
    storage server's process tree, when the target has one: the S3 server both registries share)."""

    def __init__(self, target):
        self.mon = target.mon
        self.storage_pid = target.storage_pid

    def _storage_ticks(self):
        return cpu_ticks(proc_tree(self.storage_pid)) if self.storage_pid else 0

    def __enter__(self):
        self.ticks0 = self.mon.begin() if self.mon else None
        self.storage0 = self._storage_ticks()
        self.cpu0 = time.process_time()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t0
        self.client_cpu = time.process_time() - self.cpu0
        self.storage_cpu = (self._storage_ticks() - self.storage0) / os.sysconf("SC_CLK_TCK")
        if self.mon:
            self.peak_rss, self.peak_pss, self.server_cpu = self.mon.end(self.ticks0)
        else:
            self.peak_rss = self.peak_pss = self.server_cpu = None
        return False

    def extra(self, prefix):
        d = {f"{prefix}_client_cpu_s": self.client_cpu}
        if self.mon:
            d[f"{prefix}_peak_rss_MiB"] = self.peak_rss
            d[f"{prefix}_peak_pss_MiB"] = self.peak_pss
            d[f"{prefix}_server_cpu_s"] = self.server_cpu
        if self.storage_pid:
            d[f"{prefix}_storage_cpu_s"] = self.storage_cpu
        return d


# --------------------------------------------------------------------------
# targets
# --------------------------------------------------------------------------

class Target:
    def __init__(self, name, url, user=None, password=None, pid=None, insecure=False,
                 timeout=600.0, storage_pid=None):
        self.name = name
        url = url.rstrip("/")
        p = urllib.parse.urlsplit(url)
        if p.scheme not in ("http", "https") or not p.netloc:
            raise SystemExit(f"bad registry URL {url!r}")
        self.url = url
        self.base = url + "/"
        self.scheme, self.netloc = p.scheme, p.netloc
        self.insecure = insecure
        self.timeout = timeout
        self.auth = Auth(user, password, insecure, timeout)
        self.pid = pid
        self.storage_pid = storage_pid
        self.mon = ProcMonitor(pid) if pid else None
        self.client = Client(self)
        self.state = {"big": [], "setup": set()}

    def new_client(self):
        return Client(self)


def parse_target_spec(spec, timeout):
    kv = {}
    for part in spec.split(","):
        if not part:
            continue
        k, sep, v = part.partition("=")
        if not sep:
            raise SystemExit(f"--target: expected key=value, got {part!r}")
        kv[k.strip()] = v
    if "url" not in kv:
        raise SystemExit(f"--target {spec!r}: url= is required")
    pw = kv.get("password")
    if "password_env" in kv:
        pw = os.environ.get(kv["password_env"])
    pid = kv.get("pid")
    if "pidfile" in kv:
        with open(kv["pidfile"]) as f:
            pid = f.read().strip()
    return Target(kv.get("name") or kv["url"], kv["url"], kv.get("user"), pw,
                  int(pid) if pid else None, kv.get("insecure", "0") in ("1", "true", "yes"),
                  timeout)


# --------------------------------------------------------------------------
# helpers for pushing images
# --------------------------------------------------------------------------

def scope_for(name, push=True):
    return f"repository:{name}:{'pull,push' if push else 'pull'}"


def push_blob(client, name, data, digest, check_exists=True):
    """Docker-style single-blob push: HEAD, POST, PUT ?digest= with the body."""
    scope = scope_for(name)
    if check_exists:
        r = client.request("HEAD", f"/v2/{name}/blobs/{digest}", scope=scope)
        if r.status == 200:
            return False
        if r.status != 404:
            expect(r, 404, what=f"HEAD blob {digest[:19]}")
    r = expect(client.request("POST", f"/v2/{name}/blobs/uploads/", scope=scope), 202,
               what="POST upload")
    loc = r.h("Location")
    if not loc:
        raise BenchError("POST upload: no Location header")
    loc = urllib.parse.urljoin(r.url, loc)
    r = client.request("PUT", add_digest(loc, digest), body=data, scope=scope,
                       headers={"Content-Type": "application/octet-stream"})
    expect(r, 201, what=f"PUT blob {digest[:19]}")
    return True


def make_image(layers, fmt=None):
    """layers: list of (bytes, digest).  Returns (config_bytes, config_digest, manifest_bytes)."""
    cfg = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [d for _, d in layers]},
        "history": [{"created_by": "registry-bench"} for _ in layers],
    }, separators=(",", ":")).encode()
    cfg_d = "sha256:" + hashlib.sha256(cfg).hexdigest()
    mt_man, mt_cfg, mt_layer = MEDIA_TYPES[fmt or MANIFEST_FORMAT[0]]
    man = json.dumps({
        "schemaVersion": 2,
        "mediaType": mt_man,
        "config": {"mediaType": mt_cfg, "digest": cfg_d, "size": len(cfg)},
        "layers": [{"mediaType": mt_layer, "digest": d, "size": len(b)} for b, d in layers],
    }, separators=(",", ":")).encode()
    return cfg, cfg_d, man


def put_manifest(client, name, ref, man):
    r = client.request("PUT", f"/v2/{name}/manifests/{ref}", body=man, scope=scope_for(name),
                       headers={"Content-Type": MEDIA_TYPES[MANIFEST_FORMAT[0]][0]})
    return expect(r, 201, what=f"PUT manifest {name}:{ref}")


def ensure_tiny_image(t, name, tag):
    """Push a 1-layer image once per target/process (setup, not measured)."""
    key = (name, tag)
    if key in t.state["setup"]:
        return t.state.get(("man", name))
    layer = os.urandom(1024)
    layers = [(layer, "sha256:" + hashlib.sha256(layer).hexdigest())]
    cfg, cfg_d, man = make_image(layers)
    for data, d in layers + [(cfg, cfg_d)]:
        push_blob(t.client, name, data, d)
    put_manifest(t.client, name, tag, man)
    t.state["setup"].add(key)
    t.state[("man", name)] = man
    return man


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    k = (len(sorted_vals) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (k - lo)


# --------------------------------------------------------------------------
# benchmarks: each returns {metric: value}
# --------------------------------------------------------------------------

def bench_push(t, a, mode, rnd):
    name = f"{a.repo}/big"
    scope = scope_for(name)
    c = t.client
    v = a.big.variant()
    size = v.size
    # make sure a token for this scope exists before the big body is sent
    c.request("GET", f"/v2/{name}/tags/list", scope=scope)
    ct = {"Content-Type": "application/octet-stream"}
    with Phase(t) as ph:
        r = expect(c.request("POST", f"/v2/{name}/blobs/uploads/", scope=scope), 202,
                   what="POST upload")
        if not r.h("Location"):
            raise BenchError("POST upload: no Location header")
        loc = urllib.parse.urljoin(r.url, r.h("Location"))
        if mode == "monolithic":
            r = c.request("PUT", add_digest(loc, v.digest), headers=ct, scope=scope,
                          body=RangeBody(v, 0, size))
        elif mode == "chunked":
            step = a.chunk_mib * MiB
            off = 0
            while off < size:
                n = min(step, size - off)
                hdr = dict(ct, **{"Content-Range": f"{off}-{off + n - 1}"})
                r = expect(c.request("PATCH", loc, headers=hdr, scope=scope,
                                     body=RangeBody(v, off, n)), 202, what=f"PATCH @{off}")
                loc = urllib.parse.urljoin(r.url, r.h("Location") or loc)
                off += n
            r = c.request("PUT", add_digest(loc, v.digest), scope=scope)
        elif mode == "streamed":
            r = expect(c.request("PATCH", loc, headers=ct, scope=scope,
                                 body=RangeBody(v, 0, size, frame=a.stream_frame_kib * KiB)),
                       202, what="PATCH (chunked transfer-encoding)")
            loc = urllib.parse.urljoin(r.url, r.h("Location") or loc)
            r = c.request("PUT", add_digest(loc, v.digest), scope=scope)
        else:
            raise BenchError(f"unknown push mode {mode}")
        expect(r, 201, what=f"PUT ?digest ({mode})")
    warn = []
    if r.h("Docker-Content-Digest") not in (None, v.digest):
        warn.append(f"Docker-Content-Digest {r.h('Docker-Content-Digest')} != {v.digest}")
    h = expect(c.request("HEAD", f"/v2/{name}/blobs/{v.digest}", scope=scope), 200,
               what="HEAD pushed blob")
    if h.h("Content-Length") != str(size):
        warn.append(f"HEAD Content-Length {h.h('Content-Length')} != {size}")
    t.state["big"].append(v.digest)
    out = {f"push_{mode}_MBps": size / ph.wall / MB}
    out.update(ph.extra(f"push_{mode}"))
    if warn:
        out["_warnings"] = warn
    return out


def bench_pull(t, a, mode, rnd):
    name = f"{a.repo}/big"
    scope = scope_for(name, push=False)
    if not t.state["big"]:
        log(f"[{t.name}] no big blob pushed yet: pushing one (not measured)")
        bench_push(t, a, "monolithic", rnd)
    digest = t.state["big"][-1]
    verify = mode == "verified"
    c = t.client
    with Phase(t) as ph:
        r = expect(c.request("GET", f"/v2/{name}/blobs/{digest}", scope=scope,
                             consume=consume_hash(verify)), 200, what="GET big blob")
    n, got = r.value
    if n != a.big.size:
        raise BenchError(f"GET big blob: {n} bytes, expected {a.big.size}")
    if verify and got != digest:
        raise BenchError(f"GET big blob: digest mismatch {got} != {digest}")
    out = {f"pull_{mode}_MBps": n / ph.wall / MB}
    out.update(ph.extra(f"pull_{mode}"))
    return out


def bench_small(t, a, conc, rnd):
    name = f"{a.repo}/small"
    tag = f"r{rnd}-c{conc}-{a.run_id}"
    scope = scope_for(name)
    n, sz = a.small_layers, a.layer_kib * KiB
    layers = []
    for _ in range(n):
        b = os.urandom(sz)
        layers.append((b, "sha256:" + hashlib.sha256(b).hexdigest()))
    cfg, cfg_d, man = make_image(layers)
    clients = queue.Queue()
    for _ in range(conc):
        cl = t.new_client()
        cl.request("GET", f"/v2/{name}/tags/list", scope=scope)  # connect + token
        clients.put(cl)

    def up(item):
        cl = clients.get()
        try:
            push_blob(cl, name, item[0], item[1])
        finally:
            clients.put(cl)

    def down(item):
        cl = clients.get()
        try:
            r = expect(cl.request("GET", f"/v2/{name}/blobs/{item[1]}", scope=scope,
                                  consume=consume_hash(True, 256 * KiB)), 200, what="GET layer")
            if r.value[1] != item[1]:
                raise BenchError(f"layer digest mismatch {r.value[1]} != {item[1]}")
        finally:
            clients.put(cl)

    with ThreadPoolExecutor(conc) as pool:
        with Phase(t) as ph_push:
            list(pool.map(up, layers))
            up((cfg, cfg_d))
            put_manifest(t.client, name, tag, man)
        with Phase(t) as ph_pull:
            r = expect(t.client.request("GET", f"/v2/{name}/manifests/{tag}", scope=scope,
                                        headers={"Accept": ACCEPT_MANIFESTS}), 200,
                       what="GET manifest")
            m = json.loads(r.value)
            down((None, m["config"]["digest"]))
            list(pool.map(down, [(None, l["digest"]) for l in m["layers"]]))
    while not clients.empty():
        clients.get().close()
    if len(m["layers"]) != n:
        raise BenchError(f"pulled manifest has {len(m['layers'])} layers, expected {n}")
    p = f"small_c{conc}"
    out = {f"{p}_push_s": ph_push.wall, f"{p}_push_layers_per_s": n / ph_push.wall,
           f"{p}_pull_s": ph_pull.wall, f"{p}_pull_layers_per_s": n / ph_pull.wall}
    out.update({k.replace(p, p + "_push"): v for k, v in ph_push.extra(p).items()})
    out.update({k.replace(p, p + "_pull"): v for k, v in ph_pull.extra(p).items()})
    return out


WRK_LUA = r"""
wrk.method = "@METHOD@"
wrk.headers["Accept"] = "@ACCEPT@"
@AUTH@
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"p50_us":%.1f,"p90_us":%.1f,"p99_us":%.1f,"max_us":%.1f,"mean_us":%.1f,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def run_wrk(t, a, url, method, conc, auth_header):
    lua = (WRK_LUA.replace("@METHOD@", method).replace("@ACCEPT@", ACCEPT_MANIFESTS)
           .replace("@AUTH@", f'wrk.headers["Authorization"] = "{auth_header}"'
                    if auth_header else ""))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua)
        script = f.name
    try:
        cmd = ["wrk", "-t", str(min(a.wrk_threads, conc)), "-c", str(conc),
               "-d", f"{max(1, round(a.duration))}s", "--timeout", "10s", "-s", script, url]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.duration + 60)
    finally:
        os.unlink(script)
    m = re.search(r"^WRKJSON (.*)$", p.stdout, re.M)
    if not m:
        raise BenchError(f"wrk failed (rc={p.returncode}): {p.stdout[-300:]} {p.stderr[-300:]}")
    d = json.loads(m.group(1))
    errs = d["err_connect"] + d["err_read"] + d["err_write"] + d["err_status"] + d["err_timeout"]
    return {"rps": d["requests"] / (d["duration_us"] / 1e6), "p50_ms": d["p50_us"] / 1000,
            "p99_ms": d["p99_us"] / 1000, "errors": errs}


async def _aio_load(t, a, path, method, conc, auth_header):
    import asyncio
    ctx = None
    if t.scheme == "https":
        ctx = ssl.create_default_context()
        if t.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
    host, _, port = t.netloc.rpartition(":") if ":" in t.netloc else (t.netloc, "", "")
    port = int(port) if port else (443 if ctx else 80)
    req = (f"{method} {path} HTTP/1.1\r\nHost: {t.netloc}\r\nUser-Agent: {UA}\r\n"
           f"Accept: {ACCEPT_MANIFESTS}\r\n"
           + (f"Authorization: {auth_header}\r\n" if auth_header else "") + "\r\n").encode()
    lats, errs = [], [0]
    loop = asyncio.get_running_loop()
    started = asyncio.Event()
    state = {}

    async def conn():
        r, w = await asyncio.open_connection(host, port, ssl=ctx)
        w.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return r, w

    async def worker():
        r, w = await conn()
        await started.wait()
        mine = []
        while loop.time() < state["stop"]:
            t0 = time.perf_counter()
            w.write(req)
            head = await r.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            status = int(lines[0].split(b" ", 2)[1])
            clen, chunked, close = 0, False, False
            for ln in lines[1:]:
                k, _, v = ln.partition(b":")
                k = k.strip().lower()
                if k == b"content-length":
                    clen = int(v)
                elif k == b"transfer-encoding" and b"chunked" in v.lower():
                    chunked = True
                elif k == b"connection" and b"close" in v.lower():
                    close = True
            if method != "HEAD" and status not in (204, 304):
                if chunked:
                    while True:
                        n = int((await r.readuntil(b"\r\n")).split(b";")[0], 16)
                        await r.readexactly(n + 2)
                        if n == 0:
                            break
                elif clen:
                    await r.readexactly(clen)
            mine.append(time.perf_counter() - t0)
            if status != 200:
                errs[0] += 1
            if close:
                w.close()
                r, w = await conn()
        w.close()
        lats.extend(mine)

    tasks = [asyncio.ensure_future(worker()) for _ in range(conc)]
    await asyncio.sleep(0.2)  # let connections open
    t0 = time.perf_counter()
    state["stop"] = loop.time() + a.duration
    started.set()
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - t0
    lats.sort()
    return {"rps": len(lats) / wall, "p50_ms": pct(lats, 50) * 1000,
            "p99_ms": pct(lats, 99) * 1000, "errors": errs[0]}


def run_asyncio(t, a, path, method, conc, auth_header):
    import asyncio
    return asyncio.run(_aio_load(t, a, path, method, conc, auth_header))


def bench_manifest(t, a, spec, rnd):
    method, conc = spec
    name = f"{a.repo}/manifest"
    scope = scope_for(name, push=False)
    ensure_tiny_image(t, name, "latest")
    path = f"/v2/{name}/manifests/latest"
    expect(t.client.request(method, path, scope=scope, headers={"Accept": ACCEPT_MANIFESTS}),
           200, what=f"{method} manifest")
    tool = a.load_tool
    if tool == "auto":
        # wrk 4.1 cannot parse bodiless HEAD responses (it waits for Content-Length bytes)
        tool = "wrk" if shutil.which("wrk") and method != "HEAD" else "python"
    with Phase(t) as ph:
        if tool == "wrk":
            res = run_wrk(t, a, t.base.rstrip("/") + path, method, conc, t.auth.header(scope))
        else:
            res = run_asyncio(t, a, path, method, conc, t.auth.header(scope))
    p = f"manifest_{method.lower()}_c{conc}"
    out = {f"{p}_{k}": v for k, v in res.items()}
    out.update(ph.extra(p))
    out["_tools"] = {p: tool}
    return out


def cleanup_round(t, a):
    name = f"{a.repo}/big"
    for d in t.state["big"]:
        try:
            t.client.request("DELETE", f"/v2/{name}/blobs/{d}", scope=scope_for(name))
        except Exception as e:  # noqa: BLE001 - cleanup is best effort
            log(f"[{t.name}] cleanup of {d[:19]} failed: {e}")
    t.state["big"] = []


def cpu_times():
    """(busy, steal, total) jiffies from the aggregate cpu line of /proc/stat."""
    try:
        f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    except OSError:
        return None
    idle = f[3] + (f[4] if len(f) > 4 else 0)
    steal = f[7] if len(f) > 7 else 0
    total = sum(f[:8])
    return total - idle - steal, steal, total


def cpu_window(t0, t1):
    """Machine-wide busy% and hypervisor steal% between two cpu_times() samples."""
    if not t0 or not t1 or t1[2] == t0[2]:
        return {}
    d = t1[2] - t0[2]
    return {"machine_busy_pct": 100.0 * (t1[0] - t0[0]) / d,
            "machine_steal_pct": 100.0 * (t1[1] - t0[1]) / d}


def machine_meta():
    meta = {"date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "host": platform.node(), "kernel": platform.release(),
            "python": platform.python_version(), "cpus": os.cpu_count()}
    try:
        meta["loadavg"] = open("/proc/loadavg").read().split()[:3]
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                meta["mem_gib"] = round(int(line.split()[1]) / MiB, 1)
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                meta["cpu_model"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return meta




def fmt(v):
    if v is None:
        return "-"
    if float(v).is_integer() and abs(v) < 1e6:
        return f"{int(v):,}"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"

