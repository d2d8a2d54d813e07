"""Images pushed with skopeo to the live server are checked by a real Celery worker (over Redis)
against the org's GPU fleet; a host's new driver updates the verdicts."""
import time

import pytest
from rest_framework.test import APIClient

from artifacts.gpu import services as gpu_services
from artifacts.gpu.models import GpuVerdict
from artifacts.models import Manifest
from tests.clients.oci_layout import Layout
from tests.support.web import client_for, onboard

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]

CUDA_12_2 = ("cuda>=12.2 brand=tesla,driver>=470,driver<471 brand=unknown,driver>=470,driver<471 "
             "brand=geforce,driver>=535,driver<536")


class CudaLayout(Layout):
    def cuda_image(self, *, arch: str, env: list[str], labels: dict | None = None) -> tuple[dict, bytes]:
        payload = {"payload.txt": f"cuda payload for {arch} {env}\n".encode()}
        return self.image(arch=arch, files=payload, env=env, labels=labels or {})


def fleet(personas):
    org, owner = personas.acme, personas.owner
    gpu_services.host_create(actor=owner, org=org, name="old-x86", architecture="x86_64", driver_version="470.256.02",
                             cuda_version="11.4", gpus=[{"name": "NVIDIA GeForce GTX 1080", "computeCapability": "6.1"}])
    gpu_services.host_create(actor=owner, org=org, name="new-x86", architecture="amd64", driver_version="550.54.15",
                             cuda_version="12.4", gpus=[{"name": "NVIDIA A100-SXM4-80GB", "computeCapability": "8.0"}])
    gpu_services.host_create(actor=owner, org=org, name="arm-gh", architecture="aarch64", driver_version="555.42.06",
                             cuda_version="12.5", gpus=[{"name": "NVIDIA GH200 480GB", "computeCapability": "9.0"}])


def verdicts(manifest_digests, *, expected: int, timeout: float = 60, where=None) -> dict:
    """{(digest, host): verdict} once `expected` verdicts (matching `where`) are stored."""
    deadline = time.monotonic() + timeout
    while True:
        rows = list(GpuVerdict.objects.filter(manifest__digest__in=manifest_digests).select_related("host", "manifest"))
        found = {(r.manifest.digest, r.host.name): r for r in rows}
        if len(found) >= expected and (where is None or where(found)):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"only {len(found)} verdicts: {[(k, v.status) for k, v in found.items()]}")
        time.sleep(0.3)


