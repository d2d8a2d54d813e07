"""Writes for Helm charts and chart versions.

Rules enforced here: WRITE on HELM to create or edit a chart or push a version (a push creates the
chart record when it is missing, its short description taken from Chart.yaml); a pushed package
is validated in full (helmrepo.packages) before anything is stored, and a refused push leaves no
row and no blob behind; the package's chart name must be the target's; an existing version is a
Conflict unless `force` is asked by someone with HELM ADMIN (a Registry Admin); DELETE (Registry
Admin, or the creator with WRITE) removes charts and versions; `Chart.latest_version` is always
the highest version by SemVer precedence. Every write bumps the space's index generation
(helmrepo.index) once committed, so the next index.yaml is rendered afresh.
"""
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from registry_portal.errors import AccessDenied, Conflict, InvalidInput, NotFound
from accounts.permissions import Action, Space, can, require
from accounts.roles import Service
from artifacts.blobs.links import blob_commit_verified
from artifacts.blobs.uploads import StreamedUpload, UploadTooLarge, streamed_upload
from artifacts.blobs.store import get_blob_store
from artifacts.core.metadata import clean_labels, full_clean_or_invalid, require_delete, require_edit, space_of
from artifacts.core.services import artifact_change, artifact_insert
from artifacts.digests import parse_digest
from artifacts.versioned.semver import semver_key
from registry_portal.outbox.services import outbox_enqueue
from helmrepo.models import Chart, ChartVersion
from helmrepo.packages import InvalidPackage, inspect_package

CHART_FIELDS = frozenset({"short_description", "display_name", "publisher", "built_by", "labels", "logo", "overview"})
PACKAGE_MEDIA_TYPE = "application/gzip"


class PackageTooLarge(InvalidInput):
    status_code = 413
    status = "PAYLOAD_TOO_LARGE"


def _clean_chart_fields(fields: dict) -> dict:
    unknown = set(fields) - CHART_FIELDS
    if unknown:
        raise TypeError(f"unknown chart fields: {sorted(unknown)}")
    cleaned = {}
    for name, value in fields.items():
        if name == "labels":
            value = clean_labels(value)
        elif value is None:
            value = ""
        elif isinstance(value, str):
            value = value.strip() if name != "overview" else value
        cleaned[name] = value
    return cleaned


def _bump_index(space: Space) -> None:
    """Owe the space's index a new generation: run right after commit, so a push shows at once; kept
    in the outbox and retried when the cache is unreachable, so no stale index outlives an outage."""
    from helmrepo.tasks import bump_index_generation

    outbox_enqueue(bump_index_generation, space.org.pk, space.team.pk if space.team else None, inline=True)


# --- charts -------------------------------------------------------------------------------------


def chart_create(*, actor, space: Space, name: str, short_description: str, **fields) -> Chart:
    """Create a chart record in `space`. WRITE on HELM; a short description is required; 409 if taken."""
    require(actor, Action.WRITE, space, service=Service.HELM)
    cleaned = _clean_chart_fields({"short_description": short_description, **fields})
    if not cleaned["short_description"]:
        raise InvalidInput("shortDescription is required.", field="shortDescription")
    chart = Chart(org=space.org, team=space.team, name=name, created_by=actor, **cleaned)
    with transaction.atomic():
        artifact_insert(
            chart, same_name=Chart.objects.filter(org=space.org, team=space.team, name=name),
            conflict=f"Helm chart '{space.path}/{name}' already exists.",
        )
        _bump_index(space)
    return chart


def chart_update(*, actor, chart: Chart, **changes) -> Chart:
    """Change chart metadata (only the fields given). WRITE on HELM."""
    require_edit(actor, chart)
    cleaned = _clean_chart_fields(changes)
    if "short_description" in cleaned and not cleaned["short_description"]:
        raise InvalidInput("shortDescription may not be empty.", field="shortDescription")
    return artifact_change(chart, cleaned)


def chart_delete(*, actor, chart: Chart) -> None:
    """Remove a chart with all its versions (their package blobs stay for GC).
    Registry Admin, or the chart's creator with WRITE."""
    require_delete(actor, chart)
    with transaction.atomic():
        locked = Chart.objects.order_by().select_for_update().get(pk=chart.pk)
        locked.latest_version = None
        locked.save(update_fields=["latest_version"])
        locked.delete()
        _bump_index(space_of(chart))


# --- versions -----------------------------------------------------------------------------------


def _latest_id(chart: Chart) -> int | None:
    """The pk of the chart's highest version by SemVer precedence (ties: the newest row)."""
    rows = list(ChartVersion.objects.filter(chart=chart).values_list("pk", "version", "created_at"))
    ranked = [(semver_key(version), created_at, pk) for pk, version, created_at in rows if semver_key(version) is not None]
    return max(ranked)[2] if ranked else None


def _repoint_latest(chart: Chart) -> None:
    latest_id = _latest_id(chart)
    if chart.latest_version_id != latest_id:
        chart.latest_version_id = latest_id
        chart.save(update_fields=["latest_version", "updated_at"])


def max_package_bytes() -> int:
    return settings.HELM_MAX_CHART_BYTES


