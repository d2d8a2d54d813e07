"""helmrepo.services: pushing validates the whole package before storing anything; latest by SemVer."""
import os

import pytest

from registry_portal.errors import AccessDenied, Conflict, InvalidInput, NotFound
from artifacts.models import Blob
from helmrepo import services
from helmrepo.models import Chart, ChartVersion
from tests.helmrepo import charts

pytestmark = pytest.mark.django_db


def push(user, space, data: bytes, **kwargs):
    return services.chart_version_push(actor=user, space=space, chunks=[data[:100], data[100:]], **kwargs)


def stored_files(root) -> list[str]:
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs) if root.exists() else []


def test_a_push_creates_the_chart_and_the_version_from_chart_yaml(personas, settings):
    data = charts.package("demo", "1.2.3", dependencies=[{"name": "redis", "version": "17.x"}], keywords=["web"])
    row = push(personas.alpha_registry_user, personas.alpha_space, data)
    chart = Chart.objects.get(org=personas.acme, team=personas.alpha, name="demo")
    assert chart.short_description == "A Helm chart for demo"
    assert chart.latest_version == row and chart.created_by == personas.alpha_registry_user
    assert (row.version, row.app_version, row.api_version) == ("1.2.3", "1.16.0", "v2")
    assert row.dependencies == [{"name": "redis", "version": "17.x"}]
    assert row.chart_metadata == {"type": "application", "keywords": ["web"]}
    assert {"path": "demo/values.yaml", "size": 43} in row.files
    assert row.digest == charts.sha256_hex(data) and row.size == len(data)
    assert row.package.digest == f"sha256:{row.digest}"
    assert stored_files(settings.BLOB_STORE_ROOT) == [f"blobs/sha256/{row.digest[:2]}/{row.digest}"]


def test_latest_follows_semver_precedence_not_push_order(personas):
    for version in ("1.10.0", "1.2.0", "2.0.0-rc.1", "1.9.9", "2.0.0-beta.2"):
        push(personas.org_registry_user, personas.acme_space, charts.package("demo", version))
    chart = Chart.objects.get(name="demo")
    assert chart.latest_version.version == "2.0.0-rc.1"
    push(personas.org_registry_user, personas.acme_space, charts.package("demo", "2.0.0"))
    chart.refresh_from_db()
    assert chart.latest_version.version == "2.0.0"
    pulled = services.chart_version_for_pull(actor=personas.org_registry_read, space=personas.acme_space, name="demo")
    assert pulled.version == "2.0.0"
    services.chart_version_delete(actor=personas.org_registry_admin, version=pulled)
    chart.refresh_from_db()
    assert chart.latest_version.version == "2.0.0-rc.1"


REFUSALS = {
    "not gzip": (b"this is not a chart", "not a valid gzip-compressed tar archive"),
    "corrupt gzip": (None, "not a valid gzip-compressed tar archive"),
    "absolute path": (charts.package(extra_members=[charts.file_member("/etc/cron.d/x", b"x")]), "absolute path"),
    "dot-dot": (charts.package(extra_members=[charts.file_member("demo/../../x", b"x")]), "'..'"),
    "symlink": (charts.package(extra_members=[charts.special_member("demo/l", b"2", "/etc/passwd")]), "is a link"),
    "hard link": (charts.package(extra_members=[charts.special_member("demo/l", b"1", "demo/values.yaml")]), "is a link"),
    "fifo": (charts.package(extra_members=[charts.special_member("demo/f", b"6")]), "device, fifo"),
    "char device": (charts.package(extra_members=[charts.special_member("demo/c", b"3")]), "device, fifo"),
    "no Chart.yaml": (charts.tar_gz([charts.file_member("demo/values.yaml", b"a: 1\n")]), "'demo/Chart.yaml' is missing"),
    "invalid semver": (charts.package(version="1.0"), "not a valid SemVer 2 version"),
    "leading v": (charts.package(version="v1.0.0"), "not a valid SemVer 2 version"),
    "bad apiVersion": (charts.package(apiVersion="v3"), "apiVersion must be v1 or v2"),
    "gzip bomb (declared size)": (charts.gzip_bomb("demo", unpacked=25 * 1024 * 1024), "unpacks to more than"),
    "gzip bomb (trailing zeros)": (charts.gzip_bomb("demo", unpacked=25 * 1024 * 1024, declared=False), "unpacks to more than"),
    "too large": (os.urandom(1024 * 1024 + 1), "larger than 1048576 bytes"),
}


