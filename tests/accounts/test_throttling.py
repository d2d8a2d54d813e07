"""Throttling (issue 12 item 9): portal sign-in (django-axes), `/token` and invitation links answer
429 with Retry-After in their face's format once a client has failed too often, and throttling
fails open when its cache (Redis) does not answer."""
import logging
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.roles import Role
from tests.support.personas import PASSWORD
from tests.support.servers import free_port
from tests.support.auth import basic_auth

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]
SIGNIN = "/accounts/signin"
ROOT = Path(__file__).resolve().parents[2]


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def fail_sign_in(client: Client, times: int, email: str = "owner@example.test"):
    for _ in range(times):
        response = client.post(SIGNIN, {"email": email, "password": "not-my-password"})
    return response


# --- portal sign-in --------------------------------------------------------------------------


def test_it_refuses_sign_in_with_429_and_a_form_message_after_the_failure_limit(cast, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(SIGNIN, {"email": "owner@example.test", "password": "not-my-password"})
        assert response.status_code == 200
        assert b"Incorrect e-mail or password." in response.content

    response = client.post(SIGNIN, {"email": "owner@example.test", "password": "not-my-password"})

    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    page = response.content.decode()
    assert "Too many failed sign-in attempts" in page and "15 minutes" in page
    assert 'name="email"' in page  # the sign-in form itself, not a bare error page


def test_a_correct_password_during_the_lockout_is_still_refused(cast, settings):
    client = Client()
    fail_sign_in(client, settings.AXES_FAILURE_LIMIT)

    response = client.post(SIGNIN, {"email": "owner@example.test", "password": PASSWORD})

    assert response.status_code == 429 and not signed_in(client)
    assert b"Too many failed sign-in attempts" in response.content
    # The lockout is by e-mail and client IP: the same person from elsewhere, or another account
    # from this address, still signs in.
    spoofed = Client(HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert spoofed.post(SIGNIN, {"email": "owner@example.test", "password": PASSWORD}).status_code == 429
    elsewhere = Client(REMOTE_ADDR="10.1.2.3")
    assert elsewhere.post(SIGNIN, {"email": "owner@example.test", "password": PASSWORD}).status_code == 302
    other = Client()
    assert other.post(SIGNIN, {"email": "org-registry-user@example.test", "password": PASSWORD}).status_code == 302


def test_sign_in_works_again_after_the_cool_off(cast, settings):
    client = Client()
    fail_sign_in(client, settings.AXES_FAILURE_LIMIT)
    # Travel past the cool-off: the failures now lie further back than it.
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))

    response = client.post(SIGNIN, {"email": "owner@example.test", "password": PASSWORD})

    assert response.status_code == 302 and signed_in(client)


def test_a_successful_sign_in_forgets_earlier_failures(cast, settings):
    client = Client()
    fail_sign_in(client, settings.AXES_FAILURE_LIMIT - 1)
    assert client.post(SIGNIN, {"email": "owner@example.test", "password": PASSWORD}).status_code == 302
    client.post(reverse("accounts:signout"))

    response = fail_sign_in(client, settings.AXES_FAILURE_LIMIT - 1)

    assert response.status_code == 200 and b"Incorrect e-mail or password." in response.content


# --- /token ----------------------------------------------------------------------------------


@pytest.mark.parametrize("service", ["ngc", "registry"])
def test_token_answers_429_with_retry_after_after_repeated_bad_keys(personas, settings, service):
    settings.THROTTLE_TOKEN_FAILURE_LIMIT = 3
    query = "service=ngc" if service == "ngc" else f"service={settings.REGISTRY_SERVICE_NAME}&scope=repository:acme/x:pull"
    key = services.api_key_generate(user=personas.owner)
    client = Client()
    for _ in range(3):
        assert client.get(f"/token?{query}", HTTP_AUTHORIZATION=basic_auth("rk_wrong")).status_code == 401

    refused = client.get(f"/token?{query}", HTTP_AUTHORIZATION=basic_auth("rk_wrong"))
    with_the_right_key = client.get(f"/token?{query}", HTTP_AUTHORIZATION=basic_auth(key))

    for response in (refused, with_the_right_key):
        assert response.status_code == 429
        assert 0 < int(response["Retry-After"]) <= settings.THROTTLE_TOKEN_FAILURE_WINDOW + 1
        body = response.json()
        assert body["requestStatus"]["statusCode"] == "TOO_MANY_REQUESTS"
        assert "throttled" in body["detail"]
    # A made-up X-Forwarded-For does not make a new client (no proxy is configured) ...
    spoofed = Client(HTTP_X_FORWARDED_FOR="203.0.113.9").get(f"/token?{query}", HTTP_AUTHORIZATION=basic_auth(key))
    assert spoofed.status_code == 429
    # ... but another client address is not locked out.
    assert Client(REMOTE_ADDR="10.9.8.7").get(f"/token?{query}", HTTP_AUTHORIZATION=basic_auth(key)).status_code == 200


