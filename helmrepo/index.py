"""A space's Helm repository index (`index.yaml`), rendered from rows and cached per space.

Format (Helm's repo.IndexFile): `apiVersion: v1`, `entries: {<chart>: [<version>, ...]}` with each
chart's versions newest first by SemVer precedence, each carrying apiVersion, name, version,
appVersion, description, created (RFC 3339), digest (sha256 of the .tgz), urls (relative to the
repository: `charts/<name>-<version>.tgz`, so one rendering serves /helm/<space>/ and the Helm
host alike), dependencies and the other Chart.yaml fields when present; then `generated`.

Scalars are written as JSON strings and nested values in JSON flow style (both valid YAML), which
renders 10,000 versions in tens of milliseconds. An org's index lists its org-level charts; a
team's index lists that team's charts; whoever may read HELM in a space sees the same index, so the
cache is per space. Its key holds the space's generation, bumped after every committed write
(helmrepo.services), so a push or delete shows at once; the permission check runs per request.
"""
import json
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


def _scalar(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _entry_lines(row: dict, chart_name: str) -> list[str]:
    lines = [
        f"  - apiVersion: {_scalar(row['api_version'])}",
        f"    name: {_scalar(chart_name)}",
        f"    version: {_scalar(row['version'])}",
    ]
    if row["app_version"]:
        lines.append(f"    appVersion: {_scalar(row['app_version'])}")
    if row["description"]:
        lines.append(f"    description: {_scalar(row['description'])}")
    for key, value in sorted((row["chart_metadata"] or {}).items()):
        lines.append(f"    {key}: {_scalar(value)}")
    if row["dependencies"]:
        lines.append(f"    dependencies: {_scalar(row['dependencies'])}")
    lines += [
        f"    created: {_scalar(rfc3339(row['created_at']))}",
        f"    digest: {_scalar(row['digest'])}",
        "    urls:",
        f"    - {_scalar('charts/' + chart_name + '-' + row['version'] + '.tgz')}",
    ]
    return lines


def render(space: Space) -> bytes:
    """index.yaml for the charts of exactly this space (org level or one team), from the database."""
    rows = ChartVersion.objects.filter(chart__org=space.org, chart__team=space.team).values(
        "chart__name", "version", "app_version", "description", "api_version", "dependencies", "chart_metadata",
        "created_at", "digest",
    )
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
        lines.append(f"  {_scalar(name)}:")
        for row in versions:
            lines += _entry_lines(row, name)
    lines.append(f"generated: {_scalar(rfc3339(timezone.now()))}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def index_yaml(space: Space) -> bytes:
    """The space's index, from the cache when nothing was written since it was rendered."""
    key = f"helm:index:{_space_key(space)}:{generation(space)}"
    body = cache.get(key)
    if body is None:
        body = render(space)
        cache.set(key, body, CACHE_SECONDS)
    return body
