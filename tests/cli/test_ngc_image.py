"""`ngc registry image` against the live server: push an OCI layout, list/info/update, pull byte for byte, remove."""
import csv
import io
import json

import pytest

from tests.clients.oci_layout import Layout

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]


def test_image_life(personas, ngc, key_of, tmp_path):
    key = key_of(personas.alpha_registry_admin)
    layout = Layout(tmp_path / "layout")
    descriptor, manifest = layout.image(files={"app.txt": b"hello from the ngc cli\n"})
    layout.tag(descriptor, "1.0")

    pushed = ngc("registry", "image", "push", "acme/alpha/tools:1.0", "--source", str(layout.root), key=key)
    assert pushed.returncode == 0, pushed.stderr
    assert descriptor["digest"] in pushed.stdout

    # wildcard listing (search) and tag listing
    listed = ngc("registry", "image", "list", "*tool*", "--format_type", "csv", key=key, env_extra={"NGC_CLI_TEAM": "alpha"})
    assert listed.returncode == 0, listed.stderr
    rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert [r["Repository"] for r in rows] == ["acme/alpha/tools"] and rows[0]["Latest Tag"] == "1.0"
    tags = ngc("registry", "image", "list", "acme/alpha/tools:*", key=key)
    assert tags.returncode == 0 and tags.stdout.startswith("+--") and "| 1.0 " in tags.stdout
    assert descriptor["digest"] in tags.stdout

    readme = tmp_path / "overview.md"
    readme.write_text("# Tools\n\nBuilt by the CLI test.\n")
    updated = ngc("registry", "image", "update", "acme/alpha/tools", "--desc", "Handy tools", "--overview", str(readme),
                  "--label", "cli", "--label", "tools", "--publisher", "Acme", "--built-by", "Alpha", key=key)
    assert updated.returncode == 0, updated.stderr
    info = json.loads(ngc("registry", "image", "info", "acme/alpha/tools", "--format_type", "json", key=key).stdout)
    assert info["shortDescription"] == "Handy tools" and info["description"].startswith("# Tools")
    assert sorted(info["labels"]) == ["cli", "tools"] and info["publisher"] == "Acme" and info["builtBy"] == "Alpha"
    tag_info = ngc("registry", "image", "info", "acme/alpha/tools:1.0", key=key)
    assert " Image Information" in tag_info.stdout and " Name: acme/alpha/tools:1.0" in tag_info.stdout
    assert " Architecture: amd64" in tag_info.stdout

    dest = tmp_path / "pulled"
    pulled = ngc("registry", "image", "pull", "acme/alpha/tools:1.0", "--dest", str(dest), key=key)
    assert pulled.returncode == 0, pulled.stderr
    copy = Layout(dest)
    assert copy.blob_bytes(descriptor["digest"]) == manifest
    body = json.loads(manifest)
    for blob in [body["config"], *body["layers"]]:
        assert copy.blob_bytes(blob["digest"]) == layout.blob_bytes(blob["digest"])
    index = json.loads((dest / "index.json").read_text())
    assert index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "1.0"
    archive = tmp_path / "image.tar"
    assert ngc("registry", "image", "pull", "acme/alpha/tools:1.0", "--dest", str(archive), key=key).returncode == 0
    again = ngc("registry", "image", "push", "acme/alpha/tools:copy", "--source", str(archive), key=key)
    assert again.returncode == 0 and "0 blobs uploaded" in again.stdout

    kept = ngc("registry", "image", "remove", "acme/alpha/tools", key=key, stdin="n\n")
    assert "Are you sure you would like to remove acme/alpha/tools? [y/n]" in kept.stdout
    removed = ngc("registry", "image", "remove", "acme/alpha/tools", "-y", key=key)
    assert removed.returncode == 0, removed.stderr
    gone = ngc("registry", "image", "info", "acme/alpha/tools", key=key)
    assert gone.returncode != 0 and "acme/alpha/tools" in gone.stderr and len(gone.stderr.strip().splitlines()) == 1
    missing = ngc("registry", "image", "pull", "acme/alpha/nothing:1.0", "--dest", str(tmp_path / "x"), key=key)
    assert missing.returncode != 0 and "acme/alpha/nothing:1.0" in missing.stderr and "Traceback" not in missing.stderr
