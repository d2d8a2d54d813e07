"""`ngc gpuhost report`: nvidia-smi's outputs (captured strings) parsed, and the host registered
(then updated) on the live server with --query-file/--smi-file."""
import json

import pytest

from artifacts.gpu.models import GpuHost
from ngc_cli.gpuhost import SmiParseError, host_report, parse_cuda_version, parse_query_gpu

QUERY_A100 = """NVIDIA A100-SXM4-80GB, 550.54.15, 8.0
NVIDIA A100-SXM4-80GB, 550.54.15, 8.0
"""
SMI_A100 = """Tue Mar 12 10:00:00 2024
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |
|-----------------------------------------+------------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |
|   0  NVIDIA A100-SXM4-80GB          On  |   00000000:07:00.0 Off |                    0 |
+-----------------------------------------+------------------------+----------------------+
"""
QUERY_OLD = "NVIDIA GeForce GTX 1080, 470.256.02, 6.1\n"
SMI_OLD = "| NVIDIA-SMI 470.256.02   Driver Version: 470.256.02   CUDA Version: 11.4     |\n"


def test_parses_query_gpu_csv_and_the_cuda_header():
    assert parse_query_gpu(QUERY_A100) == [
        {"name": "NVIDIA A100-SXM4-80GB", "driverVersion": "550.54.15", "computeCapability": "8.0"}] * 2
    assert parse_query_gpu("Tesla T4, with a comma, 535.104.05, 7.5\n")[0]["name"] == "Tesla T4, with a comma"
    assert parse_query_gpu("NVIDIA Foo, 550.1, [N/A]")[0]["computeCapability"] == ""
    assert parse_cuda_version(SMI_A100) == "12.4"
    assert host_report(QUERY_A100, SMI_A100, architecture="x86_64", labels=["dgx"]) == {
        "architecture": "amd64", "os": "linux", "driverVersion": "550.54.15", "cudaVersion": "12.4",
        "gpus": [{"name": "NVIDIA A100-SXM4-80GB", "computeCapability": "8.0"}] * 2, "labels": ["dgx"],
    }
    assert host_report(QUERY_OLD, SMI_OLD, architecture="aarch64")["architecture"] == "arm64"


@pytest.mark.parametrize("query,smi", [
    ("", SMI_A100), ("garbage\n", SMI_A100), ("NVIDIA A100, five, 8.0", SMI_A100), ("NVIDIA A100, 550.1, eight", SMI_A100),
    (QUERY_A100, "no header here"), (QUERY_A100 + QUERY_OLD, SMI_A100), (QUERY_OLD, SMI_A100),
])
def test_odd_outputs_are_refused_with_a_reason(query, smi):
    with pytest.raises(SmiParseError):
        host_report(query, smi, architecture="x86_64")


@pytest.mark.clients
@pytest.mark.django_db(transaction=True)
def test_ngc_gpuhost_report_registers_and_updates_the_host(personas, ngc, key_of, tmp_path):  # noqa: F811
    query, smi = tmp_path / "query.csv", tmp_path / "smi.txt"
    query.write_text(QUERY_OLD)
    smi.write_text(SMI_OLD)
    admin = key_of(personas.org_registry_admin)
    args = ["gpuhost", "report", "--name", "node-7", "--query-file", str(query), "--smi-file", str(smi), "--arch", "x86_64"]
    result = ngc(*args, "--label", "rack-2", key=admin)
    assert result.returncode == 0, result.stderr
    assert "470.256.02" in result.stdout and "11.4" in result.stdout
    host = GpuHost.objects.get(org=personas.acme, name="node-7")
    assert (host.architecture, host.driver_version, host.cuda_version, host.labels) == ("amd64", "470.256.02", "11.4", ["rack-2"])
    assert host.gpus == [{"name": "NVIDIA GeForce GTX 1080", "computeCapability": "6.1", "brand": "geforce"}]

    query.write_text(QUERY_A100)
    smi.write_text(SMI_A100)
    result = ngc(*args, "--format_type", "json", key=admin)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["gpuHost"]["cudaVersion"] == "12.4"
    host.refresh_from_db()
    assert (host.driver_version, host.cuda_version, len(host.gpus)) == ("550.54.15", "12.4", 2)

    listed = ngc("gpuhost", "list", key=key_of(personas.org_registry_read))
    assert listed.returncode == 0 and "node-7" in listed.stdout
    refused = ngc(*args, key=key_of(personas.org_registry_user))
    assert refused.returncode != 0 and "Registry Admin" in refused.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("not nvidia-smi output\n")
    result = ngc("gpuhost", "report", "--query-file", str(bad), "--smi-file", str(smi), key=admin)
    assert result.returncode != 0 and "nvidia-smi" in result.stderr
