"""Repository names (spec's name grammar) and the space (org or org/team) a new name goes to.

`<org>/<repo>` lives in the org; `<org>/<team>/<repo...>` lives in the team when the second
segment names a team of that org, otherwise in the org with a nested path. This decides only
where a repository is *created*: once it exists, its stored org/team is its space on every face
(artifacts.core.metadata.space_of), and no team can later take the name of its first
path component (accounts.services.team_name_conflict).
"""
import re
from dataclasses import dataclass

from accounts.models import Org, Team
from accounts.permissions import Space

NAME_RE = re.compile(r"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$")
TAG_RE = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$")
MAX_NAME_LENGTH = 255


class InvalidName(ValueError):
    pass


@dataclass(frozen=True)
class ResolvedName:
    name: str
    space: Space | None  # None when the org does not exist
    path: str


def validate_name(name: str) -> str:
    if len(name) > MAX_NAME_LENGTH or not NAME_RE.match(name):
        raise InvalidName(f"invalid repository name {name!r}")
    if "/" not in name:
        raise InvalidName(f"repository name {name!r} must start with an org: <org>/<repository>")
    return name


def resolve_name(name: str, *, for_update: bool = False) -> ResolvedName:
    """Split a valid name into the space a new repository of that name goes to, and its path
    (one or two queries, no permission check). `for_update` (inside a transaction) locks the org
    row, which team_create also takes, so no team appears between this answer and the insert."""
    validate_name(name)
    segments = name.split("/")
    orgs = Org.objects.select_for_update() if for_update else Org.objects
    org = orgs.filter(name=segments[0]).first()
    if org is None:
        return ResolvedName(name=name, space=None, path="/".join(segments[1:]))
    if len(segments) >= 3:
        team = Team.objects.filter(org=org, name=segments[1]).first()
        if team is not None:
            return ResolvedName(name=name, space=Space(org, team), path="/".join(segments[2:]))
    return ResolvedName(name=name, space=Space(org), path="/".join(segments[1:]))
