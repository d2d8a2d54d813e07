"""Reading one file of a stored chart package for the portal's File Browser.

The package (`<name>-<version>.tgz`) is streamed from the blob store and scanned member by member
until the requested path; only regular files named in the version's stored listing are read,
at most MAX_TEXT_BYTES of them, and their bytes are only decoded as UTF-8 text: templates are
shown, never rendered or executed (the page escapes them like any other text).
"""
import tarfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from registry_portal.errors import NotFound
from artifacts.blobs.store import get_blob_store
from helmrepo.models import ChartVersion

MAX_TEXT_BYTES = 256 * 1024


@dataclass(frozen=True)
class PackageFile:
    path: str
    size: int
    text: str | None  # None: binary or larger than MAX_TEXT_BYTES
    reason: str = ""  # why there is no text


def listed_files(version: ChartVersion) -> list[dict]:
    """The stored listing, `[{"path", "size"}]`, by path."""
    return sorted((dict(row) for row in version.files or []), key=lambda row: row["path"])


def read_text(version: ChartVersion, path: str) -> PackageFile:
    """The text of `path` in the version's package; NotFound for a path the listing does not name."""
    listed = {row["path"]: int(row.get("size") or 0) for row in version.files or []}
    if path not in listed:
        raise NotFound(f"'{path}' is not a file of {version}.")
    size = listed[path]
    if size > MAX_TEXT_BYTES:
        return PackageFile(path, size, None, f"This file is larger than {MAX_TEXT_BYTES // 1024} KB; download the package to read it.")
    data = _member_bytes(version, path)
    if data is None:
        raise NotFound(f"'{path}' is not a file of {version}.")
    if b"\x00" in data:
        return PackageFile(path, size, None, "This is a binary file.")
    try:
        return PackageFile(path, size, data.decode("utf-8"))
    except UnicodeDecodeError:
        return PackageFile(path, size, None, "This is a binary file.")


def _member_bytes(version: ChartVersion, path: str) -> bytes | None:
    with get_blob_store().open(version.package.digest) as stream:
        with tarfile.open(fileobj=stream, mode="r|gz") as archive:
            for member in archive:
                if str(PurePosixPath(member.name)) != path:  # as helmrepo.packages lists them
                    continue
                if not member.isreg():
                    return None
                handle = archive.extractfile(member)
                return handle.read(MAX_TEXT_BYTES + 1)[:MAX_TEXT_BYTES] if handle else None
    return None
