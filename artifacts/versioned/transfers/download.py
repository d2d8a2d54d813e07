"""Downloads: which versions may be read, their files, and a whole version as one streamed zip."""
import zipfile
from collections.abc import Iterator
from datetime import timezone as dt_timezone

from django.db.models import QuerySet

from accounts.permissions import Action
from artifacts.blobs.store import get_blob_store
from artifacts.versioned.models import ArtifactFile, ArtifactVersion, VersionStatus
from artifacts.versioned.transfers.errors import NotReady
from artifacts.versioned.transfers.rules import Actor, require_on_version

ZIP_PIECE = 1024 * 1024


def require_downloadable(version: ArtifactVersion) -> None:
    if version.status != VersionStatus.UPLOAD_COMPLETE:
        raise NotReady(
            f"Version '{version.version}' is {version.status}; its files can be downloaded once its upload is complete."
        )


def version_for_download(*, user: Actor, version: ArtifactVersion) -> ArtifactVersion:
    """READ on the artifact's service, and the version UPLOAD_COMPLETE."""
    require_on_version(user, Action.READ, version)
    require_downloadable(version)
    return version


def version_files(version: ArtifactVersion) -> QuerySet[ArtifactFile]:
    return ArtifactFile.objects.filter(version=version).select_related("blob").order_by("path")


class _ZipSink:
    """A write-only, unseekable stream collecting what zipfile writes, drained by the generator."""

    def __init__(self) -> None:
        self._pieces: list[bytes] = []
        self._written = 0
        self.pending = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        data = bytes(data)
        self._pieces.append(data)
        self._written += len(data)
        self.pending += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self._pieces)
        self._pieces.clear()
        self.pending = 0
        return data


def version_zip_stream(version: ArtifactVersion) -> Iterator[bytes]:
    """The version's files as one zip64 archive (stored, not compressed), paths as directories,
    yielded in pieces of about ZIP_PIECE bytes: never a whole file, let alone the version, in memory."""
    store = get_blob_store()
    sink = _ZipSink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for file in version_files(version).iterator():
            stamp = file.created_at.astimezone(dt_timezone.utc)
            info = zipfile.ZipInfo(file.path, date_time=stamp.timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = file.size_bytes
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=file.size_bytes > zipfile.ZIP64_LIMIT // 2) as entry:
                with store.open(file.blob.digest) as handle:
                    while chunk := handle.read(ZIP_PIECE):
                        entry.write(chunk)
                        if sink.pending >= ZIP_PIECE:
                            yield sink.drain()
            if sink.pending:
                yield sink.drain()
    if sink.pending:
        yield sink.drain()
