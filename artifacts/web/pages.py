"""The Private Registry's cross-kind pages: the catalog (every kind in the space), the Entity
Creation Hub, the container repository record form, and the browser upload page of a model or
resource version (guide 4.4; the bytes go through the NGC multipart protocol from static/js/upload.js).

Reads go through the kinds' scoped selectors, writes through services; `portal_page` renders
policy errors as 404/403 pages.
"""
from urllib.parse import urlencode

from django.http import HttpResponseNotAllowed
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from registry_portal.errors import AccessDenied, NotFound
from accounts.permissions import Action, can, get_space, teams_with
from accounts.roles import Service
from registry_portal.web_gate import portal_page
from artifacts import services as container_services
from artifacts.versioned import choices
from artifacts.versioned import selectors as versioned_selectors
from artifacts.versioned.models import ArtifactKind, LinkType
from artifacts.versioned.models import SERVICE_OF_KIND
from artifacts.versioned.services import MAX_METRICS_ATTRIBUTES, MAX_METRICS_TABLES
from artifacts.web import catalog
from artifacts.web.forms import ContainerRecordForm
from artifacts.web.page_flows import form_page, paginate, split_ref

PAGE_SIZE = 24
VIEWS = ("cards", "table")
# The GPU families a version may say it was trained on (guide 4.4 "GPU Model - Drop Down").
GPU_MODELS = (
    "B200", "H200", "H100", "GH200", "L40S", "L40", "L4", "A100", "A40", "A30", "A10", "A2", "V100", "T4",
    "RTX 6000 Ada", "RTX A6000", "Jetson Orin", "Jetson Xavier", "Other",
)
# Upload parts of 8 MiB: a big file goes in several parts, each retried on its own.
PART_SIZE = 8 * 1024 * 1024
# sha256 is computed in the browser with crypto.subtle.digest, which needs the whole file in memory:
# larger files are refused with a message (use the ngc CLI for them).
MAX_BROWSER_FILE = 256 * 1024 * 1024


def url_for(names: tuple[str, ...], *args) -> str | None:
    """The first of `names` that reverses (pages other helpers own may not exist yet), else None."""
    for name in names:
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    return None


def item_url(item: catalog.CatalogItem) -> str | None:
    if item.kind == "container":
        return reverse("artifacts:container", args=[item.resource_id])
    if item.kind == "helm-chart":
        return reverse("helmcharts:chart", args=[item.resource_id])
    return url_for((f"versioned:{item.kind}", f"models:{item.kind}", f"accounts:{item.kind}"), item.resource_id) or url_for(
        (f"accounts:{item.kind}s",)
    )


def _query(request) -> catalog.CatalogQuery:
    get = request.GET
    kind = get.get("kind", "")
    sort = get.get("sort", "name")
    return catalog.CatalogQuery(
        search=get.get("q", "").strip()[:200], kind=kind if kind in catalog.KINDS else "",
        space=get.get("space", "").strip()[:64], application=get.get("application", "").strip()[:128],
        framework=get.get("framework", "").strip()[:128], sort=sort if sort in catalog.SORTS else "name",
    )


def _teams_for_filter(user, space) -> list[str]:
    if space.team is not None:
        return []
    names = set()
    for service in (Service.CONTAINER, Service.MODEL, Service.MODELSCRIPT, Service.HELM):
        names.update(team.name for team in teams_with(user, space.org, Action.READ, service=service))
    return sorted(names)


@portal_page
def catalog_page(request):
    space = request.get_current_space()
    query = _query(request)
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else "cards"
    rows = catalog.catalog_rows(request.user, space, query)
    page = paginate(request, rows if rows is not None else [], PAGE_SIZE)
    items = catalog.as_items(page.object_list)
    for item in items:
        item.url = item_url(item)
    keep = {key: value for key, value in (
        ("q", query.search), ("kind", query.kind), ("space", query.space), ("application", query.application),
        ("framework", query.framework), ("sort", query.sort if query.sort != "name" else ""),
    ) if value}
    filtered = any(keep.get(key) for key in ("q", "kind", "space", "application", "framework"))
    return render(request, "registry/catalog.html", {
        "space": space, "query": query, "view": view, "page": page, "items": items, "filtered": filtered,
        "kinds": catalog.KINDS, "sorts": catalog.SORTS, "applications": choices.APPLICATIONS,
        "frameworks": choices.FRAMEWORKS, "teams": _teams_for_filter(request.user, space),
        "querystring": urlencode({**keep, "view": view}),
        "cards_query": urlencode({**keep, "view": "cards"}), "table_query": urlencode({**keep, "view": "table"}),
        "hub_url": reverse("registry:hub"),
    })


