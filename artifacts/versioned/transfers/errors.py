"""The answers specific to transfers, beside registry_portal.errors' general ones."""
from registry_portal.errors import RegistryError


class UploadAlreadyCompleted(RegistryError):
    """Complete on a completed upload: 400, which NVIDIA's client reads as "already completed"."""

    status_code = 400
    status = "ALREADY_COMPLETED"


class IntegrityFailure(RegistryError):
    """The bytes are not what was declared: 409, after which NVIDIA's client deletes the version."""

    status_code = 409
    status = "INTEGRITY_ERROR"


class NotReady(RegistryError):
    """A version whose upload is not complete has nothing to download yet."""

    status_code = 409
    status = "UPLOAD_NOT_COMPLETE"


class TryAgain(RegistryError):
    """Parts are still being written; the client retries."""

    status_code = 503
    status = "TRY_AGAIN"
