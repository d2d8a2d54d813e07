"""The input grammar (sha256 in base64 or hex, file paths) and permission rules every transfer step
uses, and the steps of complete that are the same whichever store holds the parts."""
import base64
import binascii
import re
import uuid
from collections.abc import Callable
from typing import NoReturn

from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from accounts.models import User
from accounts.permissions import Action, require
from artifacts.blobs.links import blob_commit_verified
from artifacts.versioned.models import ArtifactVersion, VersionStatus
from artifacts.versioned.paths import InvalidPath, validate_relative_path
from artifacts.versioned.transfer_models import MultipartState, MultipartUpload
from artifacts.versioned.transfers.errors import IntegrityFailure, UploadAlreadyCompleted
from artifacts.core.metadata import space_of
from registry_portal.errors import Conflict, InvalidInput, NotFound

Actor = User | AnonymousUser  # who asks: request.user


def sha256_hex(value: object, *, field: str = "sha256") -> str:
    """The lowercase hex of a SHA-256 given in standard base64 (as NVIDIA's client sends it) or hex."""
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[0-9a-fA-F]{64}", text):
            return text.lower()
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == 32:
            return raw.hex()
    raise InvalidInput(f"{field} must be a SHA-256 digest in standard base64 (44 characters) or hex.", field=field)


def sha256_base64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def clean_path(path: object, *, field: str = "filePath") -> str:
    try:
        return validate_relative_path(path)
    except InvalidPath as exc:
        raise InvalidInput(str(exc), field=field) from None


def require_on_version(actor: Actor, action: Action, version: ArtifactVersion) -> None:
    artifact = version.artifact
    require(actor, action, space_of(artifact), service=artifact.service)


def require_upload(actor: Actor, version: ArtifactVersion) -> None:
    """Uploads need WRITE on the artifact's service, into a version that is not complete yet."""
    require_on_version(actor, Action.WRITE, version)
    if version.status == VersionStatus.UPLOAD_COMPLETE:
        raise Conflict(f"Version '{version.version}' is already UPLOAD_COMPLETE; upload into a new version.")


# --- complete (the same whichever store holds the parts) ------------------------------------------


def upload_to_complete(upload_id: uuid.UUID | str, expected_hex: str) -> MultipartUpload:
    """The upload read again once complete holds its lock: NotFound when it was aborted meanwhile,
    refuse_completed_again when another complete finished it."""
    upload = MultipartUpload.objects.filter(pk=upload_id).first()
    if upload is None:
        raise NotFound(f"Upload '{upload_id}' was aborted.")
    if upload.state == MultipartState.COMPLETE:
        refuse_completed_again(upload, expected_hex)
    return upload


def upload_complete_hashed(
    upload: MultipartUpload, *, actual_hex: str, length: int, expected_hex: str,
    discard: Callable[[MultipartUpload], None],
) -> MultipartUpload:
    """The stored bytes, hashed as read back (`actual_hex`, `length`), become the upload's blob only
    when they are what the client declared (sha256 and size); otherwise they are discarded and the
    answer is IntegrityFailure."""
    if actual_hex != expected_hex or length != upload.size:
        discard(upload)
        raise arrived_otherwise(upload, length=length, actual_hex=actual_hex, expected_hex=expected_hex)
    with transaction.atomic():
        blob = blob_commit_verified(digest=f"sha256:{actual_hex}", size=length, upload_id=str(upload.pk))
        upload.state, upload.blob, upload.sha256 = MultipartState.COMPLETE, blob, actual_hex
        upload.save(update_fields=["state", "blob", "sha256", "updated_at"])
    return upload


def refuse_completed_again(upload: MultipartUpload, expected_hex: str) -> NoReturn:
    """Complete on a completed upload: 400 (the client reads it as done), or 409 for another sha256."""
    if upload.sha256 != expected_hex:
        raise IntegrityFailure(f"'{upload.path}' was completed with a different sha256.")
    raise UploadAlreadyCompleted(f"Upload '{upload.pk}' of '{upload.path}' is already completed.")


def parts_missing(upload: MultipartUpload, missing: list[int]) -> IntegrityFailure:
    shown = ", ".join(str(n) for n in missing[:10]) + (" …" if len(missing) > 10 else "")
    return IntegrityFailure(f"Parts {shown} of '{upload.path}' have not been received.")


def arrived_otherwise(upload: MultipartUpload, *, length: int, actual_hex: str, expected_hex: str) -> IntegrityFailure:
    return IntegrityFailure(
        f"'{upload.path}' arrived as {length} bytes with sha256 {sha256_base64(actual_hex)}, "
        f"not {upload.size} bytes with {sha256_base64(expected_hex)}; nothing was stored."
    )