def chart_version_push(
    *, actor, space: Space, chunks: Iterable[bytes], chart_name: str | None = None, force: bool = False
) -> ChartVersion:
    """Store a pushed chart package as a new version of `space`/<its chart name>.

    The bytes are streamed into the blob store's upload area (at most HELM_MAX_CHART_BYTES), then
    the package is inspected in full; only a valid package becomes a blob and a ChartVersion.
    `chart_name`, when given, must be the name in the package's Chart.yaml. WRITE on HELM; an
    existing version is a Conflict unless `force` (which needs a Registry Admin) replaces it.
    """
    require(actor, Action.WRITE, space, service=Service.HELM)
    limit = max_package_bytes()
    try:
        with streamed_upload(chunks, max_bytes=limit, prefix="helm-") as upload:
            row, chart = _store_version(actor=actor, space=space, upload=upload, chart_name=chart_name, force=force)
    except UploadTooLarge:
        raise PackageTooLarge(f"The chart package is larger than {limit} bytes.") from None
    row.chart = chart
    return row


def _store_version(*, actor, space: Space, upload: StreamedUpload, chart_name: str | None, force: bool) -> tuple[ChartVersion, Chart]:
    """Inspect the streamed package and, when valid, make it the blob of a new (or forced) version."""
    if upload.size == 0:
        raise InvalidInput("The request carries no chart package.")
    with get_blob_store().open_upload(upload.upload_id) as handle:
        try:
            package = inspect_package(handle, max_unpacked_bytes=max_package_bytes() * settings.HELM_MAX_CHART_UNPACKED_RATIO)
        except InvalidPackage as error:
            raise InvalidInput(f"Invalid chart package: {error}.") from None
    if chart_name is not None and package.name != chart_name:
        raise InvalidInput(f"The package is chart '{package.name}', not '{chart_name}'.")
    with transaction.atomic():
        chart = _chart_for_push(actor=actor, space=space, package=package)
        existing = ChartVersion.objects.select_for_update().filter(chart=chart, version=package.version).order_by().first()
        if existing is not None and not force:
            raise Conflict(f"Version '{package.version}' of chart '{chart.resource_id}' already exists.")
        if existing is not None and not can(actor, Action.DELETE, space, service=Service.HELM):
            raise AccessDenied("Only a Registry Admin may overwrite an existing chart version (force).")
        # The package hashed while it streamed into its own upload file becomes the blob (or a verified copy stays).
        blob = blob_commit_verified(digest=upload.digest, size=upload.size, upload_id=upload.upload_id, media_type=PACKAGE_MEDIA_TYPE)
        row = existing or ChartVersion(chart=chart, version=package.version)
        row.app_version = package.app_version
        row.description = package.description
        row.api_version = package.api_version
        row.dependencies = package.dependencies
        row.chart_metadata = package.metadata
        row.files = package.files
        row.package = blob
        row.size = upload.size
        row.digest = parse_digest(upload.digest).hex
        row.created_by = actor
        if existing is not None:
            row.created_at = timezone.now()
        full_clean_or_invalid(row, validate_constraints=False)
        row.save()
        _repoint_latest(chart)
        _bump_index(space)
    return row, chart


def _chart_for_push(*, actor, space: Space, package) -> Chart:
    """The target chart, locked; created (needs WRITE, already checked) when missing."""
    chart = Chart.objects.select_for_update().filter(org=space.org, team=space.team, name=package.name).order_by().first()
    if chart is not None:
        return chart
    short = (package.description or "").strip()[:1000] or f"Helm chart {package.name}"
    chart = Chart(org=space.org, team=space.team, name=package.name, short_description=short, created_by=actor)
    full_clean_or_invalid(chart, validate_constraints=False, exclude=["latest_version"])
    try:
        with transaction.atomic():
            chart.save()
    except IntegrityError:  # created concurrently by another push
        chart = Chart.objects.order_by().select_for_update().get(org=space.org, team=space.team, name=package.name)
    return chart


def chart_version_delete(*, actor, version: ChartVersion) -> None:
    """Remove one version (its package blob stays for GC); the chart's latest moves to the next
    highest. Registry Admin, or the creator (of the version or of the chart) with WRITE."""
    chart = version.chart
    require_delete(actor, chart, pushed_by_id=version.created_by_id)
    with transaction.atomic():
        locked = Chart.objects.order_by().select_for_update().get(pk=chart.pk)
        ChartVersion.objects.filter(pk=version.pk).delete()
        _repoint_latest(locked)
        _bump_index(space_of(chart))


def chart_version_for_pull(*, actor, space: Space, name: str, version: str | None = None) -> ChartVersion:
    """The version to download: the one named, else the chart's latest (SemVer precedence). READ on HELM."""
    require(actor, Action.READ, space, service=Service.HELM)
    chart = Chart.objects.filter(org=space.org, team=space.team, name=name).first()
    if chart is None:
        raise NotFound(f"Helm chart '{space.path}/{name}' not found.")
    row: ChartVersion | None
    if version is None:
        if chart.latest_version_id is None:
            raise NotFound(f"Helm chart '{chart.resource_id}' has no versions.")
        row = ChartVersion.objects.select_related("package").get(pk=chart.latest_version_id)
    else:
        row = ChartVersion.objects.select_related("package").filter(chart=chart, version=version).first()
        if row is None:
            raise NotFound(f"Version '{version}' of Helm chart '{chart.resource_id}' not found.")
    row.chart = chart
    return row
