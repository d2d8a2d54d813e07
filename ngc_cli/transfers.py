"""Model and resource transfers: `upload-version` and `download-version` (upload protocol V2 and the
download listing of reference/ngc-api.md §5.3–§5.4, docs/model-transfers.md on the server side).

Uploads: sha256 of every file (standard base64 on the wire) → dedup check (files the server already
has are only committed) → per missing file a multipart upload (start → PUT each part to its
capability URL without Authorization → complete, where the server re-hashes and compares) → commit
→ PATCH status UPLOAD_COMPLETE → poll the version until the worker says UPLOAD_COMPLETE/FAILED.
A resume table under $NGC_CLI_HOME/.ngc/transfer-caches/ remembers each file's `uploadID` and the
parts already sent, so a command run again after an interruption resumes with `partNumberList`
(the server's multipart resume) and never resends a finished part; completed files are skipped by
the dedup check.

Downloads go to `<dest>/<name>_v<version>/`: files already there with the right size and sha256
are skipped, shorter ones continue with `Range`, and each file is compared with the sha256 of the
server's file list. Files move in parallel (a thread pool) under one progress bar.
"""
import base64
import binascii
import datetime as dt
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from ngc_cli.client import ApiClient
from ngc_cli.config import config_dir
from ngc_cli.errors import NgcError, server_message
from ngc_cli.output import Printer

CHUNK = 1024 * 1024
DEFAULT_THREADS = 4
DEDUP_BATCH = 100
COMMIT_BATCH = 4000
FINAL_STATES = ("UPLOAD_COMPLETE", "UPLOAD_FAILED")
Advance = Callable[[int], None]  # Progress.advance: count bytes moved (negative: taken back)


# --- small helpers ---------------------------------------------------------------------------------


def human_size(size: float | str | None) -> str:
    """1024-based, as the guide prints (10664 → '10.41 KB')."""
    size = float(size or 0)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{int(size)} B" if unit == "B" else f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def sha256_file(path: Path) -> bytes:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.digest()


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def digest_of(value: str) -> bytes | None:
    """A sha256 from the server, hex or base64, as bytes."""
    if not value:
        return None
    value = value.split(":", 1)[-1]
    if len(value) == 64:
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


_local = threading.local()


def raw_session() -> requests.Session:
    """A per-thread session for capability URLs (no Authorization; TLS as requests: REQUESTS_CA_BUNDLE)."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def raw_request(method: str, url: str, **kwargs: Any) -> requests.Response:
    kwargs.setdefault("timeout", (10, 300))
    try:
        return raw_session().request(method, url, **kwargs)
    except requests.exceptions.RequestException as exc:
        raise NgcError(f"Transfer failed talking to {url.split('?')[0]}: {' '.join(str(exc).split())[:200]}") from exc


class Progress:
    """Files done and bytes moved, callable from worker threads; shown as a rich progress bar on
    stderr (files done, bytes, rate, ETA) while `with`-entered, when `show`."""

    def __init__(self, total_files: int, total_bytes: int, description: str, *, show: bool):
        self._lock = threading.Lock()
        self._files_done = 0
        self._bar = None
        if show:
            from rich.console import Console
            from rich.progress import (
                BarColumn, DownloadColumn, TextColumn, TimeRemainingColumn, TransferSpeedColumn,
            )
            from rich.progress import Progress as Bar

            self._bar = Bar(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[files]}/" + str(total_files) + " files"),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._task = self._bar.add_task(description, total=max(total_bytes, 1) if total_bytes else 1, files=0)

    def advance(self, nbytes: int = 0, file_done: bool = False) -> None:
        with self._lock:
            if file_done:
                self._files_done += 1
            if self._bar is not None:
                self._bar.update(self._task, advance=nbytes, files=self._files_done)

    def __enter__(self) -> "Progress":
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.stop()


@dataclass
class Summary:
    transfer_id: str
    direction: str  # "Upload" | "Download"
    local_path: str
    started: dt.datetime
    files: int = 0
    size: int = 0
    skipped_files: int = 0
    completed: dt.datetime | None = None
    status: str = "Completed"

    def as_json(self) -> dict:
        verb = "uploaded" if self.direction == "Upload" else "downloaded"
        return {
            "transfer_id": self.transfer_id,
            f"{self.direction.lower()}_status": self.status,
            f"{verb}_local_path": self.local_path,
            f"total_files_{verb}": self.files,
            f"total_{verb}_size": human_size(self.size),
            f"total_{verb}_size_bytes": self.size,
            "files_skipped": self.skipped_files,
            "started_at": str(self.started),
            "completed_at": str(self.completed),
            "duration_seconds": round((self.completed - self.started).total_seconds(), 3),
        }

    def print(self, out: Printer) -> None:
        """The guide's transfer summary (5.2); json prints the same facts as an object."""
        if out.format == "json":
            out.json(self.as_json())
            return
        verb = "uploaded" if self.direction == "Upload" else "downloaded"
        seconds = max(int(round((self.completed - self.started).total_seconds())), 0)
        rule = "-" * 52
        for line in (
            rule,
            f"Transfer id: {self.transfer_id} {self.direction} status: {self.status}.",
            f"{verb.capitalize()} local path: {self.local_path}",
            f"Total files {verb}: {self.files}",
            f"Total {verb} size: {human_size(self.size)}",
            f"Started at: {self.started}",
            f"Completed at: {self.completed}",
            f"Duration taken: {seconds}s seconds",
            rule,
        ):
            out.write(line)


