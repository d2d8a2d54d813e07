"""Health checks for load balancers and process managers: `GET /healthz` and `GET /readyz`.

- `/healthz` (liveness): the process is up and answering. No I/O, so a slow database never gets
  a healthy web process restarted.
- `/readyz` (readiness): the database answers a query (503 with `Retry-After` when it does not,
  so a balancer sends traffic elsewhere). With `REDIS_URL`, Redis is PINGed too and reported,
  but an unreachable Redis does not make the node unready: requests still do their job while
  it is down (background work waits in the outbox, the cache degrades to none), and taking
  every node out of the balancer during a Redis outage would turn a delay into an outage.

They are answered by a middleware placed first: probes come over plain HTTP to a node's own
address, before the HTTPS redirect and the ALLOWED_HOSTS check (Host is never read here), and
need no session, user or CSRF machinery.
"""
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse

REDIS_TIMEOUT_SECONDS = 1.0


def database_check() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return f"unreachable: {type(exc).__name__}"
    return "ok"


def redis_check() -> str:
    if not settings.REDIS_URL:
        return "not configured"  # the embedded default: tasks run in the web process
    # Imported here: redis-py pulls in OpenTelemetry and psutil (~9 MB per process), which a web
    # process without REDIS_URL never needs (docs/performance.md, Memory).
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"unreachable: {type(exc).__name__}"
    finally:
        client.close()
    return "ok"


def healthz() -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz() -> JsonResponse:
    checks = {"database": database_check(), "redis": redis_check()}
    ready = checks["database"] == "ok"
    status = "unavailable" if not ready else "ok" if checks["redis"] in ("ok", "not configured") else "degraded"
    response = JsonResponse({"status": status, "checks": checks}, status=200 if ready else 503)
    if not ready:
        response["Retry-After"] = "5"
    return response


PROBES: dict[str, Callable[[], JsonResponse]] = {"/healthz": healthz, "/readyz": readyz}


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = JsonResponse({"status": "method not allowed"}, status=405)
            response["Allow"] = "GET, HEAD"
            return response
        response = probe()
        response["Cache-Control"] = "no-store"
        return response
