"""The portal's model and resource pages (guide 4.2, 4.4, 4.6, 5): the space's Models / Resources
lists, an artifact's Overview (and a resource's documentation tabs), Versions with metrics and a
side-by-side Compare, a version's File Browser with downloads, Edit Details, Create, and deletes
with confirmations naming what goes.

An artifact is addressed by `<org>/[<team>/]<name>`; reads go through artifacts.versioned.selectors
(an artifact a user may not read is a 404), writes through artifacts.versioned.services;
`portal_page` renders policy errors as 404/403 pages. Buttons a user may not use are hidden, and
the services refuse them anyway. Downloads use the transfer module: a file's signed download URL
and the version's zip endpoint (which takes the portal's session).
"""
from functools import partial
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse

from registry_portal.errors import AccessDenied, NotFound, RegistryError
from accounts.permissions import Action, can, get_space
from registry_portal.web_gate import portal_page
from artifacts.core.metadata import may_delete, may_edit
from artifacts.web import file_browser
from artifacts.web.page_flows import delete_page, details_page, form_page, markdown_html, paginate, search_term, split_ref
from artifacts.blobs.store import get_blob_store
from artifacts.versioned import selectors, services
from artifacts.versioned.transfers.capabilities import file_url_path
from artifacts.versioned.forms import RESOURCE_DOCS, ArtifactCreateForm, ArtifactDetailsForm
from artifacts.versioned.models import SERVICE_OF_KIND, ArtifactKind, ArtifactVersion, VersionedArtifact

PAGE_SIZE = 25
PREVIEW_LIMIT = 256 * 1024
DOC_SLUGS = {name.replace("_", "-"): (name, label) for name, label in RESOURCE_DOCS}
VERSION_FIELDS = (
    ("accuracy_reached", "Accuracy reached"), ("number_of_epochs", "Epochs"), ("batch_size", "Batch size"),
    ("gpu_model", "GPU model"), ("memory_footprint", "Memory footprint"),
)


def url_prefix(kind: str) -> str:
    """`versioned:model` or `versioned:resource`; the page names add `-versions`, `-edit`, …"""
    return "versioned:model" if kind == ArtifactKind.MODEL else "versioned:resource"


def _noun(kind: str) -> str:
    return "model" if kind == ArtifactKind.MODEL else "resource"


def _require(allowed: bool, what: str, artifact: VersionedArtifact) -> None:
    if not allowed:
        raise AccessDenied(f"You do not have permission to {what} {artifact.resource_id}.")


def _urls(kind: str, ref: str) -> dict:
    prefix = url_prefix(kind)
    return {
        name: reverse(f"{prefix}{suffix}", args=[ref])
        for name, suffix in (("detail", ""), ("versions", "-versions"), ("edit", "-edit"), ("delete", "-delete"), ("compare", "-compare"))
    } | {"upload": reverse(f"registry:{'model' if kind == ArtifactKind.MODEL else 'resource'}-upload", args=[ref])}


def _context(request, kind: str, ref: str) -> dict:
    org, team, name = split_ref(ref)
    space = get_space(request.user, org, team)
    artifact = selectors.artifact_in_space(request.user, space, kind, name)
    docs = [(slug, label) for slug, (field, label) in DOC_SLUGS.items() if kind == ArtifactKind.RESOURCE and getattr(artifact, field)]
    return {
        "artifact": artifact, "space": space, "kind": kind, "noun": _noun(kind), "prefix": url_prefix(kind),
        "kind_label": ArtifactKind(kind).label, "kind_plural": "Models" if kind == ArtifactKind.MODEL else "Resources",
        "list_url": reverse(f"{url_prefix(kind)}s"), "urls": _urls(kind, artifact.resource_id),
        "latest": artifact.latest_version, "version_count": artifact.versions.count(), "docs": docs,
        "can_edit": may_edit(request.user, artifact), "can_delete": may_delete(request.user, artifact),
    }


def download_command(artifact: VersionedArtifact, version: str) -> str:
    return f"ngc registry {_noun(artifact.kind)} download-version {artifact.resource_id}:{version}"


def zip_url(artifact: VersionedArtifact, version: str) -> str:
    kwargs = {"org": artifact.org.name, "name": artifact.name, "version": version}
    scope = "org"
    if artifact.team_id is not None:
        kwargs["team"], scope = artifact.team.name, "team"
    return reverse(f"api-{scope}-{artifact.kind}-version-zip", kwargs=kwargs)


