"""Content digests (`<algorithm>:<hex>`): parsing, validation and incremental hashing.

sha256 is the registry's default; sha512 is accepted wherever a client names it (OCI image spec).
"""
import base64
import hashlib
import mmap
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

import rehashes

ALGORITHMS = {"sha256": 64, "sha512": 128}
DEFAULT_ALGORITHM = "sha256"
HASH_BUFFER = 1024 * 1024  # per hashing request
_DIGEST_RE = re.compile(r"^(?P<algorithm>[a-z0-9]+(?:[+._-][a-z0-9]+)*):(?P<hex>[a-zA-Z0-9=_-]+)$")


class InvalidDigest(ValueError):
    pass


@dataclass(frozen=True)
class Digest:
    algorithm: str
    hex: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"


def parse_digest(value: str) -> Digest:
    """Parse and validate a digest string; raise InvalidDigest for anything we cannot verify."""
    match = _DIGEST_RE.match(value or "")
    if not match:
        raise InvalidDigest(f"malformed digest {value!r}")
    algorithm, hexpart = match["algorithm"], match["hex"]
    if algorithm not in ALGORITHMS:
        raise InvalidDigest(f"unsupported digest algorithm {algorithm!r}")
    if len(hexpart) != ALGORITHMS[algorithm] or not re.fullmatch(r"[0-9a-f]+", hexpart):
        raise InvalidDigest(f"malformed {algorithm} digest {value!r}")
    return Digest(algorithm, hexpart)


def is_digest(value: str) -> bool:
    try:
        parse_digest(value)
    except InvalidDigest:
        return False
    return True


def new_hasher(algorithm: str = DEFAULT_ALGORITHM):
    if algorithm not in ALGORITHMS:
        raise InvalidDigest(f"unsupported digest algorithm {algorithm!r}")
    return hashlib.new(algorithm)


COPY_PIECE = 64 * 1024


class ResumableSha256:
    """A sha256 hasher whose state can be saved (`state()`, ~140 characters) and resumed in another
    process (`ResumableSha256(state)`): an upload continued on another node goes on hashing where
    the previous request stopped, without re-reading the bytes stored so far. RustCrypto's sha2
    (the `rehashes` package; hashlib's OpenSSL state cannot be saved), about as fast as hashlib.
    A saved state is only for the same `rehashes` version (it is pinned)."""

    name = "sha256"

    def __init__(self, state: str | None = None):
        self._hasher = rehashes.PySha256.deserialize(base64.b64decode(state)) if state else rehashes.PySha256()

    def update(self, data: bytes | bytearray | memoryview) -> None:
        if isinstance(data, bytes):
            self._hasher.update(data)
            return
        # rehashes takes bytes only, so a buffer is copied: in pieces under glibc's mmap threshold
        # (registry_portal/wsgi.py), which reuse warm heap memory. A 1 MiB copy was a fresh mapping
        # each time: 0.5 s of page faults per GiB uploaded, against 0.02 s in 64 KiB pieces.
        with memoryview(data) as view:
            for start in range(0, len(view), COPY_PIECE):
                with view[start:start + COPY_PIECE] as piece:
                    self._hasher.update(bytes(piece))

    def hexdigest(self) -> str:
        return self._hasher.finalize()  # leaves the state as it was: more bytes may follow

    def state(self) -> str:
        return base64.b64encode(self._hasher.serialize()).decode("ascii")


# Pieces this large are hashed on a helper thread while the caller writes them (hashlib lets go of
# the GIL for them); a smaller one is hashed inline, where the hand-off would cost what it saves.
HASH_ALONGSIDE_MIN = 256 * 1024
_helpers: ThreadPoolExecutor | None = None
_helpers_lock = threading.Lock()


def _hashing_helpers() -> ThreadPoolExecutor:
    global _helpers
    with _helpers_lock:  # made on first use, in the process that hashes
        if _helpers is None:
            _helpers = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="hash-alongside")
        return _helpers


def _forget_helpers_after_fork() -> None:
    global _helpers, _helpers_lock
    _helpers, _helpers_lock = None, threading.Lock()  # a forked child has none of the parent's threads


os.register_at_fork(after_in_child=_forget_helpers_after_fork)


def hash_alongside(hasher, data: bytes | bytearray | memoryview, write: Callable[[], None]) -> None:
    """`hasher.update(data)` on a helper thread while `write()` (which stores the same bytes) runs in
    the caller's: the two costs of an upload's bytes overlap instead of adding up (perf: a request
    is one thread; receiving, hashing and writing came one after the other). Both are over when
    this returns, so the caller may reuse `data`'s buffer at once, and each hasher is fed one
    piece at a time, in order. An error of either is raised once both have ended."""
    if len(data) < HASH_ALONGSIDE_MIN:
        write()
        hasher.update(data)
        return
    hashed = _hashing_helpers().submit(hasher.update, data)
    try:
        write()
    finally:
        hashed.result()  # even when the write failed: the helper must be done with the buffer


def digest_of(data: bytes, algorithm: str = DEFAULT_ALGORITHM) -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def hash_file(hasher, handle: BinaryIO, *, length: int | None = None) -> int:
    """Feed `hasher` what `handle` reads from its position: `length` bytes, or all to its end; the
    number of bytes read (fewer than `length` when the file is shorter). The one loop that hashes
    stored bytes: one reused HASH_BUFFER-sized mapping, handed back to the system when done."""
    buffer = mmap.mmap(-1, HASH_BUFFER)
    view = memoryview(buffer)
    total = 0
    try:
        while length is None or total < length:
            want = HASH_BUFFER if length is None else min(HASH_BUFFER, length - total)
            with view[:want] as window:
                n = handle.readinto(window)
            if not n:
                break
            with view[:n] as chunk:
                hasher.update(chunk)
            total += n
    finally:
        view.release()
        try:
            buffer.close()
        except BufferError:  # a traceback still holds a slice: the mapping goes with it
            pass
    return total
