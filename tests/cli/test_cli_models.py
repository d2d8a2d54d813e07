"""`ngc registry model …` against the live server with the real Celery worker: the guide's model
example end to end (4.1, 4.3, 4.5), the three output formats, interrupted transfers that resume
without resending bytes, a forbidden action and a missing model."""
import csv
import io
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from artifacts.versioned.models import ArtifactVersion, VersionedArtifact

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_password_hashing")]

ZEPPELIN = {"name": "ZeppelinTable", "attributes": [{"key": "Robert", "value": "Plant"}, {"key": "Jimmy", "value": "Page"}]}
RHCP = {"name": "RHCPTable", "attributes": [{"key": "Anthony", "value": "Keidis"}, {"key": "Chad", "value": "Smith"}]}


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def make_source(root: Path, files: dict[str, bytes]) -> Path:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


def log_lines(server, start: int = 0) -> tuple[list[str], int]:
    data = server.log_path.read_bytes()
    return data[start:].decode(errors="replace").splitlines(), len(data)


def test_guide_model_example_end_to_end(personas, ngc, key_of, celery_worker, tmp_path):
    key = key_of(personas.owner)
    overview = tmp_path / "overview.md"
    overview.write_text("# Final Review Model\n")
    metrics = []
    for table in (ZEPPELIN, RHCP):
        metrics += ["--metrics-file", str(tmp_path / f"{table['name']}.json")]
        (tmp_path / f"{table['name']}.json").write_text(json.dumps(table))
    created = ngc(
        "registry", "model", "create", "--application", "OBJECT_DETECTION", "--format", "cpkt",
        "--framework", "TensorFlow", "--precision", "FP16", "--short-desc", "A model for object detection using TensorFlow",
        "--built-by", "My Name", "--display-name", "Final Review Model", "--label", "fast", "--label", "sparkly",
        "--owner-name", "MyTeam", "--overview-filename", str(overview), "--publisher", "NVIDIA MyTeam",
        "--public-dataset-license", "MIT", "--public-dataset-link", "www.example.com",
        "--public-dataset-name", "200_10x200_images", "acme/alpha/final_review_model", key=key,
    )
    assert created.returncode == 0, created.stderr
    assert "Successfully created model" in created.stdout and "Final Review Model" in created.stdout
    model = VersionedArtifact.objects.get(name="final_review_model")
    assert model.labels == ["fast", "sparkly"] and model.model_format == "cpkt" and model.public_dataset_name == "200_10x200_images"
    assert model.description == "# Final Review Model\n" and model.team.name == "alpha"

    files = {
        "README.md": b"# weights\n", "weights/model.ckpt": os.urandom(200_003), "weights/shards/a/b.bin": os.urandom(70_000),
        "config/empty.txt": b"", "labels with spaces/classes (v1).txt": "üñí\n".encode(), "dup/copy.ckpt": b"# weights\n",
    }
    source = make_source(tmp_path / "src", files)
    uploaded = ngc(
        "registry", "model", "upload-version", "--accuracy-reached", "96.5", "--batch-size", "2000", "--gpu-model", "V100",
        "--memory-footprint", "4GB", "--num-epochs", "100", "--desc", "A new and exciting version: 1",
        "--link", "www.example.com/model/v1", "--link-type", "Other", "--owner-name", "My Name", *metrics,
        "--source", str(source), "acme/alpha/final_review_model:1", key=key,
    )
    assert uploaded.returncode == 0, uploaded.stderr
    assert "Transfer id: final_review_model[version=1] Upload status: Completed." in uploaded.stdout
    assert "Total files uploaded: 5" in uploaded.stdout  # README.md and dup/copy.ckpt are the same bytes
    version = ArtifactVersion.objects.get(artifact=model, version="1")
    assert version.status == "UPLOAD_COMPLETE" and version.total_file_count == 6
    assert [t["name"] for t in version.custom_metrics] == ["ZeppelinTable", "RHCPTable"]
    assert version.link_type == "Other" and version.gpu_model == "V100"

    info = ngc("registry", "model", "info", "acme/alpha/final_review_model:1", key=key)
    assert info.returncode == 0 and "UPLOAD_COMPLETE" in info.stdout and "ZeppelinTable" in info.stdout
    listing = ngc("registry", "model", "list", "acme/*", key=key)
    assert "acme/alpha/final_review_model" in listing.stdout
    versions = ngc("registry", "model", "list", "acme/alpha/final_review_model:*", "--format_type", "json", key=key)
    assert [v["versionId"] for v in json.loads(versions.stdout)] == ["1"]
    as_csv = ngc("registry", "model", "list", "*final*", "--format_type", "csv", key=key)
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert rows[0][:3] == ["Name", "Repository", "Latest Version"] and rows[1][1:3] == ["acme/alpha/final_review_model", "1"]

    updated = ngc("registry", "model", "update", "--accuracy-reached", "97.5", "--memory-footprint", "16GB",
                  "acme/alpha/final_review_model:1", key=key)
    assert updated.returncode == 0, updated.stderr
    overview.write_text("# Updated overview\n")
    assert ngc("registry", "model", "update", "--overview-filename", str(overview), "acme/alpha/final_review_model",
               key=key).returncode == 0
    version.refresh_from_db()
    model.refresh_from_db()
    assert version.memory_footprint == "16GB" and version.accuracy_reached == "97.5"
    assert model.description == "# Updated overview\n"

    dest = tmp_path / "dl"
    down = ngc("registry", "model", "download-version", "acme/alpha/final_review_model:1", "--dest", str(dest), key=key)
    assert down.returncode == 0, down.stderr
    assert tree(dest / "final_review_model_v1") == files
    assert "Download status: Completed." in down.stdout

    refused = ngc("registry", "model", "remove", "acme/alpha/final_review_model", key=key, stdin="n\n")
    assert "Are you sure you would like to remove acme/alpha/final_review_model? [y/n]" in refused.stdout
    assert VersionedArtifact.objects.filter(pk=model.pk).exists()
    removed = ngc("registry", "model", "remove", "-y", "acme/alpha/final_review_model:1", key=key)
    assert removed.returncode == 0 and not ArtifactVersion.objects.filter(pk=version.pk).exists()
    assert ngc("registry", "model", "remove", "-y", "acme/alpha/final_review_model", key=key).returncode == 0
    assert not VersionedArtifact.objects.filter(pk=model.pk).exists()


