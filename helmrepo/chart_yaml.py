"""Reading a package's Chart.yaml at a bounded cost, into Helm's Chart.yaml schema.

A Chart.yaml comes from whoever pushes, so reading it must cost little whatever it holds:
- YAML aliases may not multiply the document. The composer counts every value as if each alias
  were copied out in full (as a JSON dump or index.yaml would copy it) and stops at
  MAX_CHART_YAML_NODES values, MAX_CHART_YAML_CHARS characters or MAX_CHART_YAML_DEPTH levels,
  before anything is built. A 300-byte "billion laughs" chart is refused in milliseconds, as Helm's
  own YAML library refuses "excessive aliasing". An alias inside the value it names is refused too.
- The scanner is libyaml's (C) when PyYAML has it, fed a strictly decoded UTF-8 text; libyaml
  also refuses raw control characters and escapes of lone surrogates.
- Every field is read into the type Helm's chart.Metadata gives it (a scalar where a string is
  expected becomes its text, as Helm's loader does; a list or mapping there is refused), capped
  by the limits below, and the fields index.yaml repeats for a version take at most
  MAX_INDEX_ENTRY_BYTES together. Keys Helm does not know inside maintainers and dependencies are
  dropped (Helm ignores them too).
- Control characters are refused in every field (U+0000-U+001F, U+007F-U+009F); free text
  (description, annotation values) may hold tab, line feed and carriage return. PostgreSQL could
  not store NUL, and C0/C1 controls in a description reach terminals through `helm search`.
  Anything else Unicode allows is kept; helmrepo.index escapes what YAML may not carry raw.
"""
import json
import re
from dataclasses import dataclass, field

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, ScalarEvent
from yaml.resolver import Resolver

from helmrepo.models import SEMVER2_PATTERN
from registry_portal.names import NAME_PATTERN

MAX_CHART_YAML_BYTES = 1024 * 1024  # the Chart.yaml member itself
MAX_CHART_YAML_NODES = 10_000  # scalars, keys, lists and mappings, aliases counted as copies
MAX_CHART_YAML_CHARS = 1024 * 1024  # characters of all scalars, aliases counted as copies
MAX_CHART_YAML_DEPTH = 64  # nesting of lists and mappings

MAX_TEXT_CHARS = 16 * 1024  # description; each annotation value
MAX_LINE_CHARS = 255  # appVersion, kubeVersion, type, engine, tillerVersion, a keyword, a maintainer's
#                       name or email, a dependency's name, version, condition, alias or tag, an annotation key
MAX_URL_CHARS = 2048  # home, icon, a source, a maintainer's url, a dependency's repository
MAX_VERSION_CHARS = 128  # ChartVersion.version's column
MAX_ITEMS = 100  # keywords, sources, maintainers, dependencies, annotations; a dependency's tags, import-values
MAX_INDEX_ENTRY_BYTES = 64 * 1024  # description + the other fields index.yaml repeats, as JSON

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


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


# --- a YAML loader whose cost is bounded ---------------------------------------------------------


class _BoundedComposer(Composer):
    """PyYAML's composer, counting each value as if every alias were expanded (see module doc)."""

    def __init__(self) -> None:
        super().__init__()
        self._nodes = 0
        self._chars = 0
        self._depth = 0
        self._expanded: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, chars) of its value
        self._open: set[str] = set()  # anchors whose value is being composed

    def _spend(self, nodes: int, chars: int) -> None:
        self._nodes += nodes
        self._chars += chars
        if self._nodes > MAX_CHART_YAML_NODES:
            raise InvalidPackage(
                f"Chart.yaml holds more than {MAX_CHART_YAML_NODES} values once its aliases are expanded"
            )
        if self._chars > MAX_CHART_YAML_CHARS:
            raise InvalidPackage(
                f"Chart.yaml holds more than {MAX_CHART_YAML_CHARS} characters once its aliases are expanded"
            )

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            if event.anchor in self._open:
                raise InvalidPackage(f"Chart.yaml: alias '*{event.anchor}' is inside the value it names")
            self._spend(*self._expanded.get(event.anchor, (0, 0)))  # an unknown anchor: PyYAML says so
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_CHART_YAML_DEPTH:
            raise InvalidPackage(f"Chart.yaml nests lists and mappings more than {MAX_CHART_YAML_DEPTH} levels deep")
        before = (self._nodes, self._chars)
        self._spend(1, len(event.value) if isinstance(event, ScalarEvent) else 0)
        if event.anchor is not None:
            self._open.add(event.anchor)
        node = super().compose_node(parent, index)
        if event.anchor is not None:
            self._open.discard(event.anchor)
            self._expanded[event.anchor] = (self._nodes - before[0], self._chars - before[1])
        self._depth -= 1
        return node


