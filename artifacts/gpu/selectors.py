"""Reads of GPU hosts and verdicts, for the REST API, the Tags page and the `runs_on` filter."""
from django.db.models import Exists, OuterRef, Q

from accounts.permissions import Action, Space, can
from artifacts.gpu.models import GpuHost, GpuVerdict
from artifacts.models import ManifestChild, Tag


def org_hosts(org):
    return GpuHost.objects.filter(org=org).select_related("org").order_by("name")


def may_see_verdicts(user, org) -> bool:
    """Host names are the org's business: verdicts are shown to its members only (not to the
    anonymous readers of a public repository)."""
    return can(user, Action.VIEW_SPACE, Space(org))


def verdicts_by_manifest(manifest_ids) -> dict[int, list[GpuVerdict]]:
    """Verdicts per tagged manifest id, an index's children's verdicts gathered under the index."""
    ids = set(manifest_ids)
    if not ids:
        return {}
    children = list(ManifestChild.objects.filter(index_id__in=ids).values_list("index_id", "child_id"))
    owner = {child: index for index, child in children}
    rows = (
        GpuVerdict.objects.filter(manifest_id__in=ids | set(owner))
        .select_related("host", "manifest").order_by("host__name", "platform")
    )
    result: dict[int, list[GpuVerdict]] = {pk: [] for pk in ids}
    for row in rows:
        if row.manifest_id in ids and row.manifest_id not in owner:
            result[row.manifest_id].append(row)
        if row.manifest_id in owner:
            result[owner[row.manifest_id]].append(row)
    return result


def attach_verdicts(user, repository, tags) -> list:
    """Set `gpu_verdicts` on each tag of a page (one query for links, one for verdicts)."""
    tags = list(tags)
    if not may_see_verdicts(user, repository.org):
        for tag in tags:
            tag.gpu_verdicts = []
        return tags
    found = verdicts_by_manifest({tag.manifest_id for tag in tags})
    for tag in tags:
        tag.gpu_verdicts = found.get(tag.manifest_id, [])
    return tags


def verdict_payload(verdict: GpuVerdict) -> dict:
    return {
        "host": verdict.host.name,
        "platform": verdict.platform,
        "digest": verdict.manifest.digest,
        "status": verdict.status.upper(),
        "reasons": verdict.reasons,
        "requirement": verdict.requirement,
        "checkedDate": verdict.checked_at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{verdict.checked_at.microsecond // 1000:03d}Z",
    }


def compatibility(user, repository, tag) -> list[dict]:
    """`gpuCompatibility[]` of an image (the REST info response)."""
    if not may_see_verdicts(user, repository.org):
        return []
    return [verdict_payload(v) for v in verdicts_by_manifest({tag.manifest_id}).get(tag.manifest_id, [])]


def runs_on(repositories, org, host_name: str, *, status: str = GpuVerdict.COMPATIBLE):
    """Repositories with a tag whose image (or one platform of its index) has verdict `status`
    (compatible by default) on the host."""
    compatible = GpuVerdict.objects.filter(host__org=org, host__name=host_name, status=status)
    tags = Tag.objects.filter(repository=OuterRef("pk")).filter(
        Q(manifest__in=compatible.values("manifest_id"))
        | Q(manifest__child_links__child__in=compatible.values("manifest_id"))
    )
    return repositories.filter(Exists(tags))