def test_successful_token_requests_never_count_towards_the_lockout(personas, settings):
    settings.THROTTLE_TOKEN_FAILURE_LIMIT = 2
    key = services.api_key_generate(user=personas.owner)
    client = Client()
    for _ in range(10):
        assert client.get("/token?service=ngc", HTTP_AUTHORIZATION=basic_auth(key)).status_code == 200


def test_token_caps_the_request_rate_per_client_and_credential(personas, settings):
    settings.THROTTLE_TOKEN_RATE = "3/min"
    key = services.api_key_generate(user=personas.owner)
    other_key = services.api_key_generate(user=personas.org_registry_user)
    client = Client()
    for _ in range(3):
        assert client.get("/token?service=ngc", HTTP_AUTHORIZATION=basic_auth(key)).status_code == 200

    response = client.get("/token?service=ngc", HTTP_AUTHORIZATION=basic_auth(key))

    assert response.status_code == 429 and 0 < int(response["Retry-After"]) <= 60
    assert client.get("/token?service=ngc", HTTP_AUTHORIZATION=basic_auth(other_key)).status_code == 200


def test_throttling_fails_open_with_a_log_line_when_its_redis_does_not_answer(personas, settings, caplog):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    settings.CACHES = {**settings.CACHES, "throttle": {**settings.CACHES["throttle"], "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": dead}}
    settings.THROTTLE_TOKEN_FAILURE_LIMIT = 1
    key = services.api_key_generate(user=personas.owner)
    client = Client()

    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="registry_portal.throttling"):
        bad = client.get("/token?service=ngc", HTTP_AUTHORIZATION=basic_auth("rk_wrong"))
        good = client.get("/token?service=ngc", HTTP_AUTHORIZATION=basic_auth(key))
    elapsed = time.monotonic() - started

    assert (bad.status_code, good.status_code) == (401, 200)
    assert elapsed < 6  # a few 1 s timeouts at most, never a hang
    assert "cache unavailable, not throttling" in caplog.text


# --- invitation links ------------------------------------------------------------------------


def invitation_url(cast, email="newcomer@example.test") -> str:
    invitation = services.invitation_create(
        actor=cast.owner, org=cast.acme, email=email, name="New Comer", team=cast.alpha, team_roles=[Role.REGISTRY_USER],
    )
    return reverse("accounts:invitation", args=[services.invitation_link_token(invitation)])


def test_unknown_invitation_links_are_throttled_with_a_429_page(cast, settings):
    settings.THROTTLE_INVITATION_FAILURE_LIMIT = 3
    url = invitation_url(cast)
    client = Client()
    for number in range(3):
        assert client.get(reverse("accounts:invitation", args=[f"{number + 1}-{'a' * 40}"])).status_code == 404

    response = client.get(url)

    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert b"Too many attempts with invitation links" in response.content
    assert Client(REMOTE_ADDR="10.4.4.4").get(url).status_code == 200


def test_invitation_acceptance_attempts_are_rate_limited(cast, settings):
    settings.THROTTLE_INVITATION_RATE = "2/hour"
    url = invitation_url(cast, email="beta-user@example.test")
    client = Client()
    for _ in range(2):
        assert client.post(url, {"password": "wrong"}).status_code == 200

    response = client.post(url, {"password": PASSWORD})

    assert response.status_code == 429 and 0 < int(response["Retry-After"]) <= 3600
    assert client.get(url).status_code == 200  # reading the page is not an attempt


def test_wrong_passwords_on_an_invitation_lock_that_sign_in_out(cast, settings):
    url = invitation_url(cast, email="beta-user@example.test")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert b"Incorrect password." in client.post(url, {"password": "wrong"}).content

    response = client.post(url, {"password": "wrong"})

    assert response.status_code == 429 and b"Too many failed sign-in attempts" in response.content
    assert client.post(SIGNIN, {"email": "beta-user@example.test", "password": PASSWORD}).status_code == 429


# --- without Redis, every worker of the machine counts together ----------------------------------

_FAIL_IN_A_PROCESS = """
import django, sys
django.setup()
from registry_portal.throttling import FailureLockout
lockout = FailureLockout("token", limit=3, window=300)
for _ in range(int(sys.argv[1])):
    lockout.record_failure("203.0.113.7 $oauthtoken")
print("locked" if lockout.retry_after("203.0.113.7 $oauthtoken") else "open")
"""


def test_without_redis_failures_counted_by_one_worker_lock_the_client_out_of_the_others(tmp_path):
    """The embedded default (no REDIS_URL) keeps the throttles' counts in files under
    REGISTRY_VAR_DIR: two gunicorn workers are two processes, and a client must not get the limit
    again from each (with per-process counts the second process answered "open")."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(DJANGO_SETTINGS_MODULE="registry_portal.settings", REGISTRY_VAR_DIR=str(tmp_path))

    def worker(failures: int) -> str:
        done = subprocess.run([sys.executable, "-c", _FAIL_IN_A_PROCESS, str(failures)], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip()

    assert worker(2) == "open"  # one worker saw two failures of three
    assert worker(1) == "locked"  # another saw the third: the client is locked out
    assert worker(0) == "locked"  # and a third process agrees