if yaml.__with_libyaml__:
    from yaml.cyaml import CParser

    class _BoundedLoader(_BoundedComposer, CParser, SafeConstructor, Resolver):
        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            _BoundedComposer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

else:  # pragma: no cover - PyYAML wheels ship libyaml; the pure parser is slower but as bounded
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _BoundedLoader(_BoundedComposer, Reader, Scanner, Parser, SafeConstructor, Resolver):  # type: ignore[no-redef]
        def __init__(self, text: str) -> None:
            Reader.__init__(self, text)
            Scanner.__init__(self)
            Parser.__init__(self)
            _BoundedComposer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)


def load_bounded(text: str):
    """One YAML document from `text`, built only when it is within the limits of the module doc."""
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()


# --- Helm's Chart.yaml schema, with limits -------------------------------------------------------


def _kind(value) -> str:
    return "mapping" if isinstance(value, dict) else "list" if isinstance(value, (list, tuple, set)) else type(value).__name__


def _string(value, name: str, *, limit: int, text: bool = False) -> str:
    """A string field: a scalar's text (as Helm's loader reads it), capped, without control characters."""
    if value is None:
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, (dict, list, tuple, set, bytes)):
        raise InvalidPackage(f"Chart.yaml: {name} must be a string, not a {_kind(value)}")
    value = str(value)
    if len(value) > limit:
        raise InvalidPackage(f"Chart.yaml: {name} is longer than {limit} characters")
    bad = (_CONTROL_IN_TEXT if text else _CONTROL).search(value)
    if bad:
        allowed = " (only tab, line feed and carriage return are allowed)" if text else ""
        raise InvalidPackage(f"Chart.yaml: {name} holds the control character U+{ord(bad.group()):04X}{allowed}")
    return value


