"""Concurrent pushes of images that share blobs (the bench's parallel mounts and manifest PUTs):
each request locks the blob rows it references, so two that lock the same rows in different orders
would deadlock in PostgreSQL and one would be answered 503. Real threads, real connections."""
import json
import random
import threading

import pytest
from django.db import connection, transaction
from django.test import Client

from artifacts.db_conflicts import retry_on_conflict
from artifacts.models import Blob
from tests.support.oci import OCI_MANIFEST, Registry, image_manifest, sha256

pytestmark = pytest.mark.django_db(transaction=True)
SOURCE = "acme/alpha/base"
THREADS, ROUNDS, LAYERS = 8, 4, 8


def test_parallel_mounts_and_manifest_puts_of_images_sharing_blobs_all_succeed(personas):
    user = personas.alpha_registry_user
    targets = [f"acme/alpha/app{i % 4}" for i in range(THREADS)]  # two threads per repository
    scopes = [f"repository:{name}:pull,push" for name in {SOURCE, *targets}]
    setup = Registry(Client(), user, mode="bearer", scopes=scopes)
    config = b'{"architecture":"amd64","os":"linux"}'
    config_digest = setup.push_blob(SOURCE, config)
    layers = [setup.push_blob(SOURCE, f"shared layer {i}".encode()) for i in range(LAYERS)]
    answers: list[int] = []
    failures: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def push(worker: int) -> None:
        client = Registry(Client(), user, mode="bearer", scopes=scopes)
        shuffled = random.Random(worker)
        target = targets[worker]
        try:
            with connection.cursor() as cursor:
                # Plans differ between repositories of different sizes; here, between workers: half
                # read blobs by the digest index, half in heap order (which the mounts' updates reshuffle).
                cursor.execute("SET enable_indexscan = %s; SET enable_bitmapscan = %s" % (("off",) * 2 if worker % 2 else ("on",) * 2))
            start.wait()
            for round_ in range(ROUNDS):
                order = shuffled.sample(layers, 4 + round_ % 4)
                for digest in [config_digest, *order]:  # mounts update the blob rows they lock (rows move in the heap)
                    answers.append(client.request("POST", f"/v2/{target}/blobs/uploads/?mount={digest}&from={SOURCE}").status_code)
                document = image_manifest(config_digest, len(config), [(d, 16) for d in order])
                body = json.dumps(document).encode()
                reference = f"w{worker}-r{round_}" if round_ % 2 else sha256(body)
                answers.append(client.request("PUT", f"/v2/{target}/manifests/{reference}", body, content_type=OCI_MANIFEST).status_code)
        except BaseException as error:  # the test client re-raises what the view raised (a deadlock's OperationalError)
            failures.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=push, args=(i,)) for i in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)

    assert not failures, failures[:3]
    assert set(answers) == {201} and len(answers) == THREADS * sum(6 + r % 4 for r in range(ROUNDS))


def test_a_transaction_postgresql_aborts_for_a_deadlock_is_run_again_and_succeeds():
    first, second = (Blob.objects.create(digest=sha256(f"row {i}".encode()), size=1) for i in range(2))
    both_hold_one = threading.Barrier(2)
    attempts: list[int] = []
    results: list[object] = []

    def lock_in_order(rows) -> int:
        with transaction.atomic():
            attempts.append(rows[0].pk)
            Blob.objects.select_for_update().get(pk=rows[0].pk)
            if len(attempts) <= 2:  # first attempts: each holds one row and wants the other's
                both_hold_one.wait(5)
            Blob.objects.select_for_update().get(pk=rows[1].pk)
            return rows[0].pk

    def run(rows) -> None:
        try:
            results.append(retry_on_conflict(lambda: lock_in_order(rows)))
        except BaseException as error:
            results.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(rows,)) for rows in ((first, second), (second, first))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)

    assert sorted(results, key=str) == sorted([first.pk, second.pk], key=str)  # both committed, no error
    assert len(attempts) == 3  # PostgreSQL aborted one of them once, and it ran again
