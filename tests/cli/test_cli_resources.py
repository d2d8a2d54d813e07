"""`ngc registry resource …` (guide chapter 5): create, upload-version with the version omitted
(auto-increment), info, list, download, remove."""
import json
import os

import pytest

from artifacts.versioned.models import ArtifactVersion, VersionedArtifact

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_password_hashing")]


def test_resource_life_with_auto_increment(personas, ngc, key_of, celery_worker, tmp_path):
    key = key_of(personas.alpha_registry_user)
    notes = tmp_path / "notes.md"
    notes.write_text("v1 notes")
    created = ngc("registry", "resource", "create", "--short-desc", "GNMT scripts", "--release-notes-filename", str(notes),
                  "acme/alpha/cmr_gnmt", key=key)
    assert created.returncode == 0, created.stderr
    source = tmp_path / "src"
    (source / "scripts").mkdir(parents=True)
    (source / "scripts" / "train.py").write_text("print('train')\n")
    (source / "data.bin").write_bytes(os.urandom(50_000))
    first = ngc("registry", "resource", "upload-version", "--source", str(source), "acme/alpha/cmr_gnmt", key=key)
    assert first.returncode == 0, first.stderr
    assert "Transfer id: cmr_gnmt[version=1] Upload status: Completed." in first.stdout
    (source / "scripts" / "eval.py").write_text("print('eval')\n")
    second = ngc("registry", "resource", "upload-version", "--source", str(source), "acme/alpha/cmr_gnmt",
                 "--format_type", "json", key=key)
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout)
    assert summary["transfer_id"] == "cmr_gnmt[version=2]" and summary["total_files_uploaded"] == 1  # the rest dedup
    resource = VersionedArtifact.objects.get(name="cmr_gnmt")
    assert resource.release_notes == "v1 notes"
    assert set(ArtifactVersion.objects.filter(artifact=resource).values_list("version", "status")) == {
        ("1", "UPLOAD_COMPLETE"), ("2", "UPLOAD_COMPLETE")}

    versions = ngc("registry", "resource", "list", "acme/alpha/cmr_gnmt:*", key=key)
    assert versions.returncode == 0 and "| Version" in versions.stdout and "| 2 " in versions.stdout
    info = ngc("registry", "resource", "info", "acme/alpha/cmr_gnmt", "--format_type", "json", key=key)
    assert json.loads(info.stdout)["recipe"]["latestVersionIdStr"] == "2"
    down = ngc("registry", "resource", "download-version", "acme/alpha/cmr_gnmt", "--dest", str(tmp_path / "dl"), key=key)
    assert down.returncode == 0, down.stderr
    assert (tmp_path / "dl" / "cmr_gnmt_v2" / "scripts" / "eval.py").read_text() == "print('eval')\n"
    # another team's member sees nothing
    other = ngc("registry", "resource", "info", "acme/alpha/cmr_gnmt", key=key_of(personas.beta_user))
    assert other.returncode != 0 and len(other.stderr.strip().splitlines()) == 1
    assert ngc("registry", "resource", "remove", "-y", "acme/alpha/cmr_gnmt", key=key).returncode == 0
    assert not VersionedArtifact.objects.filter(name="cmr_gnmt").exists()
