"""One lock order (docs/model-transfers.md): the artifact row, then its versions, then blobs. Deleting
a model while one of its versions finalises used to deadlock in PostgreSQL (finalisation locked the
version, then the model; the delete the model, then the versions)."""
import threading
import time

import pytest
from django.db import connection, transaction

from artifacts.versioned import services
from artifacts.versioned.transfers import finalize
from artifacts.versioned.models import ArtifactFile, VersionedArtifact
from tests.artifacts.versioned.test_transfers import make_version
from tests.support.ngc_transfer import DjangoTransport, Uploader

pytestmark = pytest.mark.django_db(transaction=True)

ALPHA = "org/acme/team/alpha"


def in_thread(call, errors: list) -> threading.Thread:
    def run() -> None:
        try:
            call()
        except Exception as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_deleting_a_model_while_its_version_finalises_finishes_without_a_deadlock(personas):
    version = make_version(personas.acme, personas.alpha, "bert", "1.0", personas.alpha_registry_user)
    Uploader(DjangoTransport(personas.alpha_registry_user), ALPHA, "models", "bert", "1.0").upload_all(
        {"a.bin": b"a" * 100, "b.bin": b"b" * 10}
    )
    artifact = VersionedArtifact.objects.get(pk=version.artifact_id)
    errors: list = []
    # Hold one of the version's file rows, so the delete stops after locking the model and the
    # finalisation gets as far as its locks: the interleaving that deadlocked.
    with transaction.atomic():
        ArtifactFile.objects.select_for_update().filter(version=version).order_by("pk").first()
        deleting = in_thread(lambda: services.artifact_delete(actor=personas.org_registry_admin, artifact=artifact), errors)
        time.sleep(0.5)
        finalising = in_thread(lambda: finalize.version_finalize(version.pk), errors)
        time.sleep(0.5)
    deleting.join(30)
    finalising.join(30)

    assert errors == []
    assert not VersionedArtifact.objects.filter(pk=artifact.pk).exists()