def test_forbidden_and_missing(personas, ngc, key_of, live_server_https, tmp_path):
    reader = key_of(personas.org_registry_read)
    denied = ngc("registry", "model", "create", "--short-desc", "x", "acme/not_allowed", key=reader)
    assert denied.returncode != 0 and denied.stdout == ""
    assert len(denied.stderr.strip().splitlines()) == 1 and "Forbidden" in denied.stderr
    missing = ngc("registry", "model", "info", "acme/no_such_model", key=reader)
    assert missing.returncode != 0 and len(missing.stderr.strip().splitlines()) == 1
    assert "no_such_model" in missing.stderr
    gone = ngc("registry", "model", "download-version", "acme/no_such_model:1", "--dest", str(tmp_path), key=reader)
    assert gone.returncode != 0 and len(gone.stderr.strip().splitlines()) == 1


def _run_until(ngc, args, key, stop_when, timeout=60):
    """Start the CLI, SIGKILL it as soon as stop_when() holds; whether it was killed."""
    command = [str(Path(__import__("sys").executable).with_name("ngc")), *args]
    process = subprocess.Popen(command, env=ngc.env(key), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if stop_when():
                process.send_signal(signal.SIGKILL)
                process.wait()
                return True
            time.sleep(0.005)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    return False


PART_PUT = re.compile(r'"PUT /v2/transfers/uploads/([0-9a-f-]+)/parts/(\d+)\S* HTTP/[\d.]+" (\d+)')
FILE_GET = re.compile(r'"GET /v2/transfers/files/(\d+)\S* HTTP/[\d.]+" (\d+) (\d+|-)')


def test_interrupted_upload_and_download_resume(personas, ngc, key_of, live_server_https, celery_worker, tmp_path):
    key = key_of(personas.owner)
    assert ngc("registry", "model", "create", "--short-desc", "big", "acme/big", key=key).returncode == 0
    files = {f"shard-{n}.bin": os.urandom(6 * 1024 * 1024 + n) for n in range(5)}
    source = make_source(tmp_path / "big", files)
    args = ["registry", "model", "upload-version", "acme/big:1", "--source", str(source), "--threads", "1",
            "--part-size", str(512 * 1024)]
    _, offset = log_lines(live_server_https)

    def one_file_done():
        lines, _ = log_lines(live_server_https, offset)
        return any('"PUT /v2/org/acme/files/multipart' in line for line in lines)

    killed = _run_until(ngc, args, key, one_file_done)
    first, middle = log_lines(live_server_https, offset)
    first_parts = [(m[1], m[2]) for m in map(PART_PUT.search, first) if m and m[3] == "200"]
    assert killed and first_parts
    caches = list((ngc.home / ".ngc" / "transfer-caches").glob("*.json"))
    assert len(caches) == 1

    again = ngc(*args, key=key)
    assert again.returncode == 0, again.stderr
    second, _ = log_lines(live_server_https, middle)
    second_parts = [(m[1], m[2]) for m in map(PART_PUT.search, second) if m and m[3] == "200"]
    # no part the server had received is sent again, and every part arrives exactly once overall
    assert not set(first_parts) & set(second_parts)
    assert len(set(first_parts + second_parts)) == len(first_parts) + len(second_parts)
    parts_per_file = [-(-len(data) // (512 * 1024)) for data in files.values()]
    assert len(first_parts) + len(second_parts) == sum(parts_per_file)
    assert "Upload status: Completed." in again.stdout
    assert not list((ngc.home / ".ngc" / "transfer-caches").glob("*.json"))
    assert ArtifactVersion.objects.get(artifact__name="big", version="1").status == "UPLOAD_COMPLETE"

    # download: kill once one file is complete, then resume
    dest = tmp_path / "dl"
    folder = dest / "big_v1"
    _, offset = log_lines(live_server_https)

    def one_file_written():
        return any(p.stat().st_size == len(files[p.name]) for p in folder.glob("*.bin")) if folder.exists() else False

    down = ["registry", "model", "download-version", "acme/big:1", "--dest", str(dest), "--threads", "1"]
    killed = _run_until(ngc, down, key, one_file_written)
    assert killed
    on_disk = sum(p.stat().st_size for p in folder.glob("*.bin"))
    complete_before = {p.name for p in folder.glob("*.bin") if p.stat().st_size == len(files[p.name])}
    assert complete_before
    _, middle = log_lines(live_server_https)
    resumed = ngc(*down, key=key)
    assert resumed.returncode == 0, resumed.stderr
    assert tree(folder) == files
    second, _ = log_lines(live_server_https, middle)
    sent = sum(int(m[3]) for m in map(FILE_GET.search, second) if m and m[3] != "-")
    assert sent == sum(map(len, files.values())) - on_disk  # only the missing bytes travelled again
    assert f"Total files downloaded: {len(files) - len(complete_before)}" in resumed.stdout