def _hub_cards(user, space) -> list[dict]:
    def allowed(service):
        return can(user, Action.WRITE, space, service=service)

    return [
        {"title": "Create Model", "kind": "model", "allowed": allowed(Service.MODEL),
         "text": "A trained model's metadata; then upload versions of its files from the browser or the ngc CLI.",
         "url": url_for(("versioned:model-create", "models:model-create", "versioned:create-model"))},
        {"title": "Create Resource", "kind": "resource", "allowed": allowed(Service.MODELSCRIPT),
         "text": "Scripts, notebooks or other files that go with a model, versioned like a model.",
         "url": url_for(("versioned:resource-create", "models:resource-create", "versioned:create-resource"))},
        {"title": "Create Helm Chart", "kind": "helm-chart", "allowed": allowed(Service.HELM),
         "text": "A chart's record and details; its versions arrive with helm push or ngc registry chart push.",
         "url": reverse("helmcharts:chart-create")},
        {"title": "Create Container", "kind": "container", "allowed": allowed(Service.CONTAINER),
         "text": "A repository record with its description, before the first docker push.",
         "url": reverse("registry:container-create")},
    ]


@portal_page
def hub(request):
    space = request.get_current_space()
    return render(request, "registry/hub.html", {"space": space, "cards": _hub_cards(request.user, space)})


@portal_page
def container_create(request):
    """A container repository's record before its first push (POST /v2/{ot}/repos in the portal)."""
    space = request.get_current_space()
    if not can(request.user, Action.WRITE, space, service=Service.CONTAINER):
        raise AccessDenied(f"You do not have permission to create containers in {space.path}.")
    form = ContainerRecordForm(request.POST or None)
    return form_page(
        request, form, lambda: container_services.repository_create(actor=request.user, space=space, **form.fields_for_service()),
        template="registry/container_create.html", context={"space": space}, field_names={"name": "path", "isPublic": "is_public"},
        success=lambda repository: f"Created repository {repository.name}. Push an image to it with docker.",
        done_url=lambda repository: reverse("artifacts:container", args=[repository.name]),
    )


def _upload_page(request, kind: str, ref: str):
    if ref.count("/") not in (1, 2):
        raise NotFound(f"'{ref}' is not <org>/[<team>/]<name>.")
    org, team, name = split_ref(ref)
    space = get_space(request.user, org, team)
    artifact = versioned_selectors.artifact_in_space(request.user, space, kind, name)
    can_upload = can(request.user, Action.WRITE, space, service=SERVICE_OF_KIND[kind])
    if request.method not in ("GET", "HEAD"):
        if not can_upload:
            raise AccessDenied(f"You do not have permission to upload versions of {artifact.resource_id}.")
        return HttpResponseNotAllowed(["GET"])
    api_space = f"org/{space.org.name}" + (f"/team/{space.team.name}" if space.team else "")
    label = "model" if kind == ArtifactKind.MODEL else "resource"
    return render(request, "registry/upload.html", {
        "artifact": artifact, "space": space, "kind": kind, "label": label, "can_upload": can_upload,
        "gpu_models": GPU_MODELS, "link_types": LinkType.values, "max_tables": MAX_METRICS_TABLES,
        "max_attributes": MAX_METRICS_ATTRIBUTES, "part_size": PART_SIZE, "max_file": MAX_BROWSER_FILE,
        "api_space": api_space, "latest": artifact.latest_version,
        "versions_url": url_for((f"versioned:{label}-versions",), artifact.resource_id),
        "detail_url": url_for((f"versioned:{label}", f"models:{label}"), artifact.resource_id)
        or url_for((f"accounts:{label}s",)),
    })


@portal_page(needs_space=False)  # the page names its own space
def model_upload(request, ref: str):
    return _upload_page(request, ArtifactKind.MODEL, ref)


@portal_page(needs_space=False)
def resource_upload(request, ref: str):
    return _upload_page(request, ArtifactKind.RESOURCE, ref)
