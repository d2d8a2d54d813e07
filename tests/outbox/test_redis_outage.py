"""Redis unreachable (the live server's REDIS_URL names a closed port): requests answer at once and
commit everything; background work waits in the outbox and runs once a sweep reaches a broker."""
import hashlib
import json
import time

import pytest
import yaml

from accounts import services as account_services
from artifacts.gpu.tasks import check_manifest
from registry_portal.outbox.models import OutboxState, OutboxTask
from registry_portal.outbox.services import outbox_sweep
from tests.artifacts.versioned.test_transfers import make_version
from tests.helmrepo import charts
from tests.support import servers
from tests.support.ngc_transfer import HttpTransport, Uploader

pytestmark = pytest.mark.django_db(transaction=True)

ALPHA = "org/acme/team/alpha"
FAST = 3.0  # seconds: a request must not wait on the broker (19 s before the outbox)


@pytest.fixture(scope="module")
def redis_down(django_db_setup, django_db_blocker, tmp_path_factory, mailbox, live_blob_root):
    closed = f"redis://127.0.0.1:{servers.free_port()}/0"
    server = servers.start_gunicorn(
        tmp_path_factory.mktemp("gunicorn-redis-down"),
        env_extra={
            "REDIS_URL": closed,
            "EMAIL_HOST": mailbox.host,
            "EMAIL_PORT": str(mailbox.port),
            "REGISTRY_BLOB_STORE_ROOT": str(live_blob_root),
        },
    )
    yield server
    servers.stop(server.process)


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_completing_an_upload_while_redis_is_down_answers_at_once_with_the_version_complete(personas, redis_down):
    http = HttpTransport(redis_down, account_services.api_key_generate(user=personas.alpha_registry_user))
    make_version(personas.acme, personas.alpha, "bert", "1.0", personas.alpha_registry_user)
    Uploader(http, ALPHA, "models", "bert", "1.0").upload_all({"w.bin": b"weights" * 1000, "README.md": b"# bert\n"})

    done, seconds = timed(lambda: http.api("PATCH", f"/v2/{ALPHA}/models/bert/versions/1.0", {"status": "UPLOAD_COMPLETE"}))

    assert done.status == 200, done.content
    assert seconds < FAST
    assert done.json()["modelVersion"]["status"] == "UPLOAD_COMPLETE"
    assert http.api("GET", f"/v2/{ALPHA}/models/bert").json()["model"]["latestVersionIdStr"] == "1.0"
    assert OutboxTask.objects.get(task="artifacts.tasks.finalize_version").state == OutboxState.DONE


def test_an_invitation_while_redis_is_down_answers_at_once_and_is_emailed_once_the_outbox_is_swept(
    personas, redis_down, celery_worker, mailbox
):
    http = HttpTransport(redis_down, account_services.api_key_generate(user=personas.owner))
    body = {"email": "later@example.test", "roles": [{"name": "REGISTRY_USER", "resourceGroups": ["alpha"]}]}

    invited, seconds = timed(lambda: http.api("POST", "/v3/orgs/acme/invitations", body))

    assert invited.status == 200, invited.content
    assert seconds < FAST
    owed = OutboxTask.objects.get(task="accounts.tasks.send_invitation_email")
    assert (owed.state, owed.dispatches) == (OutboxState.PENDING, 0)
    assert not [m for m in mailbox.messages if "later@example.test" in str(m["To"])]

    assert outbox_sweep() >= 1  # this process reaches Redis: the sweep hands the row to the worker
    mailbox.wait_for(to="later@example.test", subject_contains="invited")
    deadline = time.monotonic() + 10
    while owed.state != OutboxState.DONE and time.monotonic() < deadline:
        time.sleep(0.1)
        owed.refresh_from_db()
    assert owed.state == OutboxState.DONE and owed.attempts == 1


def _push_image(http, base: str, name: str, tag: str) -> tuple[object, float]:
    """Push a config blob, a layer and a manifest over the registry protocol; the manifest PUT's
    response and duration."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Env": ["CUDA_VERSION=12.2"]}}).encode()
    layer = b"not really a tar, only bytes" * 100
    descriptors = []
    for data, media_type in ((config, "application/vnd.oci.image.config.v1+json"), (layer, "application/vnd.oci.image.layer.v1.tar+gzip")):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        started = http.post(f"{base}/v2/{name}/blobs/uploads/")
        assert started.status_code == 202, started.text
        put = http.put(f"{base}{started.headers['Location']}", params={"digest": digest}, data=data,
                       headers={"Content-Type": "application/octet-stream"})
        assert put.status_code == 201, put.text
        descriptors.append({"mediaType": media_type, "digest": digest, "size": len(data)})
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptors[0], "layers": descriptors[1:],
    }).encode()
    return timed(lambda: http.put(f"{base}/v2/{name}/manifests/{tag}", data=manifest,
                                  headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"}))


def test_a_manifest_put_while_redis_is_down_is_fast_owes_its_gpu_check_and_the_image_list_answers(personas, redis_down):
    http = redis_down.session()
    http.auth = ("$oauthtoken", account_services.api_key_generate(user=personas.alpha_registry_user))

    pushed, seconds = _push_image(http, redis_down.url, "acme/alpha/cuda-app", "1.0")

    assert pushed.status_code == 201, pushed.text
    assert seconds < FAST
    assert OutboxTask.objects.filter(task=check_manifest.name, state=OutboxState.PENDING).count() == 1
    api = HttpTransport(redis_down, account_services.api_key_generate(user=personas.alpha_registry_user))
    images = api.api("GET", f"/v2/{ALPHA}/repos/cuda-app/images")
    assert images.status == 200, images.content
    assert [image["tag"] for image in images.json()["images"]] == ["1.0"]


def test_a_helm_push_while_redis_is_down_is_stored_once_and_listed_in_the_index(personas, redis_down):
    helm = redis_down.session()
    helm.auth = ("$oauthtoken", account_services.api_key_generate(user=personas.alpha_registry_user))
    package = charts.package("outage", "0.1.0")

    pushed, seconds = timed(lambda: helm.post(f"{redis_down.url}/helm/api/acme/alpha/charts", data=package,
                                              headers={"Content-Type": "application/gzip"}))

    assert pushed.status_code == 201 and pushed.json() == {"saved": True}, pushed.text
    assert seconds < FAST
    index = helm.get(f"{redis_down.url}/helm/acme/alpha/index.yaml")
    assert index.status_code == 200, index.text
    assert [e["version"] for e in yaml.safe_load(index.text)["entries"]["outage"]] == ["0.1.0"]
    again = helm.post(f"{redis_down.url}/helm/api/acme/alpha/charts", data=package, headers={"Content-Type": "application/gzip"})
    assert again.status_code == 409  # stored once, by the first push
    # The index's cache generation could not be bumped: owed, and retried by the sweep.
    assert OutboxTask.objects.filter(task="helmrepo.tasks.bump_index_generation", state=OutboxState.PENDING).exists()