def test_pushed_images_get_verdicts_for_every_host_and_platform(personas, skopeo, celery_worker, tmp_path):  # noqa: F811
    fleet(personas)
    layout = CudaLayout(tmp_path / "layout")
    single, single_bytes = layout.cuda_image(arch="amd64", env=[f"NVIDIA_REQUIRE_CUDA={CUDA_12_2}", "CUDA_VERSION=12.2.2"])
    layout.tag(single, "12.2")
    amd, _ = layout.cuda_image(arch="amd64", env=["CUDA_VERSION=12.4.1", "NVIDIA_DRIVER_CAPABILITIES=compute,utility"])
    arm, _ = layout.cuda_image(arch="arm64", env=["CUDA_VERSION=12.4.1", "NVIDIA_VISIBLE_DEVICES=all"])
    index, _ = layout.index([amd, arm])
    layout.tag(index, "multi")
    plain, _ = layout.image(arch="amd64")
    layout.tag(plain, "plain")

    user = personas.alpha_registry_user
    skopeo(user, "copy", f"oci:{layout.root}:12.2", "docker://REGISTRY/acme/alpha/cuda:12.2")
    skopeo(user, "copy", "--all", f"oci:{layout.root}:multi", "docker://REGISTRY/acme/alpha/cuda:12.4")
    skopeo(user, "copy", f"oci:{layout.root}:plain", "docker://REGISTRY/acme/alpha/plain:1")

    digests = [single["digest"], amd["digest"], arm["digest"], plain["digest"]]
    found = verdicts(digests, expected=12)
    status = {key: v.status for key, v in found.items()}
    s, a, r, p = digests
    assert status == {
        (s, "old-x86"): "incompatible", (s, "new-x86"): "compatible", (s, "arm-gh"): "incompatible",
        (a, "old-x86"): "incompatible", (a, "new-x86"): "compatible", (a, "arm-gh"): "incompatible",
        (r, "old-x86"): "incompatible", (r, "new-x86"): "incompatible", (r, "arm-gh"): "compatible",
        (p, "old-x86"): "unknown", (p, "new-x86"): "unknown", (p, "arm-gh"): "incompatible",  # arch only
    }
    old_single = found[(s, "old-x86")].reasons
    assert any(reason.startswith("cuda:") for reason in old_single) and any(reason.startswith("driver:") for reason in old_single)
    assert [x.split(":")[0] for x in found[(r, "old-x86")].reasons] == ["architecture", "cuda"]
    assert found[(r, "new-x86")].reasons == ["architecture: the image is arm64, the host is amd64"]
    assert found[(a, "new-x86")].requirement == "NVIDIA_REQUIRE_CUDA=cuda>=12.4"
    assert "no GPU requirement" in found[(p, "new-x86")].reasons[0]

    # The REST info response and the Tags page show them; the list filters by host.
    api = APIClient()
    api.force_authenticate(personas.alpha_registry_read)
    info = api.get("/v2/org/acme/team/alpha/repos/cuda/images/12.4").json()
    by = {(v["host"], v["platform"]): v["status"] for v in info["gpuCompatibility"]}
    assert by == {
        ("arm-gh", "linux/amd64"): "INCOMPATIBLE", ("arm-gh", "linux/arm64"): "COMPATIBLE",
        ("new-x86", "linux/amd64"): "COMPATIBLE", ("new-x86", "linux/arm64"): "INCOMPATIBLE",
        ("old-x86", "linux/amd64"): "INCOMPATIBLE", ("old-x86", "linux/arm64"): "INCOMPATIBLE",
    }
    names = lambda response: {r["name"] for r in response.json()["repositories"]}  # noqa: E731
    assert names(api.get("/v2/org/acme/team/alpha/repos?runs_on=arm-gh")) == {"cuda"}
    assert names(api.get("/v2/org/acme/team/alpha/repos?runs_on=old-x86")) == set()
    assert names(api.get("/v2/org/acme/team/alpha/repos")) == {"cuda", "plain"}
    onboard(personas.alpha_registry_read)
    web = client_for(personas.alpha_registry_read, personas.alpha_space)
    page = web.get("/registry/containers/acme/alpha/cuda/-/tags").content.decode()
    assert 'data-host="new-x86" data-platform="linux/amd64" data-status="compatible"' in page
    assert 'data-host="arm-gh" data-platform="linux/arm64" data-status="compatible"' in page
    listed = web.get("/registry/containers?runs_on=arm-gh").content.decode()
    assert "acme/alpha/cuda" in listed and "acme/alpha/plain" not in listed

    # A driver upgrade on the old host (through the REST API, as an org admin) updates its verdicts.
    admin = APIClient()
    admin.force_authenticate(personas.org_registry_admin)
    response = admin.patch("/v2/org/acme/gpu-hosts/old-x86", {"driverVersion": "560.35.03", "cudaVersion": "12.6"}, format="json")
    assert response.status_code == 200, response.content
    found = verdicts(digests, expected=12, where=lambda f: f[(s, "old-x86")].status == "compatible"
                     and f[(a, "old-x86")].status == "compatible")
    assert found[(r, "old-x86")].reasons == ["architecture: the image is arm64, the host is amd64"]
    assert names(api.get("/v2/org/acme/team/alpha/repos?runs_on=old-x86")) == {"cuda"}

    # On demand: the check runs again for a tag (the verdicts stay the same).
    response = api.post("/v2/org/acme/team/alpha/repos/cuda/images/12.2/gpu-check")
    assert response.status_code == 202 and len(response.json()["gpuCompatibility"]) == 3
    assert Manifest.objects.filter(digest=s).exists()
