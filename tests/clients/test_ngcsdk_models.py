"""NVIDIA's own client (`ngcsdk` 4.37.0, unmodified) through a model's and a resource's whole life,
against the live HTTPS server with the real Celery worker (version finalisation runs there).

Each scenario runs in its own subprocess (tests/clients/ngcsdk_models_scenario.py) because the SDK
reads its environment once, at import. Files are small, so the module stays fast; the transfer
rates of big files are measured by bench/transfer_bench.py instead.
"""
import json
import os
import re
from pathlib import Path

import pytest

from accounts import services
from artifacts.versioned.models import ArtifactFile
from tests.support.blob_home import log_mark, requests_since
from tests.support.guide_metrics import RHCP, ZEPPELIN
from tests.support.ngcsdk import run_scenario

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_password_hashing")]

SCRIPT = Path(__file__).with_name("ngcsdk_models_scenario.py")

LABELS = ["fast", "sparkly"]  # guide 4.1


@pytest.fixture
def run_sdk(registry_server, tmp_path):
    def run(scenario: str, **args) -> dict:
        return run_scenario(SCRIPT, scenario, args, server=registry_server, workdir=tmp_path, timeout=240)

    return run


@pytest.fixture
def source(tmp_path) -> Path:
    """A version directory: nested folders, an empty file, binary and text files of a few sizes."""
    root = tmp_path / "source"
    files = {
        "README.md": b"# Final review model\n\nWeights and configs.\n",
        "weights/model.ckpt": os.urandom(300 * 1024 + 7),
        "weights/shards/part-00001-of-00002.bin": os.urandom(64 * 1024),
        "weights/shards/part-00002-of-00002.bin": os.urandom(1),
        "config/empty.txt": b"",
        "config/nested/deep/params.json": json.dumps({"lr": 0.001, "layers": [3, 4, 6, 3]}).encode(),
        "labels with spaces/classes (v1).txt": "person\nbicycle\ncar\nüñí\n".encode(),
    }
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


@pytest.fixture
def guide_files(tmp_path) -> dict:
    """The overview file of guide 4.1 and the two metrics tables of guide 4.3."""
    overview = tmp_path / "overview.md"
    overview.write_text("# Final Review Model\n\nDetects **objects**.\n")
    metrics = []
    for table in (ZEPPELIN, RHCP):
        path = tmp_path / f"{table['name']}.json"
        path.write_text(json.dumps(table))
        metrics.append(str(path))
    return {"overview": str(overview), "metrics": metrics}


def failure(output: dict, server) -> str:
    """What the SDK raised, and the end of the server's log (its tracebacks go there)."""
    return f"{output.get('traceback') or output}\n--- server log ---\n{server.log_path.read_text()[-6000:]}"


