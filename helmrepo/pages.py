"""The portal's Helm chart pages (guide 6.3): the space's chart cards, Create Helm Chart, a chart's
Overview, Versions and File Browser, its fetch commands, Edit Details, and deletes with
confirmation. (The Helm repository protocol itself is helmrepo/views.py.)

A chart is addressed by `<org>/[<team>/]<name>`; reads go through helmrepo.selectors (a chart a
user may not read is a 404), writes through helmrepo.services; `portal_page` renders policy errors
as 404/403 pages. Buttons a user may not use are hidden, and the services refuse them anyway.
"""
from functools import partial
from urllib.parse import urlencode

from django.shortcuts import render
from django.urls import reverse

from registry_portal.errors import AccessDenied
from accounts.permissions import Action, can, get_space
from accounts.roles import Service
from registry_portal.web_gate import portal_page
from artifacts.core.metadata import may_delete, may_edit
from artifacts.web import file_browser
from artifacts.web.page_flows import delete_page, details_page, form_page, markdown_html, paginate, search_term, split_ref
from helmrepo import forms, selectors, services
from helmrepo.models import Chart, ChartVersion
from helmrepo.package_files import listed_files, read_text
from registry_portal.site_urls import helm_push_url, helm_repository_url

PAGE_SIZE = 24


def helm_repo_name(space) -> str:
    """A suggested local repository name for `helm repo add`."""
    return space.path.replace("/", "-")


def _require(allowed: bool, what: str, chart: Chart) -> None:
    if not allowed:
        raise AccessDenied(f"You do not have permission to {what} {chart.resource_id}.")


def _chart_context(request, ref: str) -> dict:
    org, team, name = split_ref(ref)
    space = get_space(request.user, org, team)
    chart = selectors.chart_in_space(request.user, space, name)
    return {
        "chart": chart, "space": space, "latest": chart.latest_version,
        "version_count": chart.versions.count(), "repo_url": helm_repository_url(space.path),
        "repo_name": helm_repo_name(space), "push_url": helm_push_url(space.path),
        "can_edit": may_edit(request.user, chart), "can_delete": may_delete(request.user, chart),
    }


def _fetch(context: dict, version: ChartVersion) -> dict:
    """The fetch command and the direct download URL of one version."""
    chart = context["chart"]
    return {
        "command": f"helm fetch {context['repo_name']}/{chart.name} --version {version.version}",
        "url": f"{context['repo_url']}/charts/{chart.name}-{version.version}.tgz",
    }


@portal_page
def chart_list(request):
    space = request.get_current_space()
    search = search_term(request)
    page = paginate(request, selectors.charts_in_space(request.user, space, search=search), PAGE_SIZE)
    return render(request, "helmrepo/chart_list.html", {
        "space": space, "search": search, "page": page, "charts": page.object_list,
        "repo_url": helm_repository_url(space.path), "repo_name": helm_repo_name(space), "push_url": helm_push_url(space.path),
        "can_push": can(request.user, Action.WRITE, space, service=Service.HELM),
    })


@portal_page
def chart_detail(request, ref: str):
    context = _chart_context(request, ref)
    latest = context["latest"]
    return render(request, "helmrepo/chart_overview.html", {
        **context, "tab": "overview", "fetch": _fetch(context, latest) if latest else None,
        "overview_html": markdown_html(context["chart"].overview),
    })


@portal_page
def chart_versions(request, ref: str):
    context = _chart_context(request, ref)
    chart = context["chart"]
    versions = selectors.chart_versions(chart)
    for version in versions:
        version.fetch = _fetch(context, version)
        version.can_delete = may_delete(request.user, chart, pushed_by_id=version.created_by_id)
    return render(request, "helmrepo/chart_versions.html", {
        **context, "tab": "versions", "versions": versions, "any_deletable": any(v.can_delete for v in versions),
    })


@portal_page
def chart_version(request, ref: str, version: str):
    """A chart version's own page: what its Chart.yaml declared, its files and its fetch command."""
    context = _chart_context(request, ref)
    chart = context["chart"]
    row = selectors.chart_version(chart, version)
    return render(request, "helmrepo/chart_version.html", {
        **context, "tab": "versions", "version": row, "fetch": _fetch(context, row), "files": listed_files(row),
        "maintainers": row.chart_metadata.get("maintainers") or [], "home": row.chart_metadata.get("home", ""),
        "can_delete_version": may_delete(request.user, chart, pushed_by_id=row.created_by_id),
    })