def _corrupt() -> bytes:
    data = bytearray(charts.package(extra_members=[charts.file_member("demo/big.txt", os.urandom(4000))]))
    data[len(data) // 2] ^= 0xFF
    return bytes(data)


@pytest.mark.parametrize("case", REFUSALS)
def test_a_refused_package_stores_nothing(personas, settings, case):
    data, message = REFUSALS[case]
    data = data if data is not None else _corrupt()
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(")):
        push(personas.owner, personas.acme_space, data)
    assert not Chart.objects.exists() and not ChartVersion.objects.exists() and not Blob.objects.exists()
    assert stored_files(settings.BLOB_STORE_ROOT) == []


def test_a_package_of_another_chart_is_refused_for_a_named_target(personas, settings):
    with pytest.raises(InvalidInput, match="is chart 'demo', not 'other'"):
        push(personas.owner, personas.acme_space, charts.package("demo"), chart_name="other")
    assert not Chart.objects.exists() and stored_files(settings.BLOB_STORE_ROOT) == []


def test_an_existing_version_conflicts_and_only_an_admin_may_force(personas, settings):
    first = push(personas.org_registry_user, personas.acme_space, charts.package("demo", "1.0.0"))
    changed = charts.package("demo", "1.0.0", appVersion="2.0")
    with pytest.raises(Conflict, match="already exists"):
        push(personas.org_registry_user, personas.acme_space, changed)
    with pytest.raises(AccessDenied, match="Registry Admin"):
        push(personas.org_registry_user, personas.acme_space, changed, force=True)
    assert ChartVersion.objects.get().digest == first.digest
    assert Blob.objects.count() == 1 and len(stored_files(settings.BLOB_STORE_ROOT)) == 1
    forced = push(personas.org_registry_admin, personas.acme_space, changed, force=True)
    assert forced.pk == first.pk and forced.app_version == "2.0" and forced.digest == charts.sha256_hex(changed)


def test_personas_without_write_or_sight_are_refused(personas):
    data = charts.package()
    with pytest.raises(AccessDenied):
        push(personas.alpha_registry_read, personas.alpha_space, data)
    with pytest.raises(NotFound):
        push(personas.beta_user, personas.alpha_space, data)
    with pytest.raises(NotFound):
        push(personas.outsider, personas.acme_space, data)
    with pytest.raises(AccessDenied):  # team roles do not reach the org level
        push(personas.alpha_registry_user, personas.acme_space, data)
    assert not Chart.objects.exists()


def test_delete_needs_admin_or_the_creator(personas):
    row = push(personas.alpha_registry_user, personas.alpha_space, charts.package("demo", "1.0.0"))
    other = push(personas.org_registry_admin, personas.alpha_space, charts.package("demo", "1.1.0"))
    with pytest.raises(AccessDenied):
        services.chart_version_delete(actor=personas.alpha_registry_read, version=row)
    services.chart_version_delete(actor=personas.alpha_registry_user, version=row)  # the chart's creator
    services.chart_version_delete(actor=personas.alpha_registry_admin, version=other)
    chart = Chart.objects.get()
    assert chart.latest_version is None and not ChartVersion.objects.exists()
    with pytest.raises(NotFound):
        services.chart_version_for_pull(actor=personas.alpha_registry_read, space=personas.alpha_space, name="demo")


def test_chart_records_need_a_short_description_and_are_unique_per_space(personas):
    with pytest.raises(InvalidInput, match="shortDescription"):
        services.chart_create(actor=personas.owner, space=personas.acme_space, name="demo", short_description=" ")
    chart = services.chart_create(
        actor=personas.owner, space=personas.acme_space, name="demo", short_description="Demo", labels=["a", "a", "b"],
        overview="# Demo", display_name="Demo chart",
    )
    assert chart.labels == ["a", "b"]
    with pytest.raises(Conflict):
        services.chart_create(actor=personas.owner, space=personas.acme_space, name="demo", short_description="Again")
    services.chart_create(actor=personas.owner, space=personas.alpha_space, name="demo", short_description="Team one")
    updated = services.chart_update(actor=personas.org_registry_user, chart=chart, publisher="Acme", short_description="New")
    assert (updated.publisher, updated.short_description) == ("Acme", "New")
    push(personas.owner, personas.acme_space, charts.package("demo", "1.0.0"))
    assert Chart.objects.get(team=None).short_description == "New"  # a push keeps the record's metadata
    with pytest.raises(AccessDenied):
        services.chart_delete(actor=personas.org_registry_user, chart=chart)
    services.chart_delete(actor=personas.owner, chart=chart)
    assert list(Chart.objects.values_list("team__name", flat=True)) == ["alpha"]


def test_garbage_collection_keeps_chart_packages_until_their_version_is_gone(personas, settings):
    from datetime import timedelta

    from artifacts.blobs.gc import blob_collect_garbage

    row = push(personas.owner, personas.acme_space, charts.package("demo", "1.0.0"))
    later = row.created_at + timedelta(days=1)
    assert blob_collect_garbage(grace=timedelta(minutes=1), now=later).blobs_deleted == 0
    assert Blob.objects.filter(pk=row.package_id).exists()
    services.chart_version_delete(actor=personas.owner, version=row)
    assert blob_collect_garbage(grace=timedelta(minutes=1), now=later).blobs_deleted == 1
    assert stored_files(settings.BLOB_STORE_ROOT) == []
