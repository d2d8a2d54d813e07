"""Where blobs and upload files live, relative to the store's root. The one place paths are built.

    <BLOB_STORE_ROOT>/
        blobs/
            sha256/
                ab/
                    abcdef0123…      the bytes whose sha256 is abcdef0123…
            sha512/
                cd/
                    cdef…
        uploads/
            <session uuid>          bytes received so far for one upload session
        quarantine/
            sha256/
                abcdef0123….<time>   a stored blob whose bytes did not hash to its name (verify_blobs --repair)

Blob files are written once (renamed into place when an upload commits) and never modified in
place; a verified upload may replace a file at its address that nothing had verified.
"""
from pathlib import PurePosixPath

from artifacts.digests import parse_digest


def blob_path(digest: str) -> PurePosixPath:
    parsed = parse_digest(digest)
    return PurePosixPath("blobs", parsed.algorithm, parsed.hex[:2], parsed.hex)


def upload_path(session_id: str) -> PurePosixPath:
    name = str(session_id)
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"bad upload session id {session_id!r}")
    return PurePosixPath("uploads", name)


def quarantine_path(digest: str, when: float) -> PurePosixPath:
    parsed = parse_digest(digest)
    return PurePosixPath("quarantine", parsed.algorithm, f"{parsed.hex}.{when:.6f}")
