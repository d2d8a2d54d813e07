"""`/v2/org/<org>/gpu-hosts[/<name>]`: members read, org-level Registry Admins manage; values validated."""
import pytest
from rest_framework.test import APIClient

from artifacts.gpu.models import GpuHost

pytestmark = pytest.mark.django_db
HOSTS = "/v2/org/acme/gpu-hosts"
BODY = {"name": "dgx-1", "architecture": "x86_64", "driverVersion": "550.54.15", "cudaVersion": "12.4",
        "gpus": [{"name": "NVIDIA H100 80GB HBM3", "computeCapability": "9.0"}], "labels": ["prod", " prod ", ""]}


def client(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_admin_creates_members_read_others_are_refused(personas):
    admin = client(personas.org_registry_admin)
    response = admin.post(HOSTS, BODY, format="json")
    assert response.status_code == 201, response.content
    host = response.json()["gpuHost"]
    assert host["architecture"] == "amd64" and host["labels"] == ["prod"]
    assert host["gpus"] == [{"name": "NVIDIA H100 80GB HBM3", "computeCapability": "9.0", "brand": "tesla"}]
    assert admin.post(HOSTS, BODY, format="json").status_code == 409
    for reader in (personas.org_registry_read, personas.alpha_registry_user):
        listed = client(reader).get(HOSTS).json()
        assert [h["name"] for h in listed["gpuHosts"]] == ["dgx-1"] and listed["paginationInfo"]["totalResults"] == 1
    assert client(personas.org_registry_user).patch(f"{HOSTS}/dgx-1", {"cudaVersion": "12.6"}, format="json").status_code == 403
    assert client(personas.alpha_registry_admin).delete(f"{HOSTS}/dgx-1").status_code == 403  # team-level admin
    assert client(personas.outsider).get(HOSTS).status_code == 404
    assert client(personas.outsider).get("/v2/org/globex/gpu-hosts").json()["gpuHosts"] == []


def test_patch_put_delete_and_validation(personas):
    admin = client(personas.owner)
    assert admin.put(f"{HOSTS}/arm-1", {"architecture": "aarch64", "cudaVersion": "12.5"}, format="json").status_code == 201
    assert admin.put(f"{HOSTS}/arm-1", {"architecture": "arm64", "driverVersion": "555.42.06"}, format="json").status_code == 200
    host = GpuHost.objects.get(name="arm-1")
    assert (host.architecture, host.driver_version, host.cuda_version) == ("arm64", "555.42.06", "12.5")
    assert admin.patch(f"{HOSTS}/arm-1", {"labels": ["a"]}, format="json").json()["gpuHost"]["labels"] == ["a"]
    for bad in ({"cudaVersion": "twelve"}, {"gpus": "A100"}, {"gpus": [{"computeCapability": "x"}]},
                {"labels": "a"}, {"colour": "green"}, {"architecture": ""}, ["list"]):
        assert admin.patch(f"{HOSTS}/arm-1", bad, format="json").status_code == 400, bad
    assert admin.post(HOSTS, {"name": "bad name!", "architecture": "amd64"}, format="json").status_code == 400
    assert admin.post(HOSTS, {"name": "no-arch"}, format="json").status_code == 400
    assert admin.get(f"{HOSTS}/nope").status_code == 404
    assert admin.delete(f"{HOSTS}/arm-1").status_code == 200
    assert not GpuHost.objects.exists()
