"""Shared fixtures: personas, and real servers (HTTPS gunicorn, Celery worker over Redis, SMTP, S3)."""
import os

import pytest
import redis
from django.conf import settings

from accounts import services as account_services
from tests.support import oidc_provider as oidc_support
from tests.support import s3_server as s3_support
from tests.support import servers
from tests.support.blob_home import BlobHome
from tests.support.auth import api_client_for
from tests.support.ngc_cli import NgcRunner
from tests.support.personas import build_personas
from tests.support.skopeo import skopeo_runner
from tests.support.web import onboard

FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


def pytest_configure(config):
    # Imported any later, the module would come after the Django settings read Redis and the queue.
    if os.environ.get("PYTEST_XDIST_WORKER") and not config.pluginmanager.has_plugin("tests.support.xdist_worker"):
        raise pytest.UsageError(
            "pytest -n shares Redis and the Celery queue between workers: add -p tests.support.xdist_worker "
            "(scripts/test does)"
        )


@pytest.fixture(autouse=True)
def fresh_throttles():
    """Throttle counts live in the cache (this run's Redis database), which no test transaction
    rolls back: each test starts with none, so one test's bad keys never throttle the next one."""
    servers.reset_throttles()


@pytest.fixture
def personas(db):
    return build_personas()


@pytest.fixture
def cast(personas):
    """The personas, past onboarding (the portal's pages open without the "Almost done!" step)."""
    onboard(*personas.users.values())
    return personas


@pytest.fixture
def fast_password_hashing(settings):
    """In-process tests that hash passwords (sign-ins, new accounts) use a fast hasher; the default one is
    deliberately slow. Not for browser sign-ins: the live servers verify with the default hashers only."""
    settings.PASSWORD_HASHERS = [FAST_HASHER]


@pytest.fixture
def api():
    """`api(user)`: a DRF test client authenticated as `user`."""
    return api_client_for


@pytest.fixture(scope="session")
def mailbox():
    box, controller = servers.start_smtp()
    yield box
    controller.stop()


@pytest.fixture(scope="session")
def live_blob_root(tmp_path_factory):
    """The blob store of this run's live server and Celery worker (both must see the same files),
    away from the checkout's var/."""
    return tmp_path_factory.mktemp("blobstore")


@pytest.fixture(scope="session")
def live_server_https(django_db_setup, django_db_blocker, tmp_path_factory, mailbox, live_blob_root):
    """The app under gunicorn over HTTPS (test CA), on the test database. Tests that use it
    must be `django_db(transaction=True)` so the server sees their data."""
    server = servers.start_gunicorn(
        tmp_path_factory.mktemp("gunicorn"),
        env_extra={
            "EMAIL_HOST": mailbox.host,
            "EMAIL_PORT": str(mailbox.port),
            "REGISTRY_BLOB_STORE_ROOT": str(live_blob_root),
        },
    )
    yield server
    servers.stop(server.process)


