"""Search type HELM_CHART of `/v2/search/org/<org>[/team/<team>]/resources/<TYPE>` (§5.5), called by
the search view in artifacts/apis.py, which owns the route."""
from accounts.permissions import Space
from artifacts.core.selectors import matching_glob
from helmrepo import selectors
from helmrepo.serializers import search_resource


def search(user, space: Space, pattern: str, page: int, size: int) -> tuple[list[dict], int]:
    """(one page of hits, total) of the charts the user may read in the space whose
    `org/[team/]name` matches the glob."""
    rows = matching_glob(selectors.charts_in_search_scope(user, space), pattern)
    total = rows.count()
    hits = list(rows[page * size : (page + 1) * size]) if page * size < total else []
    return [search_resource(row) for row in hits], total
