import hashlib
import os
import threading
import time

import pytest

from artifacts.digests import COPY_PIECE, HASH_ALONGSIDE_MIN, ResumableSha256, hash_alongside

BIG = HASH_ALONGSIDE_MIN


class RecordingHasher:
    """sha256, noting which thread fed it and whether an update is running."""

    def __init__(self, *, slow: float = 0.0):
        self._sha256, self.slow = hashlib.sha256(), slow
        self.threads: list[int] = []
        self.started, self.running = threading.Event(), False

    def update(self, data) -> None:
        self.running = True
        self.threads.append(threading.get_ident())
        self.started.set()
        time.sleep(self.slow)
        self._sha256.update(data)
        self.running = False

    def hexdigest(self) -> str:
        return self._sha256.hexdigest()


@pytest.mark.parametrize("sizes", [
    [1, 7, 3, BIG - 1, 1, BIG, BIG + 1, 5],  # tiny, odd and threshold-sized pieces, in any mix
    [BIG * 4 + 3, BIG * 2, 11, BIG * 4],
])
def test_pieces_hashed_alongside_their_writes_have_the_digest_of_the_bytes_in_order(sizes):
    data = os.urandom(sum(sizes))
    buffer = memoryview(bytearray(max(sizes)))  # one reused buffer, as the request body reader
    hasher, written, at = hashlib.sha256(), bytearray(), 0
    for size in sizes:
        piece = buffer[:size]
        piece[:] = data[at:at + size]
        hash_alongside(hasher, piece, lambda piece=piece: written.extend(piece))
        buffer[:] = os.urandom(len(buffer))  # the caller reuses the buffer at once: both must be done
        at += size
    assert written == data
    assert hasher.hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_large_piece_is_hashed_while_it_is_written():
    hasher, seen_while_writing = RecordingHasher(), []

    def write():  # returns only once the hash has started on a thread of its own
        seen_while_writing.append(hasher.started.wait(timeout=10))

    hash_alongside(hasher, os.urandom(BIG), write)
    assert seen_while_writing == [True]
    assert hasher.threads != [threading.get_ident()]


def test_a_small_piece_is_hashed_inline():
    hasher = RecordingHasher()
    hash_alongside(hasher, b"x" * (BIG - 1), lambda: None)
    assert hasher.threads == [threading.get_ident()]


def test_a_failed_write_is_raised_once_the_hash_is_done_with_the_buffer():
    hasher = RecordingHasher(slow=0.2)

    def write():
        hasher.started.wait(timeout=10)
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        hash_alongside(hasher, os.urandom(BIG), write)
    assert hasher.threads and not hasher.running


def test_a_forked_child_hashes_alongside_with_threads_of_its_own():
    hash_alongside(hashlib.sha256(), os.urandom(BIG), lambda: None)  # the parent's helpers exist now
    pid = os.fork()
    if pid == 0:  # the child: a hand-off to the parent's (absent) threads would never return
        hasher = hashlib.sha256()
        hash_alongside(hasher, b"y" * BIG, lambda: None)
        os._exit(0 if hasher.hexdigest() == hashlib.sha256(b"y" * BIG).hexdigest() else 1)
    deadline = time.monotonic() + 20
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if done[0] == 0:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    assert done[0] == pid and os.waitstatus_to_exitcode(done[1]) == 0


@pytest.mark.parametrize("size", [0, 1, COPY_PIECE - 1, COPY_PIECE, COPY_PIECE + 1, 3 * COPY_PIECE + 17, 1024 * 1024])
def test_the_resumable_sha256_of_a_reused_buffer_copied_in_pieces_is_the_sha256_of_its_bytes(size):
    data = os.urandom(size)
    buffer = bytearray(data)
    hasher = ResumableSha256()
    hasher.update(memoryview(buffer)[: size // 2])
    resumed = ResumableSha256(hasher.state())  # saved and resumed between two pieces, as a checkpoint does
    resumed.update(memoryview(buffer)[size // 2:])
    buffer[:] = bytes(size)  # the caller reuses its buffer at once: nothing of it may be kept
    assert resumed.hexdigest() == hashlib.sha256(data).hexdigest()