# --- resume table ----------------------------------------------------------------------------------


class ResumeTable:
    """{relative path: {sha256, size, uploadID, partSize, parts: [sent part numbers], complete}} for
    one target version, in $NGC_CLI_HOME/.ngc/transfer-caches/<key>.json; written after every part."""

    def __init__(self, key: str):
        folder = config_dir() / "transfer-caches"
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")
        self.lock = threading.Lock()
        try:
            self.data = json.loads(self.path.read_text())
            if self.data.get("key") != key:
                self.data = {"key": key, "files": {}}
        except (OSError, ValueError):
            self.data = {"key": key, "files": {}}

    def entry(self, path: str) -> dict:
        with self.lock:
            return dict(self.data["files"].get(path) or {})

    def update(self, path: str, **values: Any) -> None:
        with self.lock:
            entry = self.data["files"].setdefault(path, {})
            entry.update(values)
            self._save()

    def add_part(self, path: str, number: int) -> None:
        with self.lock:
            entry = self.data["files"].setdefault(path, {})
            entry["parts"] = sorted(set(entry.get("parts") or []) | {number})
            self._save()

    def _save(self) -> None:
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.data))
        os.replace(tmp, self.path)

    def remove(self) -> None:
        try:
            self.path.unlink()
        except OSError:
            pass


# --- upload ----------------------------------------------------------------------------------------


@dataclass
class LocalFile:
    rel: str
    path: Path
    size: int
    sha: bytes = b""

    @property
    def sha_b64(self) -> str:
        return b64(self.sha)


def collect_files(source: str) -> tuple[Path, list[LocalFile]]:
    """The files of --source (a file, or every file under a directory), with '/'-separated relative paths."""
    root = Path(source).expanduser()
    if not root.exists():
        raise NgcError(f"The source path '{source}' does not exist")
    if root.is_file():
        return root.resolve(), [LocalFile(root.name, root, root.stat().st_size)]
    files = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            files.append(LocalFile(path.relative_to(root).as_posix(), path, path.stat().st_size))
    if not files:
        raise NgcError(f"The source directory '{source}' holds no files")
    return root.resolve(), files


@dataclass
class Target:
    """Where a version lives: `space` is org/<org>[/team/<team>], `kind` models|resources."""

    org: str
    team: str | None
    kind: str
    name: str
    version: str
    space: str = ""
    one_key: str = ""
    version_key: str = ""
    files_key: str = ""

    @property
    def base(self) -> str:
        return f"/v2/{self.space}/{self.kind}/{self.name}"

    @property
    def transfer_id(self) -> str:
        return f"{self.name}[version={self.version}]"


