"""Tag writes and listings (issue 18): many manifest PUTs by tag, tags/list and _catalog latency.

Each function is a bench/run.py step: (target, args, spec, round) -> {metric: value}.  Requests go
one at a time over one keep-alive connection, as a CI job tagging images or a UI paging a listing
does; latencies are client-side (request sent to body read).
"""
import hashlib
import json
import os
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

from harness import BenchError, Phase, expect, log, make_image, pct, push_blob, put_manifest, scope_for


def _tiny_image():
    layer = os.urandom(1024)
    layers = [(layer, "sha256:" + hashlib.sha256(layer).hexdigest())]
    cfg, cfg_d, man = make_image(layers)
    return [(layer, layers[0][1]), (cfg, cfg_d)], man


def _latencies(client, path, scope, count, check):
    """`count` sequential GETs of `path`; check(first body) validates the answer once."""
    lats = []
    for i in range(count):
        t0 = time.perf_counter()
        r = expect(client.request("GET", path, scope=scope), 200, what=f"GET {path}")
        lats.append(time.perf_counter() - t0)
        if i == 0:
            check(json.loads(r.value))
    lats.sort()
    return lats


def bench_tags(t, a, spec, rnd):
    """`a.tag_count` manifest PUTs by tag (one image, a new tag each: what a CI job tagging builds
    sends), then `a.list_requests` GETs of tags/list on the repository that now has that many tags."""
    name = f"{a.repo}/tags-r{rnd}"
    c = t.client
    blobs, man = _tiny_image()
    for data, digest in blobs:
        push_blob(c, name, data, digest)
    tags = [f"v{i:05d}" for i in range(a.tag_count)]
    with Phase(t) as put:
        for tag in tags:
            put_manifest(c, name, tag, man)

    def check(body):
        if sorted(body.get("tags") or []) != tags:
            raise BenchError(f"tags/list of {name}: {len(body.get('tags') or [])} tags, expected {len(tags)}")

    with Phase(t) as listing:
        lats = _latencies(c, f"/v2/{name}/tags/list", scope_for(name, push=False), a.list_requests, check)
    out = {"tag_put_per_s": a.tag_count / put.wall,
           "tags_list_p50_ms": pct(lats, 50) * 1000, "tags_list_p90_ms": pct(lats, 90) * 1000}
    out.update(put.extra("tag_put"))
    out.update(listing.extra("tags_list"))
    return out


# Tries of each mount and manifest PUT of the catalog's setup: ours answers 503 when PostgreSQL reports a
# deadlock between concurrent mounts and PUTs of manifests that share blobs (eight setup threads provoke
# it; docs/performance.md).
SETUP_ATTEMPTS = 8


def _catalog_repos(t, a):
    """`a.catalog_repos` repositories of one tiny image each (setup, not measured; once per target):
    the blobs are pushed to the first and mounted from it into the others, as docker does."""
    if "catalog" in t.state["setup"]:
        return
    base = f"{a.repo}/catalog-base"
    blobs, man = _tiny_image()
    for data, digest in blobs:
        push_blob(t.client, base, data, digest)
    put_manifest(t.client, base, "latest", man)

    local, clients, lock, retried = threading.local(), [], threading.Lock(), [0]

    def send(client, method, path, **kw):
        for attempt in range(SETUP_ATTEMPTS):
            r = client.request(method, path, **kw)
            if r.status != 503 or attempt == SETUP_ATTEMPTS - 1:
                return r
            with lock:
                retried[0] += 1
            time.sleep(0.05 * (attempt + 1))

    def fill(batch):
        """A batch of repositories under one token (ours: fewer than its token rate limit)."""
        if not hasattr(local, "client"):
            local.client = t.new_client()
            clients.append(local.client)
        client = local.client
        names = [f"{a.repo}/catalog-{i:05d}" for i in batch]
        scope = " ".join([scope_for(n) for n in names] + [scope_for(base, push=False)])
        for name in names:
            for data, digest in blobs:
                q = urllib.parse.urlencode({"mount": digest, "from": base})
                r = send(client, "POST", f"/v2/{name}/blobs/uploads/?{q}", scope=scope)
                if r.status == 202:  # not mounted: upload it
                    push_blob(client, name, data, digest, check_exists=False)
                else:
                    expect(r, 201, what=f"mount into {name}")
            r = send(client, "PUT", f"/v2/{name}/manifests/latest", body=man, scope=scope,
                     headers={"Content-Type": json.loads(man)["mediaType"]})
            expect(r, 201, what=f"PUT manifest {name}")

    t0 = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        count = a.catalog_repos - 1  # + catalog-base
        list(pool.map(fill, [range(i, min(i + 25, count)) for i in range(0, count, 25)]))
    for client in clients:
        client.close()
    t.state["setup"].add("catalog")
    t.state["catalog_setup_retries"] = retried[0]
    log(f"[{t.name}] {a.catalog_repos} repositories for _catalog in {time.perf_counter() - t0:.1f}s, "
        f"{retried[0]} requests retried after a 503")


def bench_catalog(t, a, spec, rnd):
    """GETs of /v2/_catalog?n=<repositories>: one page holding every repository the caller may pull
    (ours filters by permission; the reference, auth off, lists all)."""
    _catalog_repos(t, a)
    n = a.catalog_repos

    def check(body):
        got = len(body.get("repositories") or [])
        if got != n:
            raise BenchError(f"_catalog?n={n}: {got} repositories")

    with Phase(t) as ph:
        lats = _latencies(t.client, f"/v2/_catalog?n={n}", "registry:catalog:*", a.list_requests, check)
    out = {"catalog_p50_ms": pct(lats, 50) * 1000, "catalog_p90_ms": pct(lats, 90) * 1000,
           "catalog_setup_retries": t.state.get("catalog_setup_retries", 0)}
    out.update(ph.extra("catalog"))
    return out

