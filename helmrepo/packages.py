"""Reading a Helm chart package (`<name>-<version>.tgz`) without trusting it.

`inspect_package` walks the gzip-compressed tar once, as a stream, and answers what index.yaml
needs (Chart.yaml's fields and the member listing) or raises InvalidPackage saying precisely why
the package is refused: not gzip or corrupt (the gzip CRC is checked to the end), members that
could escape or surprise an unpacker (absolute paths, `..`, symbolic or hard links, devices,
fifos), more unpacked bytes than allowed (a gzip bomb), no `<chart>/Chart.yaml`, or a Chart.yaml
without a valid apiVersion, name and SemVer 2 version.
"""
import gzip
import io
import json
import re
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import BinaryIO

import yaml

from helmrepo.models import CHART_NAME_PATTERN, SEMVER2_PATTERN

MAX_CHART_YAML_BYTES = 1024 * 1024
# The Chart.yaml fields index.yaml repeats besides the ones with their own columns.
EXTRA_METADATA_FIELDS = (
    "type", "keywords", "home", "sources", "maintainers", "icon", "kubeVersion", "deprecated", "annotations",
    "engine", "tillerVersion",
)
_READ = 64 * 1024


class InvalidPackage(Exception):
    """The package is refused; the message says why, for the person pushing it."""


@dataclass
class ChartPackage:
    api_version: str
    name: str
    version: str
    app_version: str = ""
    description: str = ""
    dependencies: list = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    files: list = field(default_factory=list)


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


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise InvalidPackage(f"Chart.yaml: expected a string, got {type(value).__name__}")
    return str(value)


def _jsonable(value):
    """YAML may hold dates and other types JSON lacks; they become strings."""
    return json.loads(json.dumps(value, default=str))


def parse_chart_yaml(data: bytes) -> ChartPackage:
    try:
        document = yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise InvalidPackage(f"Chart.yaml is not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise InvalidPackage("Chart.yaml is not a YAML mapping")
    api_version = _text(document.get("apiVersion"))
    if api_version not in ("v1", "v2"):
        raise InvalidPackage(f"Chart.yaml: apiVersion must be v1 or v2, got '{api_version}'")
    name = _text(document.get("name"))
    if not re.match(CHART_NAME_PATTERN, name):
        raise InvalidPackage(f"Chart.yaml: '{name}' is not a valid chart name")
    version = _text(document.get("version"))
    if not re.match(SEMVER2_PATTERN, version):
        raise InvalidPackage(f"Chart.yaml: version '{version}' is not a valid SemVer 2 version")
    dependencies = document.get("dependencies") or []
    if not isinstance(dependencies, list) or not all(isinstance(d, dict) and d.get("name") for d in dependencies):
        raise InvalidPackage("Chart.yaml: dependencies must be a list of mappings, each with a name")
    metadata = {key: document[key] for key in EXTRA_METADATA_FIELDS if document.get(key) not in (None, "", [], {})}
    return ChartPackage(
        api_version=api_version, name=name, version=version, app_version=_text(document.get("appVersion")),
        description=_text(document.get("description")), dependencies=_jsonable(dependencies),
        metadata=_jsonable(metadata),
    )


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
