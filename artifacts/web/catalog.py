"""The Private Registry catalog: every kind a user may see in the current space, in one list.

Each kind's visible rows come from its own scoped selector (containers, models, resources, Helm
charts); they are narrowed to the same columns and joined with UNION ALL, so a page costs one
count and one page query whatever the number of items (plus the permission checks, which do not
grow with the rows either).
"""
from dataclasses import dataclass

from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Coalesce, Lower

from accounts.permissions import Space
from artifacts import selectors as container_selectors
from artifacts.versioned import selectors as versioned_selectors
from artifacts.versioned.models import ArtifactKind
from artifacts.core import kinds

KINDS = {
    "container": "Container",
    "model": "Model",
    "resource": "Resource",
    "helm-chart": "Helm Chart",
}
SORTS = {"name": "Name (A–Z)", "-name": "Name (Z–A)", "-modified": "Last modified (newest)", "modified": "Last modified (oldest)"}


@dataclass(frozen=True)
class CatalogQuery:
    search: str = ""
    kind: str = ""          # "" or a key of KINDS
    space: str = ""         # "" (everything visible), "org" (org-level only) or a team name
    application: str = ""
    framework: str = ""
    sort: str = "name"


def _text(value) -> Value:
    return Value(value, output_field=CharField())


def _narrow(rows, *, kind: str, name: str, description, application=None, framework=None):
    return rows.order_by().annotate(
        kind_key=_text(kind),
        item_name=F(name),
        name_lower=Lower(name),
        item_display=F("display_name"),
        item_description=description,
        org_label=F("org__name"),
        team_label=Coalesce(F("team__name"), _text("")),
        app_label=application if application is not None else _text(""),
        fw_label=framework if framework is not None else _text(""),
    ).values_list(
        "kind_key", "id", "item_name", "name_lower", "item_display", "item_description", "org_label", "team_label",
        "app_label", "fw_label", "labels", "updated_at", "logo",
    )


def _filter(rows, query: CatalogQuery, *, name: str, description_fields: tuple[str, ...], versioned: bool):
    if query.space == "org":
        rows = rows.filter(team__isnull=True)
    elif query.space:
        rows = rows.filter(team__name=query.space)
    if query.search:
        condition = Q(**{f"{name}__icontains": query.search}) | Q(display_name__icontains=query.search)
        condition |= Q(labels__icontains=query.search)
        for field in description_fields:
            condition |= Q(**{f"{field}__icontains": query.search})
        rows = rows.filter(condition)
    if query.application:
        rows = rows.filter(application=query.application) if versioned else rows.none()
    if query.framework:
        rows = rows.filter(framework=query.framework) if versioned else rows.none()
    return rows


def catalog_rows(user, space: Space, query: CatalogQuery):
    """A UNION ALL queryset of row tuples (see `as_items`), sorted; slice it for a page; None when
    the kind filter names no kind."""
    parts = []
    wanted = lambda kind: not query.kind or query.kind == kind  # noqa: E731
    if wanted("container"):
        rows = container_selectors.searchable_repositories(user, space)
        rows = _filter(rows, query, name="path", description_fields=("description",), versioned=False)
        parts.append(_narrow(rows, kind="container", name="path", description=F("description")))
    for key, kind in (("model", ArtifactKind.MODEL), ("resource", ArtifactKind.RESOURCE)):
        if wanted(key):
            rows = versioned_selectors.artifacts_in_search_scope(user, space, kind)
            rows = _filter(rows, query, name="name", description_fields=("short_description", "description"), versioned=True)
            parts.append(_narrow(
                rows, kind=key, name="name", description=F("short_description"),
                application=F("application"), framework=F("framework"),
            ))
    if wanted("helm-chart"):
        rows = kinds.CATALOG_SCOPES["helm-chart"](user, space)
        rows = _filter(rows, query, name="name", description_fields=("short_description",), versioned=False)
        parts.append(_narrow(rows, kind="helm-chart", name="name", description=F("short_description")))
    if not parts:
        return None
    combined = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    order = {
        "name": ("name_lower", "kind_key", "id"), "-name": ("-name_lower", "kind_key", "-id"),
        "modified": ("updated_at", "kind_key", "id"), "-modified": ("-updated_at", "kind_key", "-id"),
    }[query.sort if query.sort in SORTS else "name"]
    return combined.order_by(*order)


@dataclass
class CatalogItem:
    kind: str
    pk: int
    name: str
    display_name: str
    description: str
    org_name: str
    team_name: str
    application: str
    framework: str
    labels: list
    updated_at: object
    logo: str = ""  # an http(s) URL, often an uploaded logo (artifacts.logos)

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def space_path(self) -> str:
        return f"{self.org_name}/{self.team_name}" if self.team_name else self.org_name

    @property
    def resource_id(self) -> str:
        return f"{self.space_path}/{self.name}"

    @property
    def title(self) -> str:
        return self.display_name or self.name


def as_items(rows) -> list[CatalogItem]:
    items = []
    for row in rows:
        kind, pk, name, _key, display, description, org, team, application, framework, labels, updated, logo = row
        items.append(CatalogItem(
            kind=kind, pk=pk, name=name, display_name=display or "", description=description or "", org_name=org,
            team_name=team or "", application=application or "", framework=framework or "",
            labels=labels if isinstance(labels, list) else [], updated_at=updated, logo=logo or "",
        ))
    return items
