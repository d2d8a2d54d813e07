"""Helm packages with the blobs on S3 (the `s3_server` SeaweedFS): a push stores the package in the
bucket; a .tgz GET answers 307 to a presigned GET that serves the package (Range included); HEAD
is answered by the app."""
import pytest

from tests.helmrepo import charts
from tests.support.helm import Helm
from tests.support.s3_mode import fetch, switch_to_s3

pytestmark = pytest.mark.django_db
PACKAGE_URL = "/helm/acme/alpha/charts/demo-1.0.0.tgz"


def test_a_package_get_redirects_to_the_bucket_and_a_head_is_answered_here(client, personas, settings, s3_server):
    switch_to_s3(settings, s3_server)
    helm = Helm(client, personas.alpha_registry_user)
    data = charts.package("demo", "1.0.0")
    assert helm.push("acme/alpha", data).status_code == 201  # streamed into the bucket, read back, committed there

    response = client.get(PACKAGE_URL, **helm.headers)
    head = client.head(PACKAGE_URL, **helm.headers)

    assert response.status_code == 307 and response["Location"].startswith(f"{s3_server.endpoint_url}/{s3_server.bucket}/")
    served = fetch(response["Location"])
    assert served.status_code == 200 and served.content == data
    assert served.headers["Content-Type"] == "application/gzip"
    assert served.headers["Content-Disposition"] == 'attachment; filename="demo-1.0.0.tgz"'
    assert fetch(response["Location"], Range="bytes=0-1").content == data[:2]
    assert head.status_code == 200 and head["Content-Length"] == str(len(data)) and not head.has_header("Location")
