"""Capability URLs: expiring signed paths that carry their own authority (a part's PUT, a file's GET)."""
import time
import uuid
from datetime import timedelta
from urllib.parse import urlencode

from django.urls import reverse

from accounts import tokens
from accounts.models import User
from accounts.permissions import Action, can
from artifacts.versioned.models import ArtifactFile
from artifacts.core.metadata import space_of
from artifacts.versioned.transfer_models import MultipartUpload
from artifacts.versioned.transfers.download import require_downloadable
from registry_portal.errors import AccessDenied, NotFound

URL_TTL = timedelta(hours=24)


def _expiry() -> int:
    return int(time.time() + URL_TTL.total_seconds())


def part_url_path(upload: MultipartUpload, number: int) -> str:
    """The path and query of the capability URL for one part: PUT without Authorization."""
    expires = _expiry()
    signature = tokens.capability_signature(purpose="upload-part", subject=f"{upload.pk}:{number}", expires_at=expires)
    path = reverse("transfer-upload-part", kwargs={"upload_id": upload.pk, "number": number})
    return f"{path}?{urlencode({'expires': expires, 'sig': signature})}"


def part_capability_valid(*, upload_id: uuid.UUID | str, number: int, expires: str | None, signature: str | None) -> bool:
    try:
        expires_at = int(expires)
    except (TypeError, ValueError):
        return False
    return tokens.capability_valid(
        signature, purpose="upload-part", subject=f"{upload_id}:{number}", expires_at=expires_at
    )


def file_url_path(file: ArtifactFile, user: User) -> str:
    """The path and query of a file's download URL for `user`: GET without Authorization, with Range."""
    expires = _expiry()
    subject = f"{file.pk}:{user.pk}"
    signature = tokens.capability_signature(purpose="download-file", subject=subject, expires_at=expires)
    path = reverse("transfer-download-file", kwargs={"file_id": file.pk})
    return f"{path}?{urlencode({'user': user.pk, 'expires': expires, 'sig': signature})}"


def file_for_download(*, file_id: int, user_id: str | None, expires: str | None, signature: str | None) -> ArtifactFile:
    """The file a download URL names, if the URL is genuine and unexpired, its user may still read
    the artifact and the version is UPLOAD_COMPLETE."""
    try:
        subject, expires_at = f"{int(file_id)}:{int(user_id)}", int(expires)
    except (TypeError, ValueError):
        raise AccessDenied("This download link is malformed.") from None
    if not tokens.capability_valid(signature, purpose="download-file", subject=subject, expires_at=expires_at):
        raise AccessDenied("This download link is invalid or has expired; list the version's files again.")
    file = (
        ArtifactFile.objects.select_related("version__artifact__org", "version__artifact__team", "blob")
        .filter(pk=file_id)
        .first()
    )
    if file is None:
        raise NotFound("This file no longer exists.")
    user = User.objects.filter(pk=user_id, is_active=True).first()
    artifact = file.version.artifact
    if user is None or not can(user, Action.READ, space_of(artifact), service=artifact.service):
        raise AccessDenied("The user this link was issued to may no longer read this file.")
    require_downloadable(file.version)
    return file
