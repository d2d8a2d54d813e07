"""bench/run.py's tables: medians against targets, the per-round spread with paired ratios, and the
CPU seconds each server (and the S3 server, in `--storage s3`) spent per operation class."""
import harness as h

# (key, label, kind, target, target with --storage s3): kind "ratio_min" = ours/ref must be >= target,
# "ratio_max" = ours/ref must be <= target, "abs_max" = ours must be <= target (absolute), None = info.
# Targets: issue 18 (and issue 15 item 6 for S3: push and pull at least the reference's).
METRICS = [
    ("push_monolithic_MBps", "{big} push, monolithic (MB/s)", "ratio_min", 2.0, 1.0),
    ("push_chunked_MBps", "{big} push, chunked 64 MiB PATCHes (MB/s)", "ratio_min", 2.0, 1.0),
    ("push_streamed_MBps", "{big} push, streamed PATCH like docker (MB/s)", "ratio_min", 1.5, 1.0),
    ("pull_raw_MBps", "{big} pull (MB/s)", "ratio_min", 2.0, 1.0),
    ("pull_verified_MBps", "{big} pull, client verifies sha256 (MB/s)", None, None, None),
    ("small_total_s", "{n} small layers push+pull (s)", "ratio_max", 0.9, 0.9),
    ("small_c1_push_s", "  of which push (s)", None, None, None),
    ("small_c1_pull_s", "  of which pull (s)", None, None, None),
    ("manifest_get_c32_rps", "manifest GET, 32 clients (req/s)", "ratio_min", 1.5, 1.5),
    ("manifest_get_c32_p99_ms", "manifest GET, 32 clients, p99 (ms)", None, None, None),
    ("tag_put_per_s", "{tags} tag PUTs (manifest PUT by tag, /s)", "ratio_min", 1.0, 1.0),
    ("tags_list_p50_ms", "tags/list p50, {tags} tags (ms)", "ratio_max", 1.0, 1.0),
    ("catalog_p50_ms", "_catalog?n={repos} p50, {repos} repositories (ms)", "ratio_max", 1.0, 1.0),
    ("idle_rss_MB", "server RSS at the start of a round (MB)", None, None, None),
    ("idle_pss_MB", "server PSS at the start of a round (MB)", None, None, None),
    ("push_peak_rss_MB", "peak server RSS during {big} pushes (MB)", "abs_max", 100, 100),
    ("push_peak_pss_MB", "peak server PSS during {big} pushes (MB)", None, None, None),
    ("pull_peak_rss_MB", "peak server RSS during {big} pulls (MB)", None, None, None),
    ("pull_peak_pss_MB", "peak server PSS during {big} pulls (MB)", None, None, None),
]

# operation class (the Phase prefix) -> (label, requests per operation: an args attribute, or None)
CPU_CLASSES = [
    ("push_monolithic", "{big} push, monolithic", None),
    ("push_chunked", "{big} push, chunked", None),
    ("push_streamed", "{big} push, streamed", None),
    ("pull_raw", "{big} pull", None),
    ("small_c1_push", "{n} small layers, push", None),
    ("small_c1_pull", "{n} small layers, pull", None),
    ("manifest_get_c32", "manifest GET, {duration:g} s at 32 clients", None),
    ("tag_put", "{tags} tag PUTs", "tag_count"),
    ("tags_list", "{requests} tags/list GETs", "list_requests"),
    ("catalog", "{requests} _catalog GETs", "list_requests"),
]


def derive(res):
    """Add the composite metrics of METRICS to one round's results of one target."""
    if "small_c1_push_s" in res and "small_c1_pull_s" in res:
        res["small_total_s"] = res["small_c1_push_s"] + res["small_c1_pull_s"]
    for kind in ("push", "pull"):
        for size in ("rss", "pss"):
            peaks = [v for k, v in res.items() if k.startswith(kind + "_") and k.endswith(f"_peak_{size}_MiB")]
            if peaks:
                res[f"{kind}_peak_{size}_MB"] = max(peaks) * h.MiB / h.MB
    return res


def _labels(a):
    big = f"{a.big_mib // 1024} GiB" if a.big_mib % 1024 == 0 else f"{a.big_mib} MiB"
    return {"big": big, "n": a.small_layers, "tags": f"{a.tag_count:,}", "repos": f"{a.catalog_repos:,}",
            "requests": a.list_requests, "duration": a.duration}