def _list(value, name: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidPackage(f"Chart.yaml: {name} must be a list, not a {_kind(value)}")
    if len(value) > MAX_ITEMS:
        raise InvalidPackage(f"Chart.yaml: {name} has more than {MAX_ITEMS} items")
    return value


def _strings(value, name: str, *, limit: int) -> list[str]:
    return [_string(item, f"{name}[{i}]", limit=limit) for i, item in enumerate(_list(value, name))]


def _mapping(value, name: str) -> dict:
    if not isinstance(value, dict):
        raise InvalidPackage(f"Chart.yaml: {name} must be a mapping, not a {_kind(value)}")
    return value


def _bool(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidPackage(f"Chart.yaml: {name} must be true or false")
    return value


def _record(value, name: str, fields: dict[str, int]) -> dict:
    """A mapping of string fields (name -> character limit); other keys are dropped, empty values too."""
    value = _mapping(value, name)
    record = {key: _string(value.get(key), f"{name}.{key}", limit=limit) for key, limit in fields.items()}
    return {key: text for key, text in record.items() if text}


def _maintainers(value) -> list[dict]:
    maintainers = []
    for i, item in enumerate(_list(value, "maintainers")):
        record = _record(item, f"maintainers[{i}]", {"name": MAX_LINE_CHARS, "email": MAX_LINE_CHARS, "url": MAX_URL_CHARS})
        if not record.get("name"):
            raise InvalidPackage(f"Chart.yaml: maintainers[{i}] has no name")
        maintainers.append(record)
    return maintainers


_DEPENDENCY_FIELDS = {
    "name": MAX_LINE_CHARS, "version": MAX_LINE_CHARS, "repository": MAX_URL_CHARS, "condition": MAX_LINE_CHARS,
    "alias": MAX_LINE_CHARS,
}


def _import_value(value, name: str):
    if isinstance(value, dict):
        return _record(value, name, {"child": MAX_LINE_CHARS, "parent": MAX_LINE_CHARS})
    return _string(value, name, limit=MAX_LINE_CHARS)


def _dependencies(value) -> list[dict]:
    dependencies = []
    for i, item in enumerate(_list(value, "dependencies")):
        name = f"dependencies[{i}]"
        record = _record(item, name, _DEPENDENCY_FIELDS)
        if not record.get("name"):
            raise InvalidPackage(f"Chart.yaml: {name} has no name")
        if item.get("tags") is not None:
            record["tags"] = _strings(item["tags"], f"{name}.tags", limit=MAX_LINE_CHARS)
        if item.get("enabled") is not None:
            record["enabled"] = _bool(item["enabled"], f"{name}.enabled")
        if item.get("import-values") is not None:
            imports = _list(item["import-values"], f"{name}.import-values")
            record["import-values"] = [_import_value(v, f"{name}.import-values[{j}]") for j, v in enumerate(imports)]
        dependencies.append(record)
    return dependencies


def _annotations(value) -> dict[str, str]:
    if value is None:
        return {}
    value = _mapping(value, "annotations")
    if len(value) > MAX_ITEMS:
        raise InvalidPackage(f"Chart.yaml: annotations has more than {MAX_ITEMS} entries")
    annotations = {}
    for key, text in value.items():
        key = _string(key, "an annotation key", limit=MAX_LINE_CHARS)
        annotations[key] = _string(text, f"annotations[{key!r}]", limit=MAX_TEXT_CHARS, text=True)
    return annotations


_METADATA_READERS = {
    "type": lambda v: _string(v, "type", limit=MAX_LINE_CHARS),
    "keywords": lambda v: _strings(v, "keywords", limit=MAX_LINE_CHARS),
    "home": lambda v: _string(v, "home", limit=MAX_URL_CHARS),
    "sources": lambda v: _strings(v, "sources", limit=MAX_URL_CHARS),
    "maintainers": _maintainers,
    "icon": lambda v: _string(v, "icon", limit=MAX_URL_CHARS),
    "kubeVersion": lambda v: _string(v, "kubeVersion", limit=MAX_LINE_CHARS),
    "deprecated": lambda v: _bool(v, "deprecated"),
    "annotations": _annotations,
    "engine": lambda v: _string(v, "engine", limit=MAX_LINE_CHARS),
    "tillerVersion": lambda v: _string(v, "tillerVersion", limit=MAX_LINE_CHARS),
}
# The Chart.yaml fields index.yaml repeats besides the ones with their own columns.
EXTRA_METADATA_FIELDS = tuple(_METADATA_READERS)


def parse_chart_yaml(data: bytes) -> ChartPackage:
    """What a Chart.yaml declares, in Helm's types and within this module's limits (see module doc)."""
    if len(data) > MAX_CHART_YAML_BYTES:
        raise InvalidPackage(f"Chart.yaml is larger than {MAX_CHART_YAML_BYTES} bytes")
    try:
        document = load_bounded(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InvalidPackage(f"Chart.yaml is not UTF-8 text: {error}") from None
    except (yaml.YAMLError, ValueError, OverflowError) as error:  # ValueError: e.g. a 5000-digit integer
        raise InvalidPackage(f"Chart.yaml is not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise InvalidPackage("Chart.yaml is not a YAML mapping")
    api_version = _string(document.get("apiVersion"), "apiVersion", limit=MAX_LINE_CHARS)
    if api_version not in ("v1", "v2"):
        raise InvalidPackage(f"Chart.yaml: apiVersion must be v1 or v2, got '{api_version}'")
    name = _string(document.get("name"), "name", limit=MAX_LINE_CHARS)
    if not re.match(NAME_PATTERN, name):
        raise InvalidPackage(f"Chart.yaml: '{name}' is not a valid chart name")
    version = _string(document.get("version"), "version", limit=MAX_VERSION_CHARS)
    if not re.match(SEMVER2_PATTERN, version):
        raise InvalidPackage(f"Chart.yaml: version '{version}' is not a valid SemVer 2 version")
    package = ChartPackage(
        api_version=api_version, name=name, version=version,
        app_version=_string(document.get("appVersion"), "appVersion", limit=MAX_LINE_CHARS),
        description=_string(document.get("description"), "description", limit=MAX_TEXT_CHARS, text=True),
        dependencies=_dependencies(document.get("dependencies")),
        metadata={
            key: read(document[key]) for key, read in _METADATA_READERS.items()
            if document.get(key) not in (None, "", [], {})
        },
    )
    repeated = len(json.dumps([package.description, package.metadata, package.dependencies], ensure_ascii=False).encode())
    if repeated > MAX_INDEX_ENTRY_BYTES:
        raise InvalidPackage(
            f"Chart.yaml: the fields index.yaml repeats (description, dependencies, keywords, maintainers, "
            f"annotations, ...) take more than {MAX_INDEX_ENTRY_BYTES} bytes together"
        )
    return package