# --- lists ----------------------------------------------------------------------------------------


def artifacts_of_space(user, space, kind: str, *, search: str = ""):
    """The space's own artifacts of `kind` (not its teams'), latest version joined in: one query."""
    if not can(user, Action.READ, space, service=SERVICE_OF_KIND[kind]):
        return VersionedArtifact.objects.none()
    rows = VersionedArtifact.objects.filter(kind=kind, org=space.org, team=space.team)
    if search:
        rows = rows.filter(
            Q(name__icontains=search) | Q(display_name__icontains=search) | Q(short_description__icontains=search)
            | Q(description__icontains=search) | Q(labels__icontains=search)
        )
    return rows.select_related("org", "team", "latest_version").order_by("name", "pk")


def _artifact_list(request, kind: str):
    space = request.get_current_space()
    search = search_term(request)
    page = paginate(request, artifacts_of_space(request.user, space, kind, search=search), PAGE_SIZE)
    prefix = url_prefix(kind)
    return render(request, "versioned/artifact_list.html", {
        "space": space, "search": search, "page": page, "artifacts": page.object_list, "kind": kind, "noun": _noun(kind),
        "prefix": prefix, "kind_plural": "Models" if kind == ArtifactKind.MODEL else "Resources",
        "create_url": reverse(f"{prefix}-create"),
        "can_create": can(request.user, Action.WRITE, space, service=SERVICE_OF_KIND[kind]),
    })


@portal_page
def model_list(request):
    return _artifact_list(request, ArtifactKind.MODEL)


@portal_page
def resource_list(request):
    return _artifact_list(request, ArtifactKind.RESOURCE)


# --- create ---------------------------------------------------------------------------------------


@portal_page
def artifact_create(request, kind: str):
    """Create Model / Create Resource (guide 4.2) in the current space."""
    space = request.get_current_space()
    label = ArtifactKind(kind).label
    if not can(request.user, Action.WRITE, space, service=SERVICE_OF_KIND[kind]):
        raise AccessDenied(f"You do not have permission to create {label.lower()}s in {space.path}.")
    form = ArtifactCreateForm(request.POST or None, kind=kind, space=space)

    def create() -> VersionedArtifact:
        fields = form.changes()
        name = fields.pop("name")
        try:
            return services.artifact_create(actor=request.user, space=space, kind=kind, name=name, **fields)
        except RegistryError as exc:
            if not exc.field and "already exists" in exc.message:
                exc.field = "name"
            raise

    return form_page(
        request, form, create, template="versioned/artifact_create.html", field_names={"modelFormat": "model_format"}, context={
            "space": space, "kind": kind, "noun": _noun(kind), "kind_label": label,
            "kind_plural": "Models" if kind == ArtifactKind.MODEL else "Resources", "list_url": reverse(f"{url_prefix(kind)}s"),
        },
        success=lambda artifact: f"Created {label.lower()} {artifact.resource_id}.",
        done_url=lambda artifact: reverse(url_prefix(kind), args=[artifact.resource_id]),
    )


# --- an artifact's tabs ---------------------------------------------------------------------------


@portal_page
def artifact_detail(request, kind: str, ref: str):
    context = _context(request, kind, ref)
    latest = context["latest"]
    return render(request, "versioned/artifact_overview.html", {
        **context, "tab": "overview",
        "overview_html": markdown_html(context["artifact"].description),
        "command": download_command(context["artifact"], latest.version) if latest else None,
        "zip": zip_url(context["artifact"], latest.version) if latest else None,
    })


@portal_page
def artifact_doc(request, kind: str, ref: str, doc: str):
    """A resource's documentation tab (advanced guide, performance, quick start, release notes, setup)."""
    context = _context(request, kind, ref)
    if kind != ArtifactKind.RESOURCE or doc not in DOC_SLUGS:
        raise NotFound(f"No page '{doc}'.")
    field, label = DOC_SLUGS[doc]
    return render(request, "versioned/artifact_doc.html", {
        **context, "tab": doc, "doc_label": label,
        "doc_html": markdown_html(getattr(context["artifact"], field)),
    })


@portal_page
def artifact_versions(request, kind: str, ref: str):
    context = _context(request, kind, ref)
    artifact = context["artifact"]
    versions = selectors.artifact_versions(artifact, sort_order="SEMVER_DESC")
    for version in versions:
        version.can_delete = may_delete(request.user, artifact, pushed_by_id=version.created_by_id)
        version.details = [(label, getattr(version, field)) for field, label in VERSION_FIELDS]
        version.command = download_command(artifact, version.version)
    return render(request, "versioned/artifact_versions.html", {
        **context, "tab": "versions", "versions": versions, "any_deletable": any(v.can_delete for v in versions),
    })


