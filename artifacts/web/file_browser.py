"""The File Browser shared by model/resource versions and Helm chart versions
(templates/_file_browser.html): the folders and files directly inside one directory of a flat
listing of paths, with the links each page builds in its own URL scheme."""
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Folder:
    name: str
    path: str  # with the trailing slash
    size: int = 0
    count: int = 0
    url: str = ""


@dataclass
class Listed:
    """One file of the directory: its name in the folder, full path, size, and the page's links."""

    name: str
    path: str
    size: int
    url: str = ""
    sha256: str = ""
    download_url: str = ""
    item: Any = None  # the row it came from


@dataclass
class Browser:
    """What templates/_file_browser.html renders."""

    root_label: str
    root_url: str
    folders: list[Folder] = field(default_factory=list)
    files: list[Listed] = field(default_factory=list)
    crumbs: list[dict] = field(default_factory=list)
    opened: dict | None = None  # path, size, sha256, text (None: not shown), reason, download_url
    directory: str = ""


def normalize_directory(directory: str) -> str:
    directory = (directory or "").lstrip("/")
    return directory if not directory or directory.endswith("/") else directory + "/"


def browse(items: Iterable, directory: str, *, path: Callable[[Any], str], size: Callable[[Any], int]) -> tuple[list[Folder], list[Listed]]:
    """The folders (with total sizes and file counts) and files directly inside `directory`."""
    folders: dict[str, Folder] = {}
    files = []
    for item in items:
        full = path(item)
        if not full.startswith(directory):
            continue
        rest = full[len(directory):]
        if "/" in rest:
            name = rest.split("/", 1)[0]
            folder = folders.setdefault(name, Folder(name=name, path=f"{directory}{name}/"))
            folder.size += size(item)
            folder.count += 1
        else:
            files.append(Listed(name=rest, path=full, size=size(item), item=item))
    return sorted(folders.values(), key=lambda f: f.name), files


def crumbs(directory: str, link: Callable[[str], str]) -> list[dict]:
    """The breadcrumb of `directory`: each folder on the way with its link."""
    walked, found = "", []
    for part in [p for p in directory.split("/") if p]:
        walked += part + "/"
        found.append({"name": part, "path": walked, "url": link(walked)})
    return found