@portal_page
def chart_files(request, ref: str):
    """The File Browser (the same component as a model's, templates/_file_browser.html): the folders
    and files of one version (the latest unless `?version=`) in `?dir=`, and the text of one file
    (`?path=`, whose folder is then listed), escaped by the template like any other text."""
    context = _chart_context(request, ref)
    chart = context["chart"]
    versions = selectors.chart_versions(chart)
    wanted = request.GET.get("version")
    version = selectors.chart_version(chart, wanted) if wanted else (versions[0] if versions else None)
    browser = None
    if version is not None:
        opened = read_text(version, request.GET["path"]) if request.GET.get("path") else None
        directory = file_browser.normalize_directory(
            request.GET.get("dir", "") if opened is None else opened.path.rpartition("/")[0]
        )
        base = reverse("helmcharts:chart-files", args=[chart.resource_id])

        def link(**query) -> str:
            return f"{base}?{urlencode({'version': version.version, **query}, safe='/')}"

        folders, files = file_browser.browse(listed_files(version), directory, path=lambda row: row["path"],
                                             size=lambda row: int(row.get("size") or 0))
        for folder in folders:
            folder.url = link(dir=folder.path)
        for file in files:
            file.url = link(path=file.path)
        browser = file_browser.Browser(
            root_label=f"{chart.name}:{version.version}", root_url=link(), folders=folders, files=files,
            crumbs=file_browser.crumbs(directory, lambda path: link(dir=path)), directory=directory,
            opened=None if opened is None else {"path": opened.path, "size": opened.size, "text": opened.text, "reason": opened.reason},
        )
    return render(request, "helmrepo/chart_files.html", {
        **context, "tab": "files", "versions": versions, "version": version, "browser": browser,
        "file_count": len(version.files or []) if version else 0,
    })


@portal_page
def chart_create(request):
    """Create Helm Chart (guide 6.3.2): a chart record in the current space before its first push."""
    space = request.get_current_space()
    if not can(request.user, Action.WRITE, space, service=Service.HELM):
        raise AccessDenied(f"You do not have permission to create Helm charts in {space.path}.")
    form = forms.ChartCreateForm(request.POST or None)
    return form_page(
        request, form, lambda: services.chart_create(actor=request.user, space=space, **form.fields_for_service()),
        template="helmrepo/chart_create.html", field_names={"shortDescription": "short_description"}, context={
            "space": space, "repo_url": helm_repository_url(space.path), "repo_name": helm_repo_name(space),
            "push_url": helm_push_url(space.path),
        },
        success=lambda chart: f"Created Helm chart {chart.resource_id}. Push its first version with the commands below.",
        done_url=lambda chart: reverse("helmcharts:chart", args=[chart.resource_id]),
    )


@portal_page
def chart_edit(request, ref: str):
    """Edit Details (guide 6.3.2)."""
    context = _chart_context(request, ref)
    chart = context["chart"]
    _require(context["can_edit"], "edit", chart)
    form = forms.ChartDetailsForm(request.POST or None, request.FILES or None, chart=chart)
    return details_page(
        request, form, partial(services.chart_update, actor=request.user, chart=chart), subject=chart.resource_id,
        template="helmrepo/chart_edit.html", context=context, field_names={"shortDescription": "short_description"},
        done_url=reverse("helmcharts:chart", args=[chart.resource_id]),
    )


@portal_page
def chart_delete(request, ref: str):
    """Delete a chart with all its versions (guide 6.3.4), after a confirmation naming them."""
    context = _chart_context(request, ref)
    chart = context["chart"]
    _require(context["can_delete"], "delete", chart)
    return delete_page(
        request, lambda: services.chart_delete(actor=request.user, chart=chart), template="helmrepo/chart_delete.html",
        context=lambda: {**context, "version_names": [row.version for row in selectors.chart_versions(chart)][:100]},
        success=f"Deleted Helm chart {chart.resource_id} and its {context['version_count']} version(s).",
        done_url=reverse("helmcharts:charts"),
    )


@portal_page
def chart_version_delete(request, ref: str, version: str):
    context = _chart_context(request, ref)
    chart = context["chart"]
    row = selectors.chart_version(chart, version)
    _require(may_delete(request.user, chart, pushed_by_id=row.created_by_id), "delete versions of", chart)
    return delete_page(
        request, lambda: services.chart_version_delete(actor=request.user, version=row),
        template="helmrepo/chart_version_delete.html", context=lambda: {**context, "version": row, "fetch": _fetch(context, row)},
        success=f"Deleted version {chart.resource_id}:{row.version}.", done_url=reverse("helmcharts:chart-versions", args=[chart.resource_id]),
    )
