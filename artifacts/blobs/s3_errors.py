"""What the bucket's errors mean, decided once for every caller on S3 (the store's reads, the
registry's uploads, NGC multipart transfers, copy_blobs_to_s3):

- missing (`is_missing`): the object, or the multipart upload, is not there; each caller says
  what that means for it (None, FileNotFoundError, nothing left to abort);
- did not answer (`bucket_answers`): unreachable, timed out after botocore's retries, or a 5xx:
  StorageUnavailable, which each face answers with its own 503 (the OCI envelope's UNAVAILABLE,
  NGC's TRY_AGAIN), and the client tries again;
- refused (any other 4xx: wrong credentials, no such bucket, a request the registry should not
  have sent): raised as is, since trying again would not help; each face answers it as the
  server's error (500), logged with its traceback for the operator.
"""
import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from artifacts.blobs.errors import StorageUnavailable

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code"))


def is_missing(error: ClientError) -> bool:
    return error_code(error) in _MISSING


def did_not_answer(error: BotoCoreError | ClientError) -> bool:
    """No answer (BotoCoreError: connection, timeout) or a 5xx; a 4xx is an answer: a refusal."""
    if isinstance(error, BotoCoreError):
        return True
    return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500


class bucket_answers:  # noqa: N801 (used as a function: `with bucket_answers(...)`, `@bucket_answers(...)`)
    """The bucket not answering while `doing` is StorageUnavailable (logged); a refusal passes as
    is. A context manager, or a method's decorator (`@bucket_answers("storing the upload's bytes")`):
    a plain class, as the writers' `write` runs once per piece of a body (perf: a
    contextlib.contextmanager decorator costs ~1.4 µs more per call)."""

    def __init__(self, doing: str):
        self.doing = doing

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, traceback) -> None:
        if isinstance(exc, (BotoCoreError, ClientError)) and did_not_answer(exc):
            log.warning("object storage failed while %s: %s", self.doing, exc)
            raise StorageUnavailable(self.doing) from exc

    def __call__(self, method: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(method)
        def answered(*args: P.args, **kwargs: P.kwargs) -> R:
            with self:
                return method(*args, **kwargs)

        return answered
