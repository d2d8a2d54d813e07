"""Where a web worker's memory goes (docs/performance.md, Memory).

    .venv/bin/python bench/memory_profile.py imports   # RSS each top-level package adds to a worker
    .venv/bin/python bench/memory_profile.py idle      # RSS/PSS/USS of gunicorn's master and worker

Both use the environment as it is: set DATABASE_URL to a migrated PostgreSQL database (the
worker imports psycopg only for PostgreSQL) and the production-like variables bench/run.py sets.

* imports: one process imports registry_portal.wsgi (as a gunicorn worker does) and serves
  `GET /` and `GET /v2/` through it (the URLconf and every view get imported). Each module's
  execution is timed in RSS (/proc/self/statm before and after); a package's share is what its own
  modules added, without the packages they imported. What no import explains (the first
  requests, the scheduler thread) is printed as "other work".
* idle: gunicorn with bench/run.py's worker settings (extra arguments, e.g. --preload, are passed
  on), three requests, 4 s of rest, then each process's /proc/<pid>/smaps_rollup: RSS, PSS
  (shared pages divided among the processes sharing them) and USS (private pages).
"""
import collections
import importlib.abc
import io
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MB = 1e6
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


class _MeasuringLoader(importlib.abc.Loader):
    """Wraps a module's loader; charges the RSS its execution added to its top-level package."""

    def __init__(self, real, shares, stack):
        self.real, self.shares, self.stack = real, shares, stack

    def __getattr__(self, name):  # resource readers etc. stay the real loader's
        return getattr(self.real, name)

    def create_module(self, spec):
        return self.real.create_module(spec)

    def exec_module(self, module):
        self.stack.append([rss(), 0])
        try:
            self.real.exec_module(module)
        finally:
            start, nested = self.stack.pop()
            added = rss() - start
            self.shares[module.__name__.split(".")[0]] += added - nested
            if self.stack:
                self.stack[-1][1] += added


class _MeasuringFinder(importlib.abc.MetaPathFinder):
    def __init__(self):
        self.shares, self.stack = collections.Counter(), []

    def find_spec(self, fullname, path, target=None):
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if hasattr(spec.loader, "exec_module"):
                    spec.loader = _MeasuringLoader(spec.loader, self.shares, self.stack)
                return spec
        return None


def imports() -> None:
    # Nothing beyond the interpreter's own modules is imported before this point.
    sys.path.insert(0, ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry_portal.settings")
    start = rss()
    finder = _MeasuringFinder()
    sys.meta_path.insert(0, finder)
    import registry_portal.wsgi as wsgi

    for path in ("/", "/v2/"):
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
                   "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http",
                   "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr}
        body = wsgi.application(environ, lambda status, headers, exc_info=None: None)
        b"".join(body)
        body.close()
    time.sleep(3)  # the in-process scheduler's first run
    end = rss()
    charged = sum(finder.shares.values())
    print(f"RSS at interpreter start {start / MB:.1f} MB, after the WSGI app and two requests {end / MB:.1f} MB")
    print(f"imports {charged / MB:.1f} MB, other work {(end - start - charged) / MB:.1f} MB, {len(sys.modules)} modules")
    for package, added in finder.shares.most_common():
        if added >= 0.1 * MB:
            print(f"  {package:28} {added / MB:6.2f} MB")


def _rollup(pid: int) -> dict[str, int]:
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                fields[parts[0].rstrip(":")] = int(parts[1]) * 1024
    return fields


def idle(extra: list[str]) -> None:
    import subprocess
    import urllib.error
    import urllib.request

    import harness  # bench/run.py's gunicorn settings (imported here: `imports` must start bare)

    port = os.environ.get("PORT", "18610")
    cmd = [sys.executable, "-m", "gunicorn", "registry_portal.wsgi", "--bind", f"127.0.0.1:{port}", *harness.gunicorn_args(), *extra]
    server = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for path in ("/healthz", "/v2/", "/"):
            for _ in range(300):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5)
                    break
                except urllib.error.HTTPError:
                    break  # 401 / 302: answered
                except OSError:
                    time.sleep(0.2)
        time.sleep(4)
        with open(f"/proc/{server.pid}/task/{server.pid}/children") as f:
            workers = [int(pid) for pid in f.read().split()]
        total = collections.Counter()
        for name, pid in [("master", server.pid), *(("worker", pid) for pid in workers)]:
            m = _rollup(pid)
            row = {"RSS": m["Rss"], "PSS": m["Pss"], "USS": m["Private_Clean"] + m["Private_Dirty"], "anon": m["Anonymous"]}
            total.update(row)
            print(f"{name:7} " + "  ".join(f"{k} {v / MB:6.1f}" for k, v in row.items()) + " MB")
        print("tree    " + "  ".join(f"{k} {v / MB:6.1f}" for k, v in total.items()) + " MB")
    finally:
        os.killpg(server.pid, 15)
        server.wait()


if __name__ == "__main__":
    if sys.argv[1:2] == ["imports"]:
        imports()
    elif sys.argv[1:2] == ["idle"]:
        idle(sys.argv[2:])
    else:
        sys.exit(__doc__)
