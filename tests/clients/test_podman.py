"""podman (daemonless, as root, vfs storage in a temp dir) against the HTTPS live server: login with
`$oauthtoken` + API key, pull what skopeo pushed, push to another repository, load an OCI archive and
push it, pull back by digest, and a refused push for a user of another team. No public registry.
Loading, pushing and pulling back also runs with the server's blobs in an S3 bucket."""
import json
import os
import shutil
import subprocess
import tarfile
import tempfile

import pytest

from accounts import services as account_services
from artifacts.models import Repository, Tag
from tests.clients.oci_layout import Layout
from tests.support.blob_home import log_mark, requests_since, tagged_blobs

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]
PODMAN = shutil.which("podman")
SKOPEO = shutil.which("skopeo")


class Podman:
    """podman with its own storage, auth file and CA directory; REGISTRY in arguments is the live host."""

    def __init__(self, host: str, tmp_path, cert_dir, runroot: str):
        self.host, self.cert_dir = host, str(cert_dir)
        self.globals = [
            "--storage-driver", "vfs", "--root", str(tmp_path / "root"), "--runroot", runroot,
            "--cgroup-manager", "cgroupfs", "--events-backend", "none",
        ]
        self.env = {**os.environ, "REGISTRY_AUTH_FILE": str(tmp_path / "auth.json"), "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}

    def __call__(self, *args, check=True, input=None):
        args = [a.replace("REGISTRY", self.host) for a in args]
        if args[0] in ("login", "pull", "push"):
            args[1:1] = ["--cert-dir", self.cert_dir]
        result = subprocess.run([PODMAN, *self.globals, *args], env=self.env, capture_output=True, text=True, timeout=120, input=input)
        if check and result.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} failed:\n{result.stderr}")
        return result

    def login(self, user) -> None:
        key = account_services.api_key_generate(user=user)
        self("login", "--username", "$oauthtoken", "--password-stdin", self.host, input=key)

    def digest(self, image: str) -> str:
        return self("image", "inspect", "--format", "{{.Digest}}", image).stdout.strip()

    def image_id(self, image: str) -> str:
        return "sha256:" + self("image", "inspect", "--format", "{{.Id}}", image).stdout.strip()


@pytest.fixture
def cert_dir(registry_server, tmp_path):
    path = tmp_path / "certs"
    path.mkdir()
    shutil.copy(registry_server.ca_bundle, path / "ca.crt")
    return path


@pytest.fixture
def podman(registry_server, tmp_path, cert_dir):
    if PODMAN is None:
        pytest.fail("podman is not installed (apt-get install podman)")
    runroot = tempfile.mkdtemp(prefix="podman-run-")  # podman refuses a runroot longer than 50 characters
    yield Podman(registry_server.url.split("://", 1)[1], tmp_path / "podman", cert_dir, runroot)
    shutil.rmtree(runroot, ignore_errors=True)


@pytest.fixture
def image(tmp_path):
    """A one-layer OCI image: its layout, manifest and config digests, and an oci-archive of it.
    Its bytes are the test's own (a bucket outlives a test)."""
    layout = Layout(tmp_path / "layout")
    descriptor, manifest = layout.image(
        arch="amd64", files={"podman.txt": b"pushed and pulled by podman\n", "nonce": os.urandom(16)},
    )
    layout.tag(descriptor, "1.0")
    layout.manifest_digest = descriptor["digest"]
    layout.config_digest = json.loads(manifest)["config"]["digest"]
    layout.archive = tmp_path / "image.tar"
    with tarfile.open(layout.archive, "w") as tar:
        for path in sorted(layout.root.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(layout.root)), recursive=False)
    return layout


def _tagged(name: str, tag: str) -> str:
    return Tag.objects.select_related("manifest").get(repository__name=name, name=tag).manifest.digest


def test_podman_pulls_what_skopeo_pushed_and_pushes_it_to_another_repository(personas, podman, image, cert_dir, tmp_path):
    user = personas.alpha_registry_user
    if SKOPEO is None:
        pytest.fail("skopeo is not installed (apt-get install skopeo)")
    key = account_services.api_key_generate(user=user)
    subprocess.run(
        [SKOPEO, "--insecure-policy", "copy", "--dest-cert-dir", str(cert_dir), "--dest-creds", f"$oauthtoken:{key}",
         f"oci:{image.root}:1.0", f"docker://{podman.host}/acme/alpha/app:1.0"],
        env={**os.environ, "HOME": str(tmp_path)}, check=True, capture_output=True, timeout=120,
    )
    podman.login(user)
    podman("pull", "REGISTRY/acme/alpha/app:1.0")
    assert podman.digest("REGISTRY/acme/alpha/app:1.0") == image.manifest_digest
    assert podman.image_id("REGISTRY/acme/alpha/app:1.0") == image.config_digest

    digest_file = tmp_path / "pushed.digest"
    podman("tag", "REGISTRY/acme/alpha/app:1.0", "REGISTRY/acme/alpha/copy:2.0")
    podman("push", "--digestfile", str(digest_file), "REGISTRY/acme/alpha/copy:2.0")
    pushed = digest_file.read_text().strip()
    assert _tagged("acme/alpha/copy", "2.0") == pushed

    podman("rmi", "--all", "--force")
    podman("pull", f"REGISTRY/acme/alpha/copy@{pushed}")
    assert podman.digest(f"REGISTRY/acme/alpha/copy@{pushed}") == pushed
    assert podman.image_id(f"REGISTRY/acme/alpha/copy@{pushed}") == image.config_digest


@pytest.mark.parametrize("blob_storage", ["local", "s3"])
def test_podman_loads_an_oci_archive_pushes_it_and_pulls_it_back(personas, podman, image, tmp_path, registry_server, blob_home):
    podman.login(personas.alpha_registry_user)
    podman("load", "--input", str(image.archive))
    podman("tag", image.config_digest.split(":", 1)[1], "REGISTRY/acme/alpha/loaded:1.0")
    digest_file = tmp_path / "pushed.digest"
    podman("push", "--digestfile", str(digest_file), "REGISTRY/acme/alpha/loaded:1.0")
    pushed = digest_file.read_text().strip()
    assert _tagged("acme/alpha/loaded", "1.0") == pushed

    blob_home.assert_holds(tagged_blobs("acme/alpha/loaded", "1.0"))

    podman("rmi", "--all", "--force")
    mark = log_mark(registry_server.log_path)
    podman("pull", "REGISTRY/acme/alpha/loaded:1.0")
    blob_home.assert_downloads_served(requests_since(registry_server.log_path, mark), r"/blobs/sha256:")
    assert podman.digest("REGISTRY/acme/alpha/loaded:1.0") == pushed
    assert podman.image_id("REGISTRY/acme/alpha/loaded:1.0") == image.config_digest


def test_podman_push_is_refused_for_a_user_of_another_team(personas, podman, image):
    podman.login(personas.beta_user)
    podman("load", "--input", str(image.archive))
    podman("tag", image.config_digest.split(":", 1)[1], "REGISTRY/acme/alpha/app:1.0")
    result = podman("push", "REGISTRY/acme/alpha/app:1.0", check=False)
    assert result.returncode != 0
    assert any(word in result.stderr.lower() for word in ("denied", "unauthorized", "403")), result.stderr
    assert not Repository.objects.filter(name="acme/alpha/app").exists()
