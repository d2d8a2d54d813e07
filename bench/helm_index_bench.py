#!/usr/bin/env python3
"""Helm index benchmark: index.yaml of a space holding 10,000 chart versions, served by gunicorn.

    .venv/bin/python bench/helm_index_bench.py                 # 500 charts x 20 versions
    .venv/bin/python bench/helm_index_bench.py --charts 50     # a quicker smoke run

Starts the registry as bench/transfer_bench.py does (fresh PostgreSQL database, migrate, an org and
an API key, gunicorn with scripts/run's worker settings, REGISTRY_PRODUCTION=1 on loopback http) with
REDIS_URL set, so the index cache is Redis as in production. Seeds the org level of org "bench" with
--charts x --versions chart versions directly through the ORM (each a real, tiny package in the
blob store). Then, over HTTP with `$oauthtoken` Basic auth:
  * push: one ChartMuseum push (`POST /helm/api/bench/charts`, raw .tgz) into that space;
  * cold: the first index.yaml after the push (the push bumped the space's generation: rendered);
  * warm: the median of --rounds further GETs (served from the cache).
Targets: warm < 100 ms, cold < 2 s, push < 1 s. --markdown FILE writes the table as markdown.
"""
import argparse
import base64
import http.client
import io
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import BenchError, log  # noqa: E402
from transfer_bench import Server  # noqa: E402

TARGETS = {"warm_ms": 100, "cold_ms": 2000, "push_ms": 1000}

SEED = r'''
import gzip, hashlib, io, tarfile
from django.db import transaction
from accounts.models import Org, User
from artifacts.blobs.links import blob_commit_verified
from helmrepo.models import Chart, ChartVersion

def package(name, version):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = f"apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: '1.0'\ndescription: Bench chart {name}\n".encode()
        info = tarfile.TarInfo(f"{name}/Chart.yaml"); info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()

org = Org.objects.get(name="bench"); owner = User.objects.get(email="bench@example.com")
with transaction.atomic():
    for c in range(CHARTS):
        name = f"chart-{c:04d}"
        chart = Chart.objects.create(org=org, name=name, short_description=f"Bench chart {name}", created_by=owner)
        rows = []
        for v in range(VERSIONS):
            version = f"1.{v}.0"
            data = package(name, version)
            hexdigest = hashlib.sha256(data).hexdigest()
            blob = blob_commit_verified(digest=f"sha256:{hexdigest}", size=len(data), data=data, media_type="application/gzip")
            rows.append(ChartVersion(chart=chart, version=version, app_version="1.0", description=f"Bench chart {name}",
                        api_version="v2", files=[{"path": f"{name}/Chart.yaml", "size": 80}], package=blob,
                        size=len(data), digest=hexdigest, created_by=owner))
        ChartVersion.objects.bulk_create(rows)
        chart.latest_version = rows[-1]; chart.save(update_fields=["latest_version"])
print(ChartVersion.objects.count())
'''


def package(name: str, version: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = f"apiVersion: v2\nname: {name}\nversion: {version}\ndescription: pushed\n".encode()
        info = tarfile.TarInfo(f"{name}/Chart.yaml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def request(port: int, method: str, path: str, key: str, body: bytes | None = None) -> tuple[int, bytes, float]:
    auth = "Basic " + base64.b64encode(f"$oauthtoken:{key}".encode()).decode()
    headers = {"Authorization": auth}
    if body is not None:
        headers["Content-Type"] = "application/gzip"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    return response.status, data, elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charts", type=int, default=500)
    parser.add_argument("--versions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/registry_helmbench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--markdown")
    a = parser.parse_args(argv)
    a.eager = True  # no Celery worker: a Helm push runs no task
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp), a)
        server.env["REDIS_URL"] = a.redis_url
        try:
            import redis

            redis.Redis.from_url(a.redis_url).flushdb()
            key = server.start()
            started = time.perf_counter()
            seeded = server.manage("shell", "-c", SEED.replace("CHARTS", str(a.charts)).replace("VERSIONS", str(a.versions)))
            log(f"seeded {seeded.strip()} chart versions in {time.perf_counter() - started:.1f}s")
            status, body, _ = request(server.port, "GET", "/helm/bench/index.yaml", key)  # warms up the workers
            if status != 200:
                raise BenchError(f"index.yaml answered {status}: {body[:200]!r}")
            status, body, push_s = request(server.port, "POST", "/helm/api/bench/charts", key, package("pushed", "1.0.0"))
            if status != 201:
                raise BenchError(f"push answered {status}: {body[:200]!r}")
            status, cold_body, cold_s = request(server.port, "GET", "/helm/bench/index.yaml", key)
            if b"pushed" not in cold_body:
                raise BenchError("the index after the push does not list the pushed chart")
            warm = [request(server.port, "GET", "/helm/bench/index.yaml", key)[2] for _ in range(a.rounds)]
        finally:
            server.stop()
    versions = a.charts * a.versions + 1
    results = {"push_ms": push_s * 1000, "cold_ms": cold_s * 1000, "warm_ms": statistics.median(warm) * 1000}
    lines = [
        f"Helm index.yaml of one space with {versions} chart versions ({a.charts} charts x {a.versions} + 1), "
        f"{len(cold_body) / 1e6:.2f} MB; gunicorn, PostgreSQL, Redis cache, loopback http.",
        "",
        "| measure | time | target | result |",
        "| --- | --- | --- | --- |",
        f"| push of one chart (ChartMuseum API, raw .tgz) | {results['push_ms']:.0f} ms | < 1000 ms | {'PASS' if results['push_ms'] < 1000 else 'MISS'} |",
        f"| index.yaml cold (first GET after the push) | {results['cold_ms']:.0f} ms | < 2000 ms | {'PASS' if results['cold_ms'] < 2000 else 'MISS'} |",
        f"| index.yaml warm (median of {a.rounds}) | {results['warm_ms']:.1f} ms | < 100 ms | {'PASS' if results['warm_ms'] < 100 else 'MISS'} |",
    ]
    print("\n".join(lines))
    if a.markdown:
        Path(a.markdown).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