def _call(api: ApiClient, target: Target, method: str, path: str, **kwargs: Any) -> dict:
    return api.request(method, path, org=target.org, team=target.team, **kwargs)


def wait_for_version(api: ApiClient, target: Target, timeout: float) -> dict:
    """Poll the version until the server's worker finalised it (or the timeout)."""
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        body = _call(api, target, "GET", f"{target.base}/versions/{target.version}", what=f"Version '{target.version}'")
        version = body.get(target.version_key) or {}
        if version.get("status") in FINAL_STATES or time.monotonic() > deadline:
            return version
        time.sleep(delay)
        delay = min(delay * 1.5, 2.0)


def upload_version(api: ApiClient, target: Target, source: str, *, version_body: dict, threads: int, part_size: int | None,
                   commit: bool = True, wait_timeout: float = 600, show_progress: bool = True) -> tuple[Summary, dict]:
    started = dt.datetime.now()
    root, files = collect_files(source)
    # 1. the version (409: it exists; resume unless complete)
    created = _call(api, target, "POST", f"{target.base}/versions", json={"versionId": target.version, **version_body},
                    ok=(200, 201, 409), what=f"{target.kind[:-1].capitalize()} '{target.org}/{target.name}'")
    version = created.get(target.version_key) or {}
    if not version or version.get("versionId") != target.version:
        version = _call(api, target, "GET", f"{target.base}/versions/{target.version}").get(target.version_key) or {}
    if version.get("status") == "UPLOAD_COMPLETE":
        raise NgcError(f"Version '{target.version}' of '{target.name}' already exists and is complete")
    # 2. hashes, in parallel
    with ThreadPoolExecutor(max_workers=max(threads, 1)) as pool:
        for item, digest in zip(files, pool.map(lambda f: sha256_file(f.path), files)):
            item.sha = digest
    # 3. dedup check
    known: set[str] = set()
    hashes = sorted({f.sha_b64 for f in files})
    for start in range(0, len(hashes), DEDUP_BATCH):
        body = _call(api, target, "POST", f"{target.base}/files", params={"page-size": DEDUP_BATCH},
                     json={"files": [{"sha256": h} for h in hashes[start:start + DEDUP_BATCH]]})
        known |= {item["sha256"] for item in body.get("files") or [] if item.get("exists")}
    # one upload per distinct content; other paths with the same bytes are only committed
    pending: dict[str, LocalFile] = {}
    for item in files:
        if item.sha_b64 not in known and item.sha_b64 not in pending:
            pending[item.sha_b64] = item
    table = ResumeTable(f"{api.base_url}|{target.space}|{target.kind}|{target.name}|{target.version}")
    to_send = list(pending.values())
    total_bytes = sum(f.size for f in to_send)
    summary = Summary(target.transfer_id, "Upload", str(root), started)
    progress = Progress(len(to_send), total_bytes, "Uploading", show=show_progress)

    def send(item: LocalFile) -> int:
        sent = _upload_file(api, target, item, table, part_size, progress.advance)
        progress.advance(file_done=True)
        return sent

    sent_bytes = 0
    with progress, ThreadPoolExecutor(max_workers=max(threads, 1)) as pool:
        futures = [pool.submit(send, item) for item in to_send]
        for future in as_completed(futures):
            sent_bytes += future.result()
    # 4. commit every path
    entries = [{"commitType": "ADDITION", "filePath": f.rel, "sha256": f.sha_b64} for f in files]
    for start in range(0, len(entries), COMMIT_BATCH):
        _call(api, target, "POST", f"/v2/{target.space}/files/commit", params={"upload-pending": "True"},
              json={"name": target.name, "version": target.version, "artifactType": target.kind,
                    "files": entries[start:start + COMMIT_BATCH], "baseVersion": None})
    final = version
    if commit:
        _call(api, target, "PATCH", f"{target.base}/versions/{target.version}", json={"status": "UPLOAD_COMPLETE"})
        final = wait_for_version(api, target, wait_timeout)
    table.remove()
    summary.files = len(to_send)
    summary.size = sent_bytes
    summary.skipped_files = len(files) - len(to_send)
    summary.completed = dt.datetime.now()
    status = final.get("status")
    summary.status = {"UPLOAD_COMPLETE": "Completed", "UPLOAD_FAILED": "Failed"}.get(status, status or "Pending")
    return summary, final


