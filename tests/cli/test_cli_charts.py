"""`ngc registry chart …` (guide 6.4): create, update, info, push a package built here, list (charts
and `chart:*` versions), pull byte for byte, remove."""
import io
import json
import tarfile

import pytest

from helmrepo.models import Chart, ChartVersion
from tests.helmrepo import charts as chart_packages

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_password_hashing")]


def package(folder, name: str, version: str):
    files = {
        "Chart.yaml": f"apiVersion: v2\nname: {name}\nversion: {version}\ndescription: docs chart\n",
        "values.yaml": "replicaCount: 1\n",
        "templates/deployment.yaml": "kind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
    }
    path = folder / f"{name}-{version}.tgz"
    with tarfile.open(path, "w:gz") as tar:
        for relative, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}/{relative}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_chart_life(personas, ngc, key_of, tmp_path):
    key = key_of(personas.org_registry_admin)
    created = ngc("registry", "chart", "create", "acme/ngcdocstest", "--short-desc", "Doc testing chart", key=key)
    assert created.returncode == 0, created.stderr
    assert "Successfully created chart 'acme/ngcdocstest'." in created.stdout and "Chart Information" in created.stdout
    updated = ngc("registry", "chart", "update", "acme/ngcdocstest", "--publisher", "test account",
                  "--display-name", "Helm Demo Chart", "--built-by", "my team", key=key)
    assert updated.returncode == 0 and "Publisher: test account" in updated.stdout
    first, second = package(tmp_path, "ngcdocstest", "0.1.0"), package(tmp_path, "ngcdocstest", "0.2.0")
    pushed = ngc("registry", "chart", "push", "acme/ngcdocstest:0.1.0", "--source", str(tmp_path), key=key)
    assert pushed.returncode == 0, pushed.stderr
    assert "Successfully pushed chart version 'ngcdocstest:0.1.0'." in pushed.stdout and "UPLOAD_COMPLETE" in pushed.stdout
    assert ngc("registry", "chart", "push", "acme/ngcdocstest:0.2.0", "--source", str(second), key=key).returncode == 0
    wrong = ngc("registry", "chart", "push", "acme/ngcdocstest:0.3.0", "--source", str(second), key=key)
    assert wrong.returncode != 0 and "not ngcdocstest:0.3.0" in wrong.stderr

    versions = ngc("registry", "chart", "list", "acme/ngcdocstest:*", key=key)
    assert versions.returncode == 0, versions.stderr
    assert "| Version | File Count | File Size | Created Date |" in versions.stdout
    assert versions.stdout.index("0.2.0") < versions.stdout.index("0.1.0")
    charts = ngc("registry", "chart", "list", "*docs*", "--format_type", "json", key=key)
    assert [hit["resourceId"] for hit in json.loads(charts.stdout)] == ["acme/ngcdocstest"]
    info = ngc("registry", "chart", "info", "acme/ngcdocstest", key=key)
    assert "Latest Version ID: 0.2.0" in info.stdout and "Built By: my team" in info.stdout

    pulled = ngc("registry", "chart", "pull", "acme/ngcdocstest:0.1.0", "--dest", str(tmp_path / "pull"), key=key)
    assert pulled.returncode == 0, pulled.stderr
    assert (tmp_path / "pull" / "ngcdocstest-0.1.0.tgz").read_bytes() == first.read_bytes()
    latest = ngc("registry", "chart", "pull", "acme/ngcdocstest", "--dest", str(tmp_path / "latest"), key=key)
    assert latest.returncode == 0 and (tmp_path / "latest" / "ngcdocstest-0.2.0.tgz").exists()

    reader = ngc("registry", "chart", "remove", "-y", "acme/ngcdocstest:0.1.0", key=key_of(personas.org_registry_read))
    assert reader.returncode != 0 and len(reader.stderr.strip().splitlines()) == 1
    missing = ngc("registry", "chart", "info", "acme/nope", key=key)
    assert missing.returncode != 0 and "nope" in missing.stderr and len(missing.stderr.strip().splitlines()) == 1
    one = ngc("registry", "chart", "remove", "-y", "acme/ngcdocstest:0.1.0", key=key)
    assert one.returncode == 0 and "Successfully removed chart version 'acme/ngcdocstest:0.1.0'." in one.stdout
    everything = ngc("registry", "chart", "remove", "acme/ngcdocstest", key=key, stdin="y\n")
    assert "Are you sure you would like to remove acme/ngcdocstest? [y/n]" in everything.stdout
    assert "Successfully removed chart 'acme/ngcdocstest'." in everything.stdout
    assert not Chart.objects.filter(name="ngcdocstest").exists()


def test_pushing_an_alias_bomb_fails_at_once_with_the_servers_reason_and_stores_nothing(personas, ngc, key_of, tmp_path):
    key = key_of(personas.org_registry_admin)
    assert ngc("registry", "chart", "create", "acme/bomb", "--short-desc", "Billion laughs", key=key).returncode == 0
    path = tmp_path / "bomb-0.1.0.tgz"
    path.write_bytes(chart_packages.alias_bomb("bomb", "0.1.0"))
    pushed = ngc("registry", "chart", "push", "acme/bomb:0.1.0", "--source", str(path), key=key)
    assert pushed.returncode != 0 and len(pushed.stderr.strip().splitlines()) == 1, pushed.stderr
    assert "Chart.yaml holds more than 10000 values once its aliases are expanded" in pushed.stderr
    assert not ChartVersion.objects.exists()
