"""Artifact kinds served by apps above artifacts (helmrepo's charts) plug into the cross-kind
search and catalog here, from their AppConfig.ready, so artifacts never imports those apps."""
from collections.abc import Callable

from django.db.models import QuerySet

from accounts.permissions import Space

# NGC search type (e.g. "HELM_CHART") -> search(user, space, glob, page, size) -> (hits, total)
SEARCHES: dict[str, Callable[..., tuple[list[dict], int]]] = {}
# catalog kind (e.g. "helm-chart") -> the rows of that kind the user may find in the space
CATALOG_SCOPES: dict[str, Callable[[object, Space], QuerySet]] = {}
