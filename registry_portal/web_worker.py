"""The web process's gunicorn worker: the balanced gthread worker, with a kept-alive connection's next
request answered by the thread that answered the last.

gthread hands each request on a kept-alive connection across threads twice: the pool thread that
answered it wakes the main thread (through a pipe) to put the socket back in its poller, and the
poller's next event wakes a pool thread for the client's next request. A client sending requests one
after another (docker pulling layers, a CI job tagging, a UI paging a listing) waits for both hand-offs
each time, and the main thread spends CPU on each. Here the thread that answered waits up to
LINGER_MS for the next request on the connection and answers it too; only an idle connection goes
back to the poller, as before. perf: tags/list at 1,000 tags from one client, six interleaved pairs,
server CPU per GET 0.73-1.02 ms against 0.98-1.22, p10 latency 1.16-1.24 ms against 1.35-1.56.

It waits only while no other request of the worker is in its thread pool. Waiting whenever each
connection could have a thread of its own cost throughput with many requests in flight (threads back
from their waits contending for the GIL, the worker idle part of the time: 32 clients of an app
waiting 0.3 ms on I/O per request, 1,450-2,500 requests/s against 2,770-3,130); this way manifest
GETs at 32 clients measured the same as with gthread (eight interleaved pairs, medians 1,208 and
1,195 requests/s). A connection arriving meanwhile waits for a thread LINGER_MS at most.

Used with `gunicorn --worker-class registry_portal.web_worker.WebWorker` (scripts/lib.sh web_gunicorn_args).
"""
import select

from registry_portal.balanced_worker import BalancedThreadWorker

LINGER_MS = 5


class WebWorker(BalancedThreadWorker):
    def handle(self, conn):
        while True:
            keepalive = super().handle(conn)
            # busy: requests in the pool, this connection's included (the main thread counts them).
            if keepalive is not True or conn.is_http2 or not self.alive or self.busy > 1:
                return keepalive
            if not conn.parser.unreader.buf.getvalue():  # the next request is not read ahead already
                poller = select.poll()
                poller.register(conn.sock, select.POLLIN)
                if not poller.poll(LINGER_MS):
                    return keepalive  # idle: to the main thread's poller, which keeps it alive
