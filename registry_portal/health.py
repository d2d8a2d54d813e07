"""Health checks for load balancers and process managers: `GET /healthz` and `GET /readyz`.

- `/healthz` (liveness): the process is up and answering. No I/O, so a slow database never gets
  a healthy web process restarted.
- `/readyz` (readiness): the database answers a query and, with `REDIS_URL`, Redis answers a
  PING (1 s timeouts). JSON either way; 503 with `Retry-After` when something is unreachable,
  so a balancer sends traffic elsewhere.

They are answered by a middleware placed first: probes come over plain HTTP to a node's own
address, before the HTTPS redirect and the ALLOWED_HOSTS check (Host is never read here), and
need no session, user or CSRF machinery.
"""
from collections.abc import Callable

import redis
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
    ready = all(result in ("ok", "not configured") for result in checks.values())
    response = JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
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
