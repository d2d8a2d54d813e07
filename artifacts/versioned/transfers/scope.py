"""The dedup check's scope: which blobs a caller may already read, so a known hash alone never
pulls another tenant's file into a version (reference/ngc-api.md §7 item 8)."""
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from accounts.permissions import Action, readable_spaces_q, require
from artifacts.blobs.store import get_blob_store
from artifacts.core.metadata import space_of
from artifacts.versioned.models import SERVICE_OF_KIND, ArtifactFile, VersionedArtifact
from artifacts.versioned.transfer_models import MultipartState, MultipartUpload
from artifacts.versioned.transfers.rules import Actor, sha256_hex
from registry_portal.errors import InvalidInput

MAX_HASHES_PER_CHECK = 1000


def readable_artifacts(user: Actor) -> QuerySet[VersionedArtifact]:
    """Models and resources whose files `user` may read: READ on the kind's service in their space
    (one query, whatever the number of orgs and teams)."""
    condition = Q(pk__in=[])
    for kind, service in SERVICE_OF_KIND.items():
        condition |= Q(kind=kind) & readable_spaces_q(user, service)
    return VersionedArtifact.objects.filter(condition)


def blobs_readable(*, user: Actor, hex_digests: Iterable[str]) -> set[str]:
    """Which of these sha256 (hex) name bytes `user` may already read: files of artifacts they may
    read, or uploads completed into versions of such artifacts; verified and present in storage."""
    digests = {f"sha256:{value}" for value in hex_digests}
    if not digests:
        return set()
    artifacts = readable_artifacts(user)
    # Only bytes hashed to their digest in storage: a blob nothing verified is uploaded again (and replaced).
    verified = {"blob__digest__in": digests, "blob__verified_at__isnull": False}
    found = set(
        ArtifactFile.objects.filter(version__artifact__in=artifacts, **verified).values_list("blob__digest", flat=True)
    )
    found |= set(
        MultipartUpload.objects.filter(
            state=MultipartState.COMPLETE, version__artifact__in=artifacts, **verified
        ).values_list("blob__digest", flat=True)
    )
    store = get_blob_store()
    return {digest.split(":", 1)[1] for digest in found if store.exists(digest)}


def files_exist(*, actor: Actor, artifact: VersionedArtifact, hashes: list[str]) -> list[dict]:
    """The dedup check (`POST /v2/{ot}/{kind}/{name}/files`): WRITE on the artifact's service;
    `exists` is true only for bytes the caller may already read (see `blobs_readable`)."""
    require(actor, Action.WRITE, space_of(artifact), service=artifact.service)
    if len(hashes) > MAX_HASHES_PER_CHECK:
        raise InvalidInput(f"At most {MAX_HASHES_PER_CHECK} hashes per request.", field="files")
    parsed = [(value, sha256_hex(value, field="files.sha256")) for value in hashes]
    readable = blobs_readable(user=actor, hex_digests={hex_digest for _, hex_digest in parsed})
    return [{"sha256": value, "exists": hex_digest in readable} for value, hex_digest in parsed]
