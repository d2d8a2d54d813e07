"""The answers specific to transfers: registry_portal.errors' kinds with the status NVIDIA's client reads."""
from registry_portal.errors import Conflict, InvalidInput, RegistryError


class UploadAlreadyCompleted(InvalidInput):
    """Complete on a completed upload: 400, which NVIDIA's client reads as "already completed"."""

    status = "ALREADY_COMPLETED"


class IntegrityFailure(Conflict):
    """The bytes are not what was declared: 409, after which NVIDIA's client deletes the version."""

    status = "INTEGRITY_ERROR"


class NotReady(Conflict):
    """A version whose upload is not complete has nothing to download yet."""

    status = "UPLOAD_NOT_COMPLETE"


class TryAgain(RegistryError):
    """Parts are still being written; the client retries (503)."""

    status_code = 503
    status = "TRY_AGAIN"