VERSION_PAGE_FILES = 50  # the version page lists this many; the File Browser has the rest


def related_link(version: ArtifactVersion) -> dict | None:
    """The version's related link (`otherContents`) for display; only http(s) URLs become hrefs,
    so a stored `javascript:` value is shown as text and never made clickable."""
    if not version.link:
        return None
    clickable = version.link.lower().startswith(("https://", "http://"))
    return {"type": version.link_type or "Link", "url": version.link, "href": version.link if clickable else ""}


@portal_page
def artifact_version(request, kind: str, ref: str, version: str):
    """A version's own page: its fields, metrics tables, related link, files and download command."""
    context = _context(request, kind, ref)
    artifact = context["artifact"]
    row = selectors.version_of(artifact, version)
    row.artifact = artifact
    files = list(selectors.version_files(row)[:VERSION_PAGE_FILES])
    if row.is_complete:
        for file in files:
            file.download_url = file_url_path(file, request.user)
    return render(request, "versioned/artifact_version.html", {
        **context, "tab": "versions", "version": row, "files": files,
        "details": [(label, getattr(row, field)) for field, label in (*VERSION_FIELDS, ("owner_name", "Owner"))],
        "link": related_link(row), "command": download_command(artifact, row.version),
        "zip": zip_url(artifact, row.version) if row.is_complete else None,
        "files_url": reverse(f"{url_prefix(kind)}-files", args=[artifact.resource_id, row.version]),
        "can_delete_version": may_delete(request.user, artifact, pushed_by_id=row.created_by_id),
    })


def compare_rows(versions: list[ArtifactVersion]) -> list[dict]:
    """Rows of the Compare table: the version fields, then each metrics table's keys in first-seen
    order (a key repeated within a table is compared occurrence by occurrence)."""
    rows = [{"group": "", "key": label, "values": [getattr(v, field) or "—" for v in versions]} for field, label in VERSION_FIELDS]
    keys: list[tuple[str, str, int]] = []
    values: list[dict] = []
    for version in versions:
        found = {}
        for table in version.custom_metrics or []:
            seen: dict[str, int] = {}
            for attribute in table.get("attributes", []):
                occurrence = seen.get(attribute["key"], 0)
                seen[attribute["key"]] = occurrence + 1
                key = (table["name"], attribute["key"], occurrence)
                found[key] = attribute["value"]
                if key not in keys:
                    keys.append(key)
        values.append(found)
    for key in keys:
        rows.append({"group": key[0], "key": key[1], "values": [found.get(key, "—") for found in values]})
    return rows


@portal_page
def artifact_compare(request, kind: str, ref: str):
    """Two or more versions' fields and metrics side by side (`?v=1.0&v=2.0`)."""
    context = _context(request, kind, ref)
    wanted = list(dict.fromkeys(request.GET.getlist("v")))
    if len(wanted) < 2:
        messages.error(request, "Select two or more versions to compare.")
        return redirect(context["urls"]["versions"])
    versions = [selectors.version_of(context["artifact"], name) for name in wanted[:10]]
    return render(request, "versioned/artifact_compare.html", {
        **context, "tab": "versions", "compared": versions, "rows": compare_rows(versions),
    })


def _preview(version: ArtifactVersion, path: str) -> dict:
    """A file's text (≤ 256 KiB, UTF-8) for an escaped <pre>, or why it is not shown."""
    file = selectors.version_files(version).select_related("blob").filter(path=path).first()
    if file is None:
        raise NotFound(f"File '{path}' not found in version '{version.version}'.")
    opened = {"file": file, "text": None, "reason": ""}
    if file.size_bytes > PREVIEW_LIMIT:
        opened["reason"] = "This file is larger than 256 KiB; download it to read it."
        return opened
    try:
        with get_blob_store().open(file.blob.digest) as handle:
            data = handle.read(PREVIEW_LIMIT + 1)
        opened["text"] = data.decode("utf-8")
    except UnicodeDecodeError:
        opened["reason"] = "This file is not UTF-8 text; download it instead."
    except OSError:
        opened["reason"] = "This file's bytes are not available."
    return opened


