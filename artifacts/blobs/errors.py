"""Refused blob writes; `code` is the OCI error code the registry answers with."""


class BlobError(Exception):
    code = "BLOB_UPLOAD_INVALID"


class DigestMismatch(BlobError):
    code = "DIGEST_INVALID"


class SizeMismatch(BlobError):
    code = "SIZE_INVALID"


class RangeMismatch(BlobError):
    code = "RANGE_INVALID"


class UploadInUse(RangeMismatch):
    """Another request is writing this upload session: 416 with the session's saved Range."""

    def __init__(self, session):
        super().__init__("another request is writing this upload; resume from the Range given once it is done")
        self.session = session


class UploadGone(BlobError):
    """The session was cancelled, collected or taken over while this request wrote to it."""

    code = "BLOB_UPLOAD_UNKNOWN"


class StorageUnavailable(BlobError):
    """The blob store (an S3 bucket) did not answer while `doing` (artifacts.blobs.s3_errors
    decides what that is): 503, the client retries; what the upload had saved before stands."""

    code = "UNAVAILABLE"

    def __init__(self, doing: str):
        super().__init__(f"the blob store did not answer while {doing}")
        self.doing = doing
