"""gunicorn's gthread worker, with new connections spread evenly over the workers.

Every worker waits on the one listening socket and gthread accepts whenever it is readable, so
connections that arrive together (wrk's 32, a CI fleet starting its pulls) mostly go to whichever
worker wakes first: 26/6, 29/3 and 32/0 splits on two workers. A kept-alive connection stays with
the worker that accepted it, so one core then serves nearly every request (1,084 against 2,600
manifest GETs/s in the same run, docs/performance.md). gunicorn's `--reuse-port` (a socket per
worker) spreads them by a hash, unevenly (10/22 seen), and a stopping worker's socket keeps
receiving connections that nobody accepts until it closes and resets them: a reload drops requests.

Here each worker publishes a row in a small table of memory shared across the fork (its pid, how
many connections it holds, whether a thread of its pool is free) and stops accepting while it holds
more than SLACK connections above the least loaded of the others, preferring workers with a free
thread. The least loaded worker never stops, so some worker always accepts. Rows of workers that
are stopping, dead or silent for STALE seconds do not count. Rows are read without a lock: a row
read while it is being written gives one wrong decision, made again at the next look.

Used with `gunicorn --worker-class registry_portal.balanced_worker.BalancedThreadWorker`
(scripts/lib.sh web_gunicorn_args).
"""
import mmap
import os
import struct
import time

from gunicorn.workers.gthread import ThreadWorker

SLOTS = 64  # rows: live workers, counting the old and new ones of a reload
ROW = struct.Struct("dqqqq")  # heartbeat (monotonic s, 0: free row), pid, accepting, connections, thread free
STALE = 5.0  # s without a heartbeat: the worker is stuck, not counted
REFRESH = 1.0  # s between heartbeats when nothing changes
SLACK = 1  # connections above the least loaded worker a worker may hold and still accept
PAUSED_LOOK = 0.02  # s between looks at the table while stopped for balance


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ConnectionBoard:
    """One row per worker in anonymous shared memory: created by the master, written by each worker
    into its own row only, read by all."""

    def __init__(self, slots: int = SLOTS) -> None:
        self.slots = slots
        self.memory = mmap.mmap(-1, ROW.size * slots)  # MAP_SHARED: the forked workers share the pages

    def claim(self, start: int, pid: int, now: float) -> int | None:
        """A free row (never used, cleared, stale or its worker dead), searched from `start`."""
        for i in range(self.slots):
            slot = (start + i) % self.slots
            stamp, owner, *_ = ROW.unpack_from(self.memory, slot * ROW.size)
            if stamp == 0 or now - stamp > STALE or owner == pid or not _alive(owner):
                self.publish(slot, now, pid, accepting=False, connections=0, thread_free=True)
                return slot
        return None

    def publish(self, slot: int, now: float, pid: int, *, accepting: bool, connections: int,
                thread_free: bool) -> None:
        ROW.pack_into(self.memory, slot * ROW.size, now, pid, accepting, connections, thread_free)

    def clear(self, slot: int) -> None:
        ROW.pack_into(self.memory, slot * ROW.size, 0.0, 0, 0, 0, 0)

    def may_accept(self, slot: int, now: float, connections: int, thread_free: bool) -> bool:
        """Whether the worker of `slot` should accept: not while another live worker has a free
        thread and it has none, nor while it holds more than SLACK connections above another live
        accepting worker (one with a free thread, if it has one itself)."""
        rivals = [  # (connections, thread free, pid) of the other accepting workers
            (held, free, pid) for row, (stamp, pid, accepting, held, free) in enumerate(ROW.iter_unpack(self.memory))
            if accepting and row != slot and now - stamp <= STALE
        ]
        if thread_free:
            rivals = [rival for rival in rivals if rival[1]]
        elif any(free and _alive(pid) for _, free, pid in rivals):
            return False
        # A dead worker keeps its row until a new one claims it: it must not hold the others back.
        return not any(connections > held + SLACK and _alive(pid) for held, _, pid in rivals)


class BalancedThreadWorker(ThreadWorker):
    board: ConnectionBoard | None = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # gunicorn's master builds each worker before forking it: the first one creates the table
        # every later fork inherits.
        if BalancedThreadWorker.board is None:
            BalancedThreadWorker.board = ConnectionBoard()
        self.slot: int | None = None
        self.busy = 0  # requests in the thread pool
        self._published: tuple = ()
        self._stamp = 0.0
        self._next_look = 0.0

    def run(self) -> None:
        assert self.board is not None
        self.slot = self.board.claim(self.age % SLOTS, self.pid, time.monotonic())
        try:
            super().run()
        finally:
            if self.slot is not None:
                self.board.clear(self.slot)

    def _thread_free(self) -> bool:
        return self.busy < self.cfg.threads

    def _publish(self, now: float) -> None:
        state = (self.alive and self.nr_conns < self.worker_connections, self.nr_conns, self._thread_free())
        if state != self._published or now - self._stamp > REFRESH:
            assert self.board is not None and self.slot is not None
            self.board.publish(self.slot, now, self.pid, accepting=state[0], connections=state[1],
                               thread_free=state[2])
            self._published, self._stamp = state, now

    def _may_accept(self, now: float) -> bool:
        assert self.board is not None and self.slot is not None
        self._publish(now)
        self._next_look = now + PAUSED_LOOK
        return self.board.may_accept(self.slot, now, self.nr_conns, self._thread_free())

    def set_accept_enabled(self, enabled: bool) -> None:
        # gthread's loop asks for accepting again at every turn while it is off: look at the table
        # then (at most every PAUSED_LOOK).
        if enabled and self.slot is not None and self.alive:
            now = time.monotonic()
            if now < self._next_look or not self._may_accept(now):
                return
        super().set_accept_enabled(enabled)

    def accept(self, listener) -> None:
        super().accept(listener)
        # Stop at once: in a burst the listener stays readable and the loop would accept again first.
        if self.slot is not None and not self._may_accept(time.monotonic()):
            super().set_accept_enabled(False)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        if self.slot is not None:
            now = time.monotonic()
            self._publish(now)
            if self.alive and not self._accepting and self.nr_conns < self.worker_connections:
                timeout = max(min(timeout, self._next_look - now), 0.0)  # stopped for balance
        super().wait_for_and_dispatch_events(timeout)

    def enqueue_req(self, conn) -> None:
        self.busy += 1
        super().enqueue_req(conn)

    def finish_request(self, conn, fs) -> None:
        self.busy -= 1
        super().finish_request(conn, fs)
