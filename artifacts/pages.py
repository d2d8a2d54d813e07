"""The portal's container pages (guide 3.3–3.6): the Private Registry's container list, a
repository's Overview and Tags, and its Edit Details / delete pages.

Reads go through artifacts.selectors (scoped by the policy: a repository a user may not see is a
404), writes through services; `portal_page` renders policy errors as 404/403 pages.
"""
from functools import partial
from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from registry_portal.errors import AccessDenied
from accounts.permissions import Action, can
from accounts.roles import Service
from registry_portal import http_ranges
from registry_portal.web_gate import portal_page
from artifacts import forms, selectors, services
from artifacts.core.metadata import may_delete, may_edit, space_of
from artifacts.gpu import selectors as gpu_selectors
from artifacts.gpu.models import GpuVerdict
from artifacts.models import Logo, Repository
from artifacts.blobs.serve import BlobMissing, blob_response
from artifacts.web.page_flows import delete_page, details_page, markdown_html, paginate, search_term

PAGE_SIZE = 25
TAGS_PAGE_SIZE = 50


def _actions(user, repository: Repository) -> dict:
    """What the user may do on the repository; pages show only these buttons."""
    return {"can_edit": may_edit(user, repository), "can_delete": may_delete(user, repository)}


def _require(allowed: bool, what: str, repository: Repository) -> None:
    if not allowed:
        raise AccessDenied(f"You do not have permission to {what} {repository.name}.")


def _repository_context(request, name: str) -> dict:
    repository = selectors.container_repository(request.user, name)
    latest = selectors.latest_tag(repository)
    return {
        "repository": repository, "space": space_of(repository),
        "latest": selectors.describe_tags([latest])[0] if latest else None,
        "tag_count": selectors.repository_tags(repository).count(),
        **_actions(request.user, repository),
    }


@portal_page
def container_list(request):
    space = request.get_current_space()
    search = search_term(request)
    rows = selectors.container_repositories(request.user, space, search=search)
    runs_on = request.GET.get("runs_on", "").strip()
    gpu_filter = None
    if runs_on:  # only images compatible with that GPU host of the org
        unknown = gpu_selectors.runs_on(rows, space.org, runs_on, status=GpuVerdict.UNKNOWN)
        rows = gpu_selectors.runs_on(rows, space.org, runs_on)
        gpu_filter = {
            "host": runs_on, "known_host": gpu_selectors.org_hosts(space.org).filter(name=runs_on).exists(),
            "unknown_count": unknown.exclude(pk__in=rows.values("pk")).count(),
            "clear_url": reverse("artifacts:containers") + (f"?{urlencode({'q': search})}" if search else ""),
        }
    page = paginate(request, rows, PAGE_SIZE)
    return render(request, "artifacts/container_list.html", {
        "space": space, "search": search, "page": page, "repositories": selectors.attach_latest_sizes(page.object_list),
        "can_push": can(request.user, Action.WRITE, space, service=Service.CONTAINER), "gpu_filter": gpu_filter,
    })


@portal_page
def container_detail(request, name: str):
    context = _repository_context(request, name)
    return render(request, "artifacts/container_overview.html", {
        **context, "tab": "overview", "overview_html": markdown_html(context["repository"].overview),
    })


@portal_page
def container_tags(request, name: str):
    context = _repository_context(request, name)
    page = paginate(request, selectors.repository_tags(context["repository"]), TAGS_PAGE_SIZE)
    tags = gpu_selectors.attach_verdicts(request.user, context["repository"], selectors.describe_tags(page.object_list))
    selectors.attach_image_details(context["repository"], tags)
    for tag in tags:
        tag.can_delete = may_delete(request.user, context["repository"], pushed_by_id=tag.manifest.created_by_id)
    return render(request, "artifacts/container_tags.html", {
        **context, "tab": "tags", "page": page, "tags": tags, "any_deletable": any(tag.can_delete for tag in tags),
    })


@portal_page(needs_preferences=False, needs_space=False)
def logo(request, digest: str):
    """An uploaded logo (artifacts.logos) to any signed-in user, with the media type sniffed at upload.
    Content-addressed, so it may be cached for good; nosniff keeps browsers to that type. Like every
    blob, served only while verified: a quarantined one (artifacts.blobs.verify) is 404 until uploaded again.
    Streamed by the app even from S3: a redirect would be cached for a year past its presigned URL's
    life, and the nosniff and CSP headers that keep an image an image are the app's to send."""
    found = Logo.objects.select_related("blob").filter(digest=digest, blob__verified_at__isnull=False).first()
    if found is None:
        raise Http404("No such logo.")
    try:
        response = blob_response(
            request, digest=digest, size=found.blob.size, content_type=found.media_type, redirect=False,
        )
    except BlobMissing:
        raise Http404("No such logo.") from None
    except http_ranges.RangeNotSatisfiable as exc:
        response = HttpResponse(status=416)
        response["Content-Range"] = exc.content_range
        return response
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


@portal_page
def container_edit(request, name: str):
    """Edit Details (guide 3.5.1)."""
    context = _repository_context(request, name)
    repository = context["repository"]
    _require(context["can_edit"], "edit", repository)
    form = forms.RepositoryDetailsForm(request.POST or None, request.FILES or None, repository=repository, allow_public=context["can_delete"])
    return details_page(
        request, form, partial(services.repository_update, actor=request.user, repository=repository), subject=repository.name,
        template="artifacts/container_edit.html", context=context, field_names={"isPublic": "is_public"},
        done_url=reverse("artifacts:container", args=[repository.name]),
    )


@portal_page
def container_tag_delete(request, name: str, tag: str):
    context = _repository_context(request, name)
    repository = context["repository"]
    found = selectors.repository_tag(repository, tag)
    _require(may_delete(request.user, repository, pushed_by_id=found.manifest.created_by_id), "delete tags of", repository)
    return delete_page(
        request, lambda: services.tag_delete(actor=request.user, repository=repository, tag=tag),
        template="artifacts/container_tag_delete.html", context=lambda: {**context, "tag": selectors.describe_tags([found])[0]},
        success=f"Deleted tag {repository.name}:{tag}.", done_url=reverse("artifacts:container-tags", args=[repository.name]),
    )


@portal_page
def container_delete(request, name: str):
    context = _repository_context(request, name)
    repository = context["repository"]
    _require(context["can_delete"], "delete", repository)
    tags = selectors.repository_tags(repository).values_list("name", flat=True)
    return delete_page(
        request, lambda: services.repository_delete(actor=request.user, repository=repository),
        template="artifacts/container_delete.html", context=lambda: {**context, "tag_names": list(tags[:100])},
        success=f"Deleted repository {repository.name} and its {context['tag_count']} tag(s).", done_url=reverse("artifacts:containers"),
    )
