"""A space's Helm repository index (`index.yaml`), rendered from rows and cached per space.

Format (Helm's repo.IndexFile): `apiVersion: v1`, `entries: {<chart>: [<version>, ...]}` with each
chart's versions newest first by SemVer precedence, each carrying apiVersion, name, version,
appVersion, description, created (RFC 3339), digest (sha256 of the .tgz), urls (relative to the
repository: `charts/<name>-<version>.tgz`, so one rendering serves /helm/<space>/ and the Helm
host alike), dependencies and the other Chart.yaml fields when present; then `generated`.

Values are written in YAML flow style (`flow`): strings double-quoted, nested values as `[...]`
and `{...}`, which renders 10,000 versions in tens of milliseconds. A character is written raw only
where both PyYAML and Helm's Go YAML read it back unchanged: YAML's printable set (YAML 1.1 and 1.2
agree on it) less its line breaks. Everything else (C0 and C1 controls, DEL, NEL, U+2028/U+2029,
the BOM U+FEFF, U+FFFE/U+FFFF) is written as an escape both parsers know (the backslash forms t,
n, r, xXX and uXXXX), so the index parses whatever a row holds and gives back that row's strings.
(Lone surrogates are escaped too, but only PyYAML reads those back; no row can hold one, as
PostgreSQL refuses them.) Chart.yaml parsing refuses control characters (helmrepo.chart_yaml); rows
stored before it did are rendered safely all the same. An org's index lists its org-level charts; a
team's index lists that team's charts; whoever may read HELM in a space sees the same index, so the
cache is per space. Its key holds the space's generation, bumped after every committed write
(helmrepo.services), so a push or delete shows at once; the permission check runs per request.
"""
import math
import re
from collections.abc import Iterable
from datetime import datetime, timezone as dt_timezone

from django.core.cache import cache
from django.utils import timezone

from accounts.permissions import Space
from artifacts.versioned.semver import semver_key
from helmrepo.models import ChartVersion

CACHE_SECONDS = 24 * 3600


def _space_key(space: Space) -> str:
    # Creation times make keys of a re-created space (same pk after a restored or recreated
    # database) differ from the old one's.
    key = f"{space.org.pk}.{space.org.created_at.timestamp():.6f}"
    if space.team is not None:
        key += f".{space.team.pk}.{space.team.created_at.timestamp():.6f}"
    return key


def _generation_key(space: Space) -> str:
    return f"helm:index-generation:{_space_key(space)}"


def generation(space: Space) -> int:
    value = cache.get(_generation_key(space))
    if value is None:
        cache.add(_generation_key(space), 1, timeout=None)
        value = cache.get(_generation_key(space), 1)
    return int(value)


def bump_generation(space: Space) -> None:
    """Make the space's cached index stale (called once a write has committed)."""
    key = _generation_key(space)
    try:
        cache.incr(key)
    except ValueError:  # not set yet (or evicted): any fresh value differs from the cached ones
        cache.add(key, 1, timeout=None)
        cache.incr(key)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(dt_timezone.utc).isoformat().replace("+00:00", "Z")


# Characters a double-quoted scalar may hold raw: YAML's printable set without its line breaks
# (\n, \r, NEL, U+2028, U+2029), tab and the BOM; '"' and '\\' are escaped as in any quoted string.
_ESCAPED = re.compile(r'[^\x20-\x21\x23-\x5b\x5d-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]')
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match) -> str:
    char = match.group()
    code = ord(char)
    return _SHORT_ESCAPES.get(char) or (f"\\x{code:02X}" if code <= 0xFF else f"\\u{code:04X}")


def flow(value) -> str:
    """`value` (what JSON can hold) as a YAML flow node that PyYAML and Go's YAML read back unchanged."""
    if isinstance(value, str):
        return '"' + _ESCAPED.sub(_escape, value) + '"'
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ".nan" if math.isnan(value) else ".inf" if value > 0 else "-.inf"
        text = repr(value)
        return text.replace("e", ".0e") if "." not in text and "e" in text else text  # YAML 1.1 floats need a dot
    if isinstance(value, dict):
        return "{" + ", ".join(f"{flow(str(key))}: {flow(item)}" for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(item) for item in value) + "]"
    return flow(str(value))


def _entry_lines(row: dict, chart_name: str) -> list[str]:
    lines = [
        f"  - apiVersion: {flow(row['api_version'])}",
        f"    name: {flow(chart_name)}",
        f"    version: {flow(row['version'])}",
    ]
    if row["app_version"]:
        lines.append(f"    appVersion: {flow(row['app_version'])}")
    if row["description"]:
        lines.append(f"    description: {flow(row['description'])}")
    for key, value in sorted((row["chart_metadata"] or {}).items()):
        lines.append(f"    {key}: {flow(value)}")
    if row["dependencies"]:
        lines.append(f"    dependencies: {flow(row['dependencies'])}")
    lines += [
        f"    created: {flow(rfc3339(row['created_at']))}",
        f"    digest: {flow(row['digest'])}",
        "    urls:",
        f"    - {flow('charts/' + chart_name + '-' + row['version'] + '.tgz')}",
    ]
    return lines


def render(space: Space) -> bytes:
    """index.yaml for the charts of exactly this space (org level or one team), from the database."""
    rows = ChartVersion.objects.filter(chart__org=space.org, chart__team=space.team).values(
        "chart__name", "version", "app_version", "description", "api_version", "dependencies", "chart_metadata",
        "created_at", "digest",
    )
    return render_rows(rows, generated=timezone.now())


def render_rows(rows: Iterable[dict], *, generated: datetime) -> bytes:
    """index.yaml for `rows` (ChartVersion values with `chart__name`), whatever strings they hold."""
    by_chart: dict[str, list] = {}
    for row in rows:
        by_chart.setdefault(row["chart__name"], []).append(row)
    lines = ["apiVersion: v1", "entries:" if by_chart else "entries: {}"]
    for name in sorted(by_chart):
        versions = sorted(
            by_chart[name],
            key=lambda r: (semver_key(r["version"]) or (-1,), r["created_at"]),
            reverse=True,
        )
        lines.append(f"  {flow(name)}:")
        for row in versions:
            lines += _entry_lines(row, name)
    lines.append(f"generated: {flow(rfc3339(generated))}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def index_yaml(space: Space) -> bytes:
    """The space's index, from the cache when nothing was written since it was rendered."""
    key = f"helm:index:{_space_key(space)}:{generation(space)}"
    body = cache.get(key)
    if body is None:
        body = render(space)
        cache.set(key, body, CACHE_SECONDS)
    return body