def tree(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def uploads_in(log_path: Path, start: int, end: int) -> list[str]:
    """Request lines of the access log between two offsets that carried file bytes or asked to:
    part PUTs to the upload URLs and multipart-upload starts (`POST .../files/multipart`)."""
    with log_path.open("rb") as log:
        log.seek(start)
        lines = log.read(end - start).decode(errors="replace").splitlines()
    requests_seen = [match.group(1) for line in lines if (match := re.search(r'"([A-Z]+ \S+) HTTP/[\d.]+"', line))]
    assert requests_seen, "the access log shows no request of the second upload"
    return [
        request for request in requests_seen
        if request.startswith("POST ") and "/files/multipart" in request
        or request.startswith("PUT ") and "/files/multipart" not in request
    ]


def assert_only_the_first_upload_sent_bytes(result: dict, log_path: Path, source: Path) -> None:
    first = uploads_in(log_path, result["log_before_first_upload"], result["log_before_second_upload"])
    starts = [request for request in first if request.startswith("POST ")]
    assert len(starts) == len(tree(source)) and len(first) == 2 * len(tree(source)), first  # one part each
    sent = uploads_in(log_path, result["log_before_second_upload"], result["log_after_second_upload"])
    assert sent == [], f"the second upload of the same files still uploaded: {sent}"
    assert result["uploaded_again"]["status"] == "Completed"
    assert result["finalised_again"]["status"] == "UPLOAD_COMPLETE"


def test_a_model_lives_its_whole_life_through_nvidias_client(
    run_sdk, personas, celery_worker, live_server_https, source, guide_files, tmp_path
):
    key = services.api_key_generate(user=personas.org_registry_user)
    dest = tmp_path / "download"
    dest.mkdir()

    output = run_sdk(
        "model", key=key, target="acme/final_review_model", source=str(source), dest=str(dest),
        log_path=str(live_server_https.log_path), labels=LABELS, **guide_files,
    )

    assert output["ok"], failure(output, live_server_https)
    result = output["result"]
    created = result["created"]
    assert {field: created.get(field) for field in (
        "name", "orgName", "framework", "modelFormat", "precision", "shortDescription",
        "displayName", "builtBy", "publisher", "description",
    )} == {
        "name": "final_review_model", "orgName": "acme",
        "framework": "TensorFlow", "modelFormat": "ckpt", "precision": "FP16",
        "shortDescription": "A model for object detection using TensorFlow", "displayName": "Final Review Model",
        "builtBy": "My Name", "publisher": "NVIDIA MyTeam", "description": Path(guide_files["overview"]).read_text(),
    }
    # Stored in the web form's spelling ("Object Detection"); the CLI's is accepted on the way in.
    assert created["application"].upper().replace(" ", "_") == "OBJECT_DETECTION"
    assert {"fast", "sparkly"} <= set(re.findall(r"\w+", json.dumps(created.get("labels")))), created.get("labels")
    assert created["publicDatasetUsed"] == {
        "name": "200_10x200_images", "link": "www.example.com", "license": "CC-BY-4.0",
    }

    assert result["uploaded"]["status"] == "Completed"
    assert result["uploaded"]["completed_count"] == len(tree(source))
    assert result["finalised"] == {"status": "UPLOAD_COMPLETE", "polls": 1, "seconds": result["finalised"]["seconds"]}
    assert result["info"]["model"]["latestVersionIdStr"] == "1"
    assert result["info"]["model"]["latestVersionSizeInBytes"] == sum(map(len, tree(source).values()))
    version = result["version_info"]["modelVersion"]
    assert {field: version.get(field) for field in (
        "versionId", "status", "totalFileCount", "totalSizeInBytes", "gpuModel", "batchSize", "numberOfEpochs",
        "accuracyReached", "memoryFootprint", "description",
    )} == {
        "versionId": "1", "status": "UPLOAD_COMPLETE", "totalFileCount": len(tree(source)),
        "totalSizeInBytes": sum(map(len, tree(source).values())), "gpuModel": "V100", "batchSize": 2000,
        "numberOfEpochs": 100, "accuracyReached": 96.5, "memoryFootprint": "4GB",
        "description": "A new and exciting version: 1",
    }
    assert version["otherContents"] == [{"key": "Other", "value": "www.example.com/model/v1"}]
    assert version["customMetrics"] == [ZEPPELIN, RHCP]

    assert [(hit["orgName"], hit.get("teamName"), hit["name"], hit["latestVersionIdStr"]) for hit in result["listed"]] == [
        ("acme", None, "final_review_model", "1"),
    ]
    assert [v["versionId"] for v in result["versions"]] == ["1"]

    downloaded = Path(result["downloaded"]["path"])
    assert downloaded == dest / "final_review_model_v1"
    assert tree(downloaded) == tree(source)

    assert_only_the_first_upload_sent_bytes(result, live_server_https.log_path, source)
    assert result["second_version_info"]["modelVersion"]["status"] == "UPLOAD_COMPLETE"
    assert result["second_version_info"]["modelVersion"]["totalFileCount"] == len(tree(source))
    assert tree(dest / "final_review_model_v2") == tree(source)

    assert [v["versionId"] for v in result["versions_after_version_removal"]] == ["1"]
    assert result["info_after_removal"]["type"] == "ResourceNotFoundException"
    assert result["download_after_removal"]["type"] == "ResourceNotFoundException"


def test_a_resource_in_a_team_space_lives_its_whole_life_through_nvidias_client(
    run_sdk, personas, celery_worker, live_server_https, source, guide_files, tmp_path
):
    key = services.api_key_generate(user=personas.alpha_registry_user)
    dest = tmp_path / "download"
    dest.mkdir()

    output = run_sdk(
        "resource", key=key, team="alpha", target="acme/alpha/training_recipe", source=str(source),
        dest=str(dest), log_path=str(live_server_https.log_path), overview=guide_files["overview"], labels=LABELS,
    )

    assert output["ok"], failure(output, live_server_https)
    result = output["result"]
    created = result["created"]
    assert (created["name"], created["orgName"], created["teamName"]) == ("training_recipe", "acme", "alpha")
    assert (created["trainingFramework"], created["modelFormat"], created["displayName"]) == (
        "PyTorch", "SavedModel", "Training Recipe",
    )
    assert result["uploaded"]["status"] == "Completed"
    assert result["finalised"]["status"] == "UPLOAD_COMPLETE"
    assert result["info"]["recipe"]["latestVersionIdStr"] == "1.0"
    version = result["version_info"]["recipeVersion"]
    assert (version["versionId"], version["status"], version["totalFileCount"], version["gpuModel"]) == (
        "1.0", "UPLOAD_COMPLETE", len(tree(source)), "A100",
    )
    assert [(hit["orgName"], hit.get("teamName"), hit["name"], hit["latestVersionIdStr"]) for hit in result["listed"]] == [
        ("acme", "alpha", "training_recipe", "1.0"),
    ]
    assert [v["versionId"] for v in result["versions"]] == ["1.0"]
    assert tree(Path(result["downloaded"]["path"])) == tree(source)

    assert_only_the_first_upload_sent_bytes(result, live_server_https.log_path, source)
    assert tree(dest / "training_recipe_v2.0") == tree(source)

    assert [v["versionId"] for v in result["versions_after_version_removal"]] == ["1.0"]
    assert result["info_after_removal"]["type"] == "ResourceNotFoundException"


def test_nvidias_client_shows_an_outsider_nothing_of_another_orgs_model(run_sdk, personas, source, tmp_path):
    from artifacts.versioned import services as versioned

    model = versioned.artifact_create(
        actor=personas.owner, space=personas.acme_space, kind="models", name="secret_model",
        application="OTHER", framework="PyTorch", model_format="ONNX", precision="FP16", short_description="not for globex",
    )
    versioned.version_create(actor=personas.owner, artifact=model, version="1")
    key = services.api_key_generate(user=personas.outsider)
    dest = tmp_path / "download"
    dest.mkdir()

    output = run_sdk("outsider", key=key, target="acme/secret_model", source=str(source), dest=str(dest))

    assert output["ok"], output
    result = output["result"]
    for step in ("listed", "info", "download", "upload"):
        assert result[step]["type"] == "ResourceNotFoundException", (step, result[step])
    assert list(model.versions.values_list("version", flat=True)) == ["1"]
    assert not any(dest.iterdir())


@pytest.mark.parametrize(("blob_storage", "rounds"), [("local", 5), ("s3", 1)])
def test_nvidias_client_reads_and_downloads_a_version_right_after_uploading_it_every_time(
    run_sdk, personas, registry_server, registry_worker, blob_home, rounds, tmp_path
):
    """Upload → info → download in one process, `rounds` times over, against the live server and
    the real worker: `upload_version`'s "Completed" means downloadable (it used to show
    latestVersionIdStr None and refuse the download until the worker had finalised). With the
    blobs in an S3 bucket, the SDK's downloads (each a Range GET) are redirected to the
    bucket: the bytes never pass through the app."""
    key = services.api_key_generate(user=personas.org_registry_user)
    mark = log_mark(registry_server.log_path)
    output = run_sdk("read_after_upload", key=key, target="acme/fresh_weights", work=str(tmp_path), rounds=rounds)

    assert output["ok"], failure(output, registry_server)
    done = output["result"]["rounds"]
    assert [(r["uploaded"], r["latest"], r["status"]) for r in done] == [
        ("Completed", str(n), "UPLOAD_COMPLETE") for n in range(1, rounds + 1)
    ]
    for round_ in done:
        assert tree(Path(round_["downloaded"])) == tree(Path(round_["source"]))
    # Each of the SDK's Range GETs goes to the file's URL here; with S3 it follows a 307 to the bucket.
    blob_home.assert_downloads_served(requests_since(registry_server.log_path, mark), r"^/v2/transfers/files/")
    blob_home.assert_holds({f"sha256:{row.sha256}": row.size_bytes for row in ArtifactFile.objects.all()})
