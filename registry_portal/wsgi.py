"""WSGI entry point (gunicorn registry_portal.wsgi)."""
import ctypes
import os

from django.core.wsgi import get_wsgi_application

from registry_portal import mapped_send, one_send

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
BIG_BUFFER_BYTES = 128 * 1024


def return_big_buffers_to_the_os() -> None:
    """Upload buffers (up to 1 MiB each) are allocated and freed by many threads. After the first
    such free, glibc raises its mmap threshold and from then on keeps freed buffers in per-thread
    arenas: a 16-thread worker held ~14 MiB more after a push (docs/performance.md). A fixed
    threshold maps every allocation of 128 KiB or more and unmaps it when freed. An explicit
    MALLOC_MMAP_THRESHOLD_ in the environment wins; other C libraries are left alone."""
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(M_MMAP_THRESHOLD, BIG_BUFFER_BYTES)


return_big_buffers_to_the_os()
mapped_send.install()  # perf: file bodies copied once from the page cache, not sendfile'd (see the module)
one_send.install()  # perf: a small response's head and body in one send (see the module)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry_portal.settings")
application = get_wsgi_application()

from django.urls import get_resolver  # noqa: E402 (needs the configured settings)

# Import every view while the worker boots, not inside its first request (~0.6 s of CPU that the
# first client of each new worker waited for).
get_resolver().url_patterns  # noqa: B018 (touching it imports the URLconf)

from registry_portal.periodic import start_in_process_scheduler  # noqa: E402 (needs the configured settings)
from registry_portal.request_signals import disconnect_idle_request_receivers  # noqa: E402

disconnect_idle_request_receivers()  # per request work that has nothing to do here (perf)
start_in_process_scheduler()  # the embedded default's periodic work; a no-op with REDIS_URL (beat runs it)