@portal_page
def artifact_files(request, kind: str, ref: str, version: str | None = None):
    """The File Browser of one version (the latest, else the newest): `?path=dir/` opens a folder,
    `?file=` previews a text file. Download links are the transfer module's signed file URLs."""
    context = _context(request, kind, ref)
    artifact = context["artifact"]
    versions = selectors.artifact_versions(artifact, sort_order="SEMVER_DESC")
    if version is not None:
        current = selectors.version_of(artifact, version)
    else:
        current = context["latest"] or (versions[0] if versions else None)
    directory = file_browser.normalize_directory(request.GET.get("path", ""))
    browser, opened = None, None
    if current is not None:
        current.artifact = artifact
        files_url = reverse(f"{url_prefix(kind)}-files", args=[artifact.resource_id, current.version])
        folders, files = file_browser.browse(
            selectors.version_files(current).filter(path__startswith=directory), directory,
            path=lambda row: row.path, size=lambda row: row.size_bytes,
        )
        for folder in folders:
            folder.url = f"{files_url}?{urlencode({'path': folder.path}, safe='/')}"
        for file in files:
            file.sha256 = file.item.sha256
            file.url = f"{files_url}?{urlencode({'path': directory, 'file': file.path}, safe='/')}"
            if current.is_complete:
                file.download_url = file_url_path(file.item, request.user)
        if request.GET.get("file"):
            opened = _preview(current, request.GET["file"])
            row = opened["file"]
            opened.update(path=row.path, size=row.size_bytes, sha256=row.sha256)
            if current.is_complete:
                opened["download_url"] = file_url_path(row, request.user)
        browser = file_browser.Browser(
            root_label=f"{artifact.name}:{current.version}", root_url=files_url, folders=folders, files=files,
            crumbs=file_browser.crumbs(directory, lambda path: f"{files_url}?{urlencode({'path': path}, safe='/')}"),
            opened=opened, directory=directory,
        )
    return render(request, "versioned/artifact_files.html", {
        **context, "tab": "files", "versions": versions, "version": current, "browser": browser,
        "command": download_command(artifact, current.version) if current else "",
        "zip": zip_url(artifact, current.version) if current is not None and current.is_complete else None,
    })


# --- writes ---------------------------------------------------------------------------------------


@portal_page
def artifact_edit(request, kind: str, ref: str):
    """Edit Details (guide 4.6)."""
    context = _context(request, kind, ref)
    artifact = context["artifact"]
    _require(context["can_edit"], "edit", artifact)
    form = ArtifactDetailsForm(request.POST or None, request.FILES or None, kind=kind, space=context["space"], artifact=artifact)
    return details_page(
        request, form, partial(services.artifact_update, actor=request.user, artifact=artifact), subject=artifact.resource_id,
        template="versioned/artifact_edit.html", context=context, field_names={"modelFormat": "model_format"},
        done_url=context["urls"]["detail"],
    )


@portal_page
def artifact_delete(request, kind: str, ref: str):
    """Delete a model or resource with all its versions, after a confirmation naming them."""
    context = _context(request, kind, ref)
    artifact = context["artifact"]
    _require(context["can_delete"], "delete", artifact)

    def doomed() -> dict:
        versions = selectors.artifact_versions(artifact, sort_order="SEMVER_DESC")
        return {
            **context, "versions": versions[:100], "file_count": sum(v.total_file_count for v in versions),
            "total_size": sum(v.total_size_bytes for v in versions),
        }

    return delete_page(
        request, lambda: services.artifact_delete(actor=request.user, artifact=artifact), template="versioned/artifact_delete.html",
        context=doomed, success=f"Deleted {context['noun']} {artifact.resource_id} and its {context['version_count']} version(s).",
        done_url=context["list_url"],
    )


@portal_page
def version_delete(request, kind: str, ref: str, version: str):
    context = _context(request, kind, ref)
    artifact = context["artifact"]
    row = selectors.version_of(artifact, version)
    _require(may_delete(request.user, artifact, pushed_by_id=row.created_by_id), "delete versions of", artifact)
    return delete_page(
        request, lambda: services.version_delete(actor=request.user, version=row), template="versioned/version_delete.html",
        context=lambda: {
            **context, "version": row, "command": download_command(artifact, row.version),
            "becomes_latest": row.pk == artifact.latest_version_id,
        },
        success=f"Deleted version {artifact.resource_id}:{row.version}.", done_url=context["urls"]["versions"],
    )