def _target(row, a):
    key, label, kind, target, s3_target = row
    return kind, (s3_target if a.storage == "s3" else target)


def verdict(kind, target, ours, ref):
    if kind is None or ours is None:
        return "", ""
    if kind == "abs_max":
        return f"{ours:.0f} (≤ {target})", "PASS" if ours <= target else "MISS"
    if not ref:
        return "-", "n/a"
    r = ours / ref
    ok = r >= target if kind == "ratio_min" else r <= target
    sign = "≥" if kind == "ratio_min" else "≤"
    return f"{r:.2f} ({sign} {target:g})", "PASS" if ok else "MISS"


def _render(head, rows, markdown):
    if not rows:
        return ""
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(out + ["| " + " | ".join(r) + " |" for r in rows])
    w = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    out = ["  ".join(x.ljust(w[i]) for i, x in enumerate(head)), "  ".join("-" * x for x in w)]
    out += ["  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(r)) for r in rows]
    return "\n".join(out)


def table(results, a, markdown=False):
    """Medians, ratio against the target, PASS/MISS."""
    names = list(results)
    labels = _labels(a)
    rows = []
    for row in METRICS:
        key, label = row[0], row[1].format(**labels)
        kind, target = _target(row, a)
        vals = [results[n].get(key) for n in names]
        if all(v is None for v in vals):
            continue
        ours, ref = results.get("ours", {}).get(key), results.get("reference", {}).get(key)
        ratio, ok = verdict(kind, target, ours, ref) if "ours" in results else ("", "")
        if kind != "abs_max" and "reference" not in results:
            ratio, ok = ("", "") if kind is None else ("(no reference)", "")
        rows.append([label] + [h.fmt(v) for v in vals] + [ratio, ok])
    return _render(["metric"] + names + ["ours vs target", "verdict"], rows, markdown)


def spread(rounds, a, markdown=False):
    """Every round's value per target and the ratio ours/reference paired by round."""
    if len(rounds) < 2:
        return ""
    names = list(rounds[0])
    labels = _labels(a)
    rows = []
    for row in METRICS:
        key, label = row[0], row[1].format(**labels)
        per = {n: [rd[n].get(key) for rd in rounds] for n in names}
        if all(v is None for vs in per.values() for v in vs):
            continue
        cells = [", ".join(h.fmt(v) for v in per[n]) for n in names]
        ratios = ""
        if {"ours", "reference"} <= set(names):
            ratios = ", ".join(f"{o / r:.2f}" if o is not None and r else "-"
                               for o, r in zip(per["ours"], per["reference"]))
        rows.append([label] + cells + [ratios])
    return _render(["metric, per round"] + names + ["ours / reference"], rows, markdown)


def _range(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "-"
    lo, hi = min(vals), max(vals)
    return h.fmt(lo) if h.fmt(lo) == h.fmt(hi) else f"{h.fmt(lo)}–{h.fmt(hi)}"


def cpu_table(rounds, a, markdown=False):
    """Server CPU seconds per operation class (min–max over the rounds), per request where the
    operation is a counted batch, and the S3 server's CPU beside each registry in S3 mode."""
    names = list(rounds[0]) if rounds else []
    labels = _labels(a)
    s3 = a.storage == "s3"
    rows = []
    for prefix, label, per_request in CPU_CLASSES:
        cols = []
        for n in names:
            cpu = [rd[n].get(f"{prefix}_server_cpu_s") for rd in rounds]
            if all(v is None for v in cpu):
                cols = None
                break
            cell = _range(cpu)
            if per_request:
                count = getattr(a, per_request)
                cell += f" ({_range([v * 1000 / count for v in cpu if v is not None])} ms each)"
            elif prefix == "manifest_get_c32":
                per = [c * 1000 / (rd[n][f"{prefix}_rps"] * a.duration) for rd, c in zip(rounds, cpu)
                       if c is not None and rd[n].get(f"{prefix}_rps")]
                cell += f" ({_range(per)} ms each)"
            cols.append(cell)
            if s3:
                cols.append(_range([rd[n].get(f"{prefix}_storage_cpu_s") for rd in rounds]))
        if cols:
            rows.append([label.format(**labels)] + cols)
    head = ["server CPU (s)"]
    for n in names:
        head += [n, f"S3 server, for {n}"] if s3 else [n]
    return _render(head, rows, markdown)