def _upload_file(api: ApiClient, target: Target, item: LocalFile, table: ResumeTable, part_size: int | None,
                 advance: Advance) -> int:
    """One file's multipart upload, resumed from the table when possible; the bytes sent."""
    common = {"name": target.name, "version": target.version, "artifactType": target.kind, "filePath": item.rel}
    multipart = f"/v2/{target.space}/files/multipart"
    entry = table.entry(item.rel)
    started = None
    if entry.get("uploadID") and entry.get("sha256") == item.sha_b64 and entry.get("size") == item.size:
        part_count = max(1, -(-item.size // entry["partSize"])) if entry.get("partSize") else None
        done = set(entry.get("parts") or [])
        if part_count:
            advance(min(len(done) * entry["partSize"], item.size))
            remaining = [n for n in range(1, part_count + 1) if n not in done]
            if not remaining:
                started = {"uploadID": entry["uploadID"], "urls": [], "partSize": entry["partSize"], "partNumberList": []}
            else:
                try:
                    started = _call(api, target, "POST", multipart,
                                    json={**common, "size": item.size, "sha256": item.sha_b64,
                                          "uploadID": entry["uploadID"], "partNumberList": remaining})
                except NgcError:
                    started = None  # expired or unknown: start again
            if started is None:
                advance(-min(len(done) * entry["partSize"], item.size))
    if started is None:
        body = {**common, "size": item.size, "sha256": item.sha_b64}
        if part_size:
            body["partSize"] = part_size
        started = _call(api, target, "POST", multipart, json=body)
        table.update(item.rel, uploadID=started["uploadID"], partSize=started.get("partSize"), parts=[],
                     sha256=item.sha_b64, size=item.size)
    upload_id, size = started["uploadID"], started.get("partSize") or item.size or 1
    numbers = started.get("partNumberList") or list(range(1, len(started["urls"]) + 1))
    sent = 0
    with open(item.path, "rb") as handle:
        for number, url in zip(numbers, started["urls"]):
            offset = (number - 1) * size
            handle.seek(offset)
            data = handle.read(min(size, max(item.size - offset, 0)))
            response = raw_request("PUT", url, data=data, headers={"Content-Type": "application/octet-stream"})
            if response.status_code == 403:  # expired capability: ask for this part's URL again
                again = _call(api, target, "POST", multipart, json={
                    **common, "size": item.size, "sha256": item.sha_b64, "uploadID": upload_id, "partNumberList": [number]})
                response = raw_request("PUT", again["urls"][0], data=data, headers={"Content-Type": "application/octet-stream"})
            if not 200 <= response.status_code < 300:
                raise NgcError(f"Uploading part {number} of '{item.rel}' failed: HTTP {response.status_code} {server_message(response)}")
            table.add_part(item.rel, number)
            sent += len(data)
            advance(len(data))
    done = _call(api, target, "PUT", multipart, json={**common, "uploadID": upload_id, "sha256": item.sha_b64},
                 ok=(200, 201, 204, 400))  # 400: already completed; 409 (integrity error) raises
    del done
    table.update(item.rel, complete=True)
    return sent


# --- download --------------------------------------------------------------------------------------


def download_version(api: ApiClient, target: Target, dest: str, *, threads: int, show_progress: bool = True) -> Summary:
    started = dt.datetime.now()
    version = _call(api, target, "GET", f"{target.base}/versions/{target.version}",
                    what=f"Version '{target.org}/{target.team + '/' if target.team else ''}{target.name}:{target.version}'")
    version = version.get(target.version_key) or {}
    if version.get("status") != "UPLOAD_COMPLETE":
        raise NgcError(f"Version '{target.version}' of '{target.name}' is not downloadable (status {version.get('status')})")
    listed = api.paged(f"{target.base}/versions/{target.version}/files", target.files_key, page_size=1000,
                       org=target.org, team=target.team)
    meta = {row["path"]: row for row in listed}
    urls: dict[str, str] = {}
    page = 0
    while True:
        body = _call(api, target, "GET", f"{target.base}/{target.version}/files", params={"page-size": 1000, "page-number": page})
        urls.update(zip(body.get("filepath") or [], body.get("urls") or []))
        info = body.get("paginationInfo") or {}
        page += 1
        if not body.get("filepath") or page >= int(info.get("totalPages") or 1):
            break
    folder = Path(dest).expanduser() / f"{target.name}_v{target.version}"
    folder.mkdir(parents=True, exist_ok=True)
    root = folder.resolve()
    jobs = []
    for path, row in meta.items():
        local = (root / path).resolve()
        if root not in local.parents:
            raise NgcError(f"The server listed an unsafe path '{path}'")
        jobs.append((path, local, int(row.get("sizeInBytes") or 0), digest_of(row.get("sha256") or "")))
    summary = Summary(target.transfer_id, "Download", str(root), started)
    # skip what is already complete and correct; continue shorter files
    todo, have = [], 0
    for path, local, size, digest in jobs:
        current = local.stat().st_size if local.exists() else 0
        if current == size and local.exists() and (digest is None or sha256_file(local) == digest):
            summary.skipped_files += 1
            continue
        if current > size:
            local.unlink()
            current = 0
        todo.append((path, local, size, digest, current))
        have += current
    total = sum(job[2] for job in todo)
    progress = Progress(len(todo), total, "Downloading", show=show_progress)

    def fetch(job: tuple[str, Path, int, bytes | None, int]) -> int:
        path, local, size, digest, current = job
        if path not in urls:
            raise NgcError(f"The server gave no download URL for '{path}'")
        progress.advance(current)
        received = _download_file(urls[path], local, size, current, progress.advance)
        if digest is not None and sha256_file(local) != digest:
            local.unlink()
            raise NgcError(f"'{path}' failed its sha256 check; it was removed, run the command again")
        progress.advance(file_done=True)
        return received

    received = 0
    with progress, ThreadPoolExecutor(max_workers=max(threads, 1)) as pool:
        for future in as_completed([pool.submit(fetch, job) for job in todo]):
            received += future.result()
    summary.files = len(todo)
    summary.size = received
    summary.completed = dt.datetime.now()
    return summary


def _download_file(url: str, local: Path, size: int, current: int, advance: Advance) -> int:
    """Fetch bytes [current, size) of one file with Range, appending; the bytes received."""
    local.parent.mkdir(parents=True, exist_ok=True)
    if size == 0:
        local.write_bytes(b"")
        return 0
    if current >= size:
        return 0
    headers = {"Range": f"bytes={current}-{size - 1}"}
    try:
        response = raw_session().get(url, headers=headers, stream=True, timeout=(10, 300))
    except requests.exceptions.RequestException as exc:
        raise NgcError(f"Download of {local.name} failed: {' '.join(str(exc).split())[:200]}") from exc
    with response:
        if response.status_code == 200 and current:
            current = 0  # the server ignored Range: start over
        elif response.status_code not in (200, 206):
            raise NgcError(f"Download of '{local.name}' failed: HTTP {response.status_code} {server_message(response)}")
        received = 0
        fd = os.open(local, os.O_WRONLY | os.O_CREAT | (0 if current else os.O_TRUNC), 0o644)
        try:
            os.lseek(fd, current, os.SEEK_SET)
            if current:
                os.ftruncate(fd, current)
            for chunk in response.iter_content(CHUNK):
                view = memoryview(chunk)
                while view:  # unbuffered: an interrupted run leaves exactly the bytes received
                    view = view[os.write(fd, view):]
                received += len(chunk)
                advance(len(chunk))
        finally:
            os.close(fd)
    if current + received != size:
        raise NgcError(f"Download of '{local.name}' stopped at {current + received} of {size} bytes; run the command again")
    return received