@pytest.fixture(scope="session")
def celery_worker(live_server_https, tmp_path_factory, mailbox, live_blob_root):
    """A real Celery worker consuming the test Redis; its e-mails go to `mailbox`, links to the live
    server, and it reads the live server's blob store (version finalisation verifies files there)."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    worker = servers.start_celery_worker(
        tmp_path_factory.mktemp("celery"),
        env_extra={
            "EMAIL_HOST": mailbox.host,
            "EMAIL_PORT": str(mailbox.port),
            "REGISTRY_SITE_URL": live_server_https.url,
            "REGISTRY_BLOB_STORE_ROOT": str(live_blob_root),
        },
    )
    yield worker
    servers.stop(worker)


@pytest.fixture(scope="session")
def live_disk_s3(tmp_path_factory):
    """The node's own blob folder in S3 mode (REGISTRY_BLOB_STORE_ROOT of the S3 live server and
    worker): it must stay without blobs, they belong in the bucket."""
    return tmp_path_factory.mktemp("blobstore-s3")


def s3_mode_environment(s3_server, live_disk_s3) -> dict[str, str]:
    """What puts a live process in S3 mode, with its Celery tasks on a queue of its own (the local
    mode's worker must not take them: it would look for the blobs on disk)."""
    return {
        **s3_server.registry_environment(),
        "REGISTRY_BLOB_STORE_ROOT": str(live_disk_s3),
        "CELERY_QUEUE": f"{settings.CELERY_TASK_DEFAULT_QUEUE}_s3",
    }


@pytest.fixture(scope="session")
def live_server_s3(django_db_setup, django_db_blocker, tmp_path_factory, mailbox, s3_server, live_disk_s3):
    """A second gunicorn like `live_server_https`, with its blobs in the `s3_server` bucket."""
    server = servers.start_gunicorn(
        tmp_path_factory.mktemp("gunicorn-s3"),
        env_extra={
            "EMAIL_HOST": mailbox.host,
            "EMAIL_PORT": str(mailbox.port),
            **s3_mode_environment(s3_server, live_disk_s3),
        },
    )
    yield server
    servers.stop(server.process)


@pytest.fixture(scope="session")
def celery_worker_s3(live_server_s3, tmp_path_factory, mailbox, s3_server, live_disk_s3):
    """`celery_worker` for `live_server_s3`: same bucket, its own queue."""
    environment = s3_mode_environment(s3_server, live_disk_s3)
    redis.Redis.from_url(settings.REDIS_URL).delete(environment["CELERY_QUEUE"])
    worker = servers.start_celery_worker(
        tmp_path_factory.mktemp("celery-s3"),
        env_extra={
            "EMAIL_HOST": mailbox.host,
            "EMAIL_PORT": str(mailbox.port),
            "REGISTRY_SITE_URL": live_server_s3.url,
            **environment,
        },
    )
    yield worker
    servers.stop(worker)


@pytest.fixture
def blob_storage():
    """Where the test's live server keeps blobs: "local" files, unless the test parametrizes
    `blob_storage` with "s3" (a client's core scenario runs in both modes)."""
    return "local"


@pytest.fixture
def registry_server(request, blob_storage):
    """The live server of the test's `blob_storage` mode."""
    return request.getfixturevalue({"local": "live_server_https", "s3": "live_server_s3"}[blob_storage])


@pytest.fixture
def registry_worker(request, blob_storage, registry_server):
    """The Celery worker of the test's `blob_storage` mode (it verifies files in that mode's store)."""
    return request.getfixturevalue({"local": "celery_worker", "s3": "celery_worker_s3"}[blob_storage])


@pytest.fixture
def blob_home(request, blob_storage):
    """Where the test's live server keeps blobs, with the checks of tests/support/blob_home.py."""
    if blob_storage == "s3":
        return BlobHome("s3", request.getfixturevalue("live_disk_s3"), request.getfixturevalue("s3_server"))
    return BlobHome("local", request.getfixturevalue("live_blob_root"))


@pytest.fixture
def ngc(live_server_https, tmp_path):
    """`ngc(*args, key=...)`: the `ngc` console script run against the live server."""
    return NgcRunner(live_server_https, tmp_path / "ngc-home")


@pytest.fixture
def skopeo(registry_server, tmp_path):
    """`skopeo(user, *args)`: skopeo as `user` against the live server, with an auth file of the test's own."""
    return skopeo_runner(registry_server, tmp_path)


@pytest.fixture
def key_of():
    """`key_of(user)`: a fresh API key of `user`."""
    return lambda user: account_services.api_key_generate(user=user)


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    """A real OpenID Connect provider (npm's oidc-provider on the machine's Node) for SSO tests."""
    provider = oidc_support.start(tmp_path_factory.mktemp("oidc"))
    yield provider
    servers.stop(provider.process)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A real S3 server (SeaweedFS `weed mini`) with one bucket and one SigV4 identity; started
    the first time a test asks for it."""
    server = s3_support.start(tmp_path_factory.mktemp("s3"))
    yield server
    s3_support.stop(server)
