"""The portal's GPU Hosts pages: org members read, org-level Registry Admins manage, others get 404."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from artifacts.gpu import services
from artifacts.gpu.models import GpuHost
from tests.support.web import client_for

pytestmark = pytest.mark.django_db


def hosts_url(org="acme"):
    return reverse("gpu:hosts", args=[org])


FORM = {
    "name": "dgx-1", "architecture": "x86_64", "variant": "", "os": "linux", "driver_version": "550.54.15",
    "cuda_version": "12.4", "gpus": "NVIDIA H100 80GB HBM3, 9.0\nNVIDIA H100 80GB HBM3, 9.0", "labels": "prod, lab",
}


def test_owner_adds_edits_and_deletes_a_host(cast):
    owner = client_for(cast.owner, cast.acme_space)
    page = owner.get(reverse("gpu:hosts-current"), follow=True)
    assert page.status_code == 200 and page.redirect_chain[-1][0] == hosts_url()
    html = page.content.decode()
    assert "ngc gpuhost report --query-file" in html and "--smi-file" in html and "Add GPU Host" in html
    assert 'href="/gpu-hosts" aria-current="page">GPU Hosts' in html  # left navigation

    assert owner.get(reverse("gpu:host-add", args=["acme"])).status_code == 200
    response = owner.post(reverse("gpu:host-add", args=["acme"]), FORM)
    assert response.status_code == 302 and response.url == hosts_url()
    host = GpuHost.objects.get(org=cast.acme, name="dgx-1")
    assert host.architecture == "amd64" and host.labels == ["prod", "lab"] and host.created_by == cast.owner
    assert host.gpus[0] == {"name": "NVIDIA H100 80GB HBM3", "computeCapability": "9.0", "brand": "tesla"}

    html = owner.get(hosts_url()).content.decode()
    for text in ("dgx-1", "amd64", "550.54.15", "12.4", "NVIDIA H100 80GB HBM3", "CC 9.0", "prod", "Edit", "Delete"):
        assert text in html, text
    assert "Added GPU host dgx-1" in html

    edit_url = reverse("gpu:host-edit", args=["acme", "dgx-1"])
    form = owner.get(edit_url).content.decode()
    assert 'value="550.54.15"' in form and "NVIDIA H100 80GB HBM3, 9.0, tesla" in form
    changed = {**FORM, "name": "ignored", "driver_version": "560.35.03", "cuda_version": "12.6", "gpus": "", "labels": ""}
    assert owner.post(edit_url, changed).status_code == 302
    host.refresh_from_db()
    assert (host.name, host.driver_version, host.cuda_version, host.gpus, host.labels) == ("dgx-1", "560.35.03", "12.6", [], [])

    delete_url = reverse("gpu:host-delete", args=["acme", "dgx-1"])
    confirm = owner.get(delete_url).content.decode()
    assert "Delete the GPU host <strong><code>dgx-1</code></strong>" in confirm
    assert GpuHost.objects.filter(pk=host.pk).exists()
    assert owner.post(delete_url).status_code == 302
    assert not GpuHost.objects.exists()


def test_duplicate_and_bad_driver_version_are_form_errors(cast):
    owner = client_for(cast.owner, cast.acme_space)
    add_url = reverse("gpu:host-add", args=["acme"])
    response = owner.post(add_url, {**FORM, "driver_version": "five-fifty"})
    assert response.status_code == 200
    assert response.context["form"].errors["driver_version"] == ["driver_version 'five-fifty' is not a version."]
    assert "is not a version" in response.content.decode()
    assert not GpuHost.objects.exists()
    assert owner.post(add_url, FORM).status_code == 302
    again = owner.post(add_url, FORM)
    assert again.status_code == 200 and "already exists" in str(again.context["form"].errors["name"])
    bad_name = owner.post(add_url, {**FORM, "name": "bad name!"})
    assert bad_name.status_code == 200 and "name" in bad_name.context["form"].errors
    edit = owner.post(reverse("gpu:host-edit", args=["acme", "dgx-1"]), {**FORM, "cuda_version": "twelve"})
    assert edit.status_code == 200 and "cuda_version" in edit.context["form"].errors
    assert GpuHost.objects.get().cuda_version == "12.4"


def test_registry_read_member_sees_the_list_without_controls_and_is_refused(cast):
    services.host_create(actor=cast.owner, org=cast.acme, name="dgx-1", architecture="amd64", driver_version="550.54.15")
    before = list(GpuHost.objects.values())
    for reader in (cast.org_registry_read, cast.org_registry_user, cast.alpha_registry_admin):
        client = client_for(reader, cast.acme_space)
        page = client.get(hosts_url())
        html = page.content.decode()
        assert page.status_code == 200 and "dgx-1" in html, reader
        assert "Add GPU Host" not in html and "/gpu-hosts/dgx-1/edit" not in html and "/gpu-hosts/dgx-1/delete" not in html
        for url in (reverse("gpu:host-add", args=["acme"]), reverse("gpu:host-edit", args=["acme", "dgx-1"]),
                    reverse("gpu:host-delete", args=["acme", "dgx-1"])):
            assert client.get(url).status_code == 403, url
            assert client.post(url, {**FORM, "name": "new-1", "driver_version": "1.0"}).status_code == 403, url
    assert list(GpuHost.objects.values()) == before
    admin = client_for(cast.org_registry_admin, cast.acme_space).get(hosts_url()).content.decode()
    assert "Add GPU Host" in admin and "/gpu-hosts/dgx-1/edit" in admin


def test_other_orgs_users_get_404(cast):
    services.host_create(actor=cast.owner, org=cast.acme, name="dgx-1", architecture="amd64")
    outsider = client_for(cast.outsider, cast.globex_space)
    for url in (hosts_url(), reverse("gpu:host-add", args=["acme"]), reverse("gpu:host-edit", args=["acme", "dgx-1"]),
                reverse("gpu:host-delete", args=["acme", "dgx-1"])):
        assert outsider.get(url).status_code == 404, url
        assert outsider.post(url, FORM).status_code == 404, url
    assert GpuHost.objects.count() == 1
    own = outsider.get(reverse("gpu:hosts-current"), follow=True)
    assert own.redirect_chain[-1][0] == hosts_url("globex") and "dgx-1" not in own.content.decode()
    assert client_for(cast.owner, cast.acme_space).get(reverse("gpu:host-edit", args=["acme", "nope"])).status_code == 404


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(hosts_url()).status_code == 200
    return len(captured)


def test_list_queries_do_not_grow_with_hosts(cast):
    owner = client_for(cast.owner, cast.acme_space)
    gpus = [{"name": "NVIDIA A100-SXM4-80GB", "computeCapability": "8.0"}]

    def add(start, stop):
        for number in range(start, stop):
            services.host_create(actor=cast.owner, org=cast.acme, name=f"host-{number:02d}", architecture="amd64",
                                 gpus=gpus, labels=["rack-1"])

    add(0, 3)
    few = _list_queries(owner)
    add(3, 30)
    many = _list_queries(owner)
    assert few == many
    assert owner.get(hosts_url()).content.decode().count('<tr data-host="') == 30
