"""Version ordering for `sort-order=SEMVER_DESC`: SemVer 2.0 precedence (a leading 'v' and missing
minor/patch tolerated: "1" = "1.0.0"); strings that are not SemVer sort after every SemVer one."""
import re

SEMVER_RE = re.compile(
    r"^v?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$"
)


def semver_key(version: str) -> tuple | None:
    """A tuple that orders SemVer strings by precedence (build metadata ignored), None otherwise."""
    match = SEMVER_RE.match(version)
    if match is None:
        return None
    core = tuple(int(part or 0) for part in match.group(1, 2, 3))
    pre = match.group(4)
    if pre is None:
        return (*core, 1, ())  # a release ranks above its pre-releases
    identifiers = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (*core, 0, identifiers)


def semver_desc(versions: list) -> list:
    """Versions (objects with `.version`, `.created_at`, `.pk`) highest SemVer first, then the
    non-SemVer ones newest first."""
    semantic, other = [], []
    for row in versions:
        key = semver_key(row.version)
        (semantic if key is not None else other).append((key, row))
    semantic.sort(key=lambda pair: (pair[0], pair[1].created_at, pair[1].pk), reverse=True)
    other.sort(key=lambda pair: (pair[1].created_at, pair[1].pk), reverse=True)
    return [row for _, row in semantic] + [row for _, row in other]
