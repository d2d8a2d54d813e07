"""Search types MODEL and RECIPE of `/v2/search/org/<org>[/team/<team>]/resources/<TYPE>` (§5.5),
called by the search view in artifacts/apis.py, which owns the route."""
from accounts.permissions import Space
from artifacts.core.selectors import matching_glob
from artifacts.versioned import selectors
from artifacts.versioned.models import ArtifactKind
from artifacts.versioned.serializers import search_resource

KIND_OF_SEARCH_TYPE = {"MODEL": ArtifactKind.MODEL, "RECIPE": ArtifactKind.RESOURCE}


def search(user, space: Space, resource_type: str, pattern: str, page: int, size: int) -> tuple[list[dict], int]:
    """(one page of hits, total) of the artifacts of that type the user may read in the space whose
    `org/[team/]name` matches the glob."""
    rows = matching_glob(
        selectors.artifacts_in_search_scope(user, space, KIND_OF_SEARCH_TYPE[resource_type]), pattern
    )
    total = rows.count()
    hits = list(rows[page * size : (page + 1) * size]) if page * size < total else []
    return [search_resource(row) for row in hits], total
