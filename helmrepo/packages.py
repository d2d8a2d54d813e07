"""Reading a Helm chart package (`<name>-<version>.tgz`) without trusting it.

`inspect_package` walks the gzip-compressed tar once, as a stream, and answers what index.yaml
needs (Chart.yaml's fields and the member listing) or raises InvalidPackage saying precisely why
the package is refused: not gzip or corrupt (the gzip CRC is checked to the end), members that
could escape or surprise an unpacker (absolute paths, `..`, symbolic or hard links, devices,
fifos), more unpacked bytes than allowed (a gzip bomb), no `<chart>/Chart.yaml`, or a Chart.yaml
that helmrepo.chart_yaml refuses (its cost is bounded, its fields are Helm's, capped).
"""
import gzip
import io
import re
import tarfile
import zlib
from pathlib import PurePosixPath
from typing import BinaryIO

from helmrepo.chart_yaml import MAX_CHART_YAML_BYTES, ChartPackage, InvalidPackage, parse_chart_yaml

__all__ = ["ChartPackage", "InvalidPackage", "inspect_package", "parse_chart_yaml"]

_READ = 64 * 1024


class _BoundedReader(io.RawIOBase):
    """Decompressed bytes, refusing to produce more than `limit` of them."""

    def __init__(self, source: BinaryIO, limit: int):
        self._source = source
        self._limit = limit
        self.produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._source.read(len(buffer))
        self.produced += len(data)
        if self.produced > self._limit:
            raise InvalidPackage(f"the package unpacks to more than {self._limit} bytes")
        buffer[: len(data)] = data
        return len(data)


def _member_path(member: tarfile.TarInfo) -> PurePosixPath:
    name = member.name
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or "\\" in name:
        raise InvalidPackage(f"member '{name}' has an absolute path")
    path = PurePosixPath(name)
    if ".." in path.parts:
        raise InvalidPackage(f"member '{name}' has a '..' path component")
    if member.issym() or member.islnk():
        raise InvalidPackage(f"member '{name}' is a link (symbolic and hard links are not allowed)")
    if not (member.isfile() or member.isdir()):
        raise InvalidPackage(f"member '{name}' is a device, fifo or other special file")
    return path


def inspect_package(handle: BinaryIO, *, max_unpacked_bytes: int) -> ChartPackage:
    """Validate a chart package read from `handle` and return what it declares (see module doc)."""
    files: list[dict] = []
    top_dirs: set[str] = set()
    chart_yaml: dict[str, bytes] = {}
    declared = 0
    try:
        reader = _BoundedReader(gzip.GzipFile(fileobj=handle, mode="rb"), max_unpacked_bytes)
        buffered = io.BufferedReader(reader, _READ)
        with tarfile.open(fileobj=buffered, mode="r|") as archive:
            for member in archive:
                path = _member_path(member)
                if not path.parts or path.parts == (".",):
                    continue
                top_dirs.add(path.parts[0])
                if member.isfile():
                    declared += member.size
                    if declared > max_unpacked_bytes:
                        raise InvalidPackage(f"the package unpacks to more than {max_unpacked_bytes} bytes")
                    files.append({"path": str(path), "size": member.size})
                    if len(path.parts) == 2 and path.parts[1] == "Chart.yaml":
                        if member.size > MAX_CHART_YAML_BYTES:
                            raise InvalidPackage(f"'{path}' is larger than {MAX_CHART_YAML_BYTES} bytes")
                        chart_yaml[path.parts[0]] = archive.extractfile(member).read()
        while buffered.read(_READ):  # to the end of the gzip stream: its CRC and length are checked there
            pass
    except InvalidPackage:
        raise
    except (gzip.BadGzipFile, tarfile.TarError, zlib.error, EOFError, OSError) as error:
        raise InvalidPackage(f"not a valid gzip-compressed tar archive ({error})") from None
    if not files:
        raise InvalidPackage("the package is empty")
    if len(top_dirs) != 1:
        raise InvalidPackage(f"the package must hold one top directory, found {sorted(top_dirs)[:5]}")
    top = top_dirs.pop()
    if top not in chart_yaml:
        raise InvalidPackage(f"'{top}/Chart.yaml' is missing from the package")
    package = parse_chart_yaml(chart_yaml[top])
    if package.name != top:
        raise InvalidPackage(f"the package's top directory '{top}' is not the chart name '{package.name}'")
    package.files = files
    return package
