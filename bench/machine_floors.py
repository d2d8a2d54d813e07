"""What this machine allows a 1 GiB push or pull over loopback with no HTTP and no registry at all.

    .venv/bin/python bench/machine_floors.py [--size-mib 1024] [--runs 5]

bench/run.py compares two registries; this prints the floor under both, so a ratio can be read
against what neither server can go below:

  * pull: one process sends a cached file to a client that `recv_into`s a 1 MiB buffer and drops
    it (bench/run.py's raw pull client), three ways: `sendfile`, `send` from 8 MiB mapped windows
    (registry_portal/mapped_send.py), and `read` + `send` of 1 MiB (what distribution does, with
    smaller buffers). MB/s and each side's CPU seconds per GiB.
  * push: a client `sendfile`s the file; the receiver `recv_into`s 1 MiB, hashes it with sha256
    and writes it to a new file (the least any verifying registry does). Twice: the files deleted
    after each run (the page cache reuses the same pages) and kept (new pages every run, as a
    registry that keeps what it stores: in a VM these can cost a hypervisor fault on first touch).

The sides are two processes (fork), like a client and a server. Nothing here is timed in tests.
"""
import argparse
import hashlib
import mmap
import os
import resource
import socket
import statistics
import sys
import tempfile
import time

MiB = 1 << 20
BUFFER = MiB
WINDOW = 8 * MiB


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def send_file(sock: socket.socket, path: str, how: str) -> None:
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if how == "sendfile":
            sock.sendfile(file)
        elif how == "mapped":
            for offset in range(0, size, WINDOW):
                mapped = mmap.mmap(file.fileno(), min(WINDOW, size - offset), flags=mmap.MAP_SHARED | mmap.MAP_POPULATE,
                                   prot=mmap.PROT_READ, offset=offset)
                with memoryview(mapped) as window:
                    sock.sendall(window)
                mapped.close()
        else:  # read + send
            buffer = bytearray(BUFFER)
            view = memoryview(buffer)
            while n := file.readinto(buffer):
                sock.sendall(view[:n])


def drain(sock: socket.socket) -> int:
    buffer = bytearray(BUFFER)
    total = 0
    while n := sock.recv_into(buffer):
        total += n
    return total


def store(sock: socket.socket, target: str) -> int:
    buffer = bytearray(BUFFER)
    view = memoryview(buffer)
    hasher = hashlib.sha256()
    total = 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        while n := sock.recv_into(buffer):
            hasher.update(view[:n])
            os.write(fd, view[:n])
            total += n
    finally:
        os.close(fd)
    return total


def one_transfer(sender, receiver) -> tuple[float, float, float]:
    """(seconds, sender CPU s, receiver CPU s): `sender(sock)` runs in a child process."""
    listener = socket.create_server(("127.0.0.1", 0))
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the sending side
        os.close(read_end)
        with socket.create_connection(listener.getsockname()) as sock:
            sock.recv(1)
            before = cpu_seconds()
            sender(sock)
            os.write(write_end, f"{cpu_seconds() - before}".encode())
        os._exit(0)
    os.close(write_end)
    connection, _ = listener.accept()
    listener.close()
    with connection:
        before, started = cpu_seconds(), time.perf_counter()
        connection.send(b"g")
        receiver(connection)
        seconds, receiver_cpu = time.perf_counter() - started, cpu_seconds() - before
    os.waitpid(pid, 0)
    sender_cpu = float(os.read(read_end, 64))
    os.close(read_end)
    return seconds, sender_cpu, receiver_cpu


def summary(name: str, size: int, runs: list[tuple[float, float, float]]) -> str:
    gib = size / (1 << 30)
    rates = [size / seconds / 1e6 for seconds, _, _ in runs]
    senders = [sender / gib for _, sender, _ in runs]
    receivers = [receiver / gib for _, _, receiver in runs]
    return (f"| {name} | {statistics.median(rates):,.0f} ({min(rates):,.0f}–{max(rates):,.0f}) | "
            f"{min(senders):.2f}–{max(senders):.2f} | {min(receivers):.2f}–{max(receivers):.2f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    size = args.size_mib * MiB
    with tempfile.TemporaryDirectory(prefix="machine-floors-", dir=os.environ.get("TMPDIR", "/var/tmp")) as tmp:
        blob = os.path.join(tmp, "blob")
        with open(blob, "wb") as file:
            for _ in range(args.size_mib):
                file.write(os.urandom(MiB))
        with open(blob, "rb") as file:  # in the page cache, as a just-pushed blob is
            while file.read(8 * MiB):
                pass
        rows = []
        for how in ("sendfile", "mapped", "read+send"):
            runs = [one_transfer(lambda sock, how=how: send_file(sock, blob, how), drain) for _ in range(args.runs)]
            rows.append(summary(f"pull: the server sends with {how}", size, runs))
        for keep in (False, True):
            runs = []
            for run in range(args.runs):
                target = os.path.join(tmp, f"pushed-{run}")
                runs.append(one_transfer(lambda sock: send_file(sock, blob, "sendfile"),
                                         lambda sock, target=target: store(sock, target)))
                if not keep:
                    os.unlink(target)
            pages = "new page-cache pages (files kept)" if keep else "reused page-cache pages (files deleted)"
            rows.append(summary(f"push: the server receives + sha256 + write, {pages}", size, runs))
    print(f"{args.size_mib} MiB over 127.0.0.1, {args.runs} runs each; MB/s median (range), CPU s per GiB of each side")
    print()
    print("| transfer | MB/s | sending side CPU s/GiB | receiving side CPU s/GiB |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
