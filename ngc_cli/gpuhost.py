"""What `ngc gpuhost report` reads from `nvidia-smi`, as pure functions (testable without a GPU).

- `nvidia-smi --query-gpu=name,driver_version,compute_cap --format=csv,noheader`: one line per GPU,
  `NVIDIA A100-SXM4-80GB, 550.54.15, 8.0`
- `nvidia-smi` (the default table): its header holds `Driver Version: 550.54.15  CUDA Version: 12.4`
"""
import platform
import re

CUDA_RE = re.compile(r"CUDA Version:\s*([0-9]+(?:\.[0-9]+)*)")
DRIVER_RE = re.compile(r"Driver Version:\s*([0-9]+(?:\.[0-9]+)*)")
VERSION_RE = re.compile(r"^[0-9]+(?:\.[0-9]+)*$")
ARCH_ALIASES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "ppc64le": "ppc64le"}


class SmiParseError(ValueError):
    pass


def parse_query_gpu(text: str) -> list[dict]:
    """GPUs of the `--query-gpu=name,driver_version,compute_cap` CSV (no header): name, driver, capability."""
    gpus = []
    for number, line in enumerate((text or "").splitlines(), 1):
        line = line.strip()
        if not line or line.lower().startswith("name,"):
            continue
        parts = [p.strip() for p in line.rsplit(",", 2)]  # a GPU name may itself contain commas
        if len(parts) != 3:
            raise SmiParseError(f"line {number}: expected 'name, driver_version, compute_cap', got {line!r}")
        name, driver, capability = parts
        if not VERSION_RE.match(driver):
            raise SmiParseError(f"line {number}: driver version {driver!r} is not a version")
        if capability.lower() in ("[n/a]", "n/a", "[not supported]"):
            capability = ""
        elif not VERSION_RE.match(capability):
            raise SmiParseError(f"line {number}: compute capability {capability!r} is not a version")
        gpus.append({"name": name, "driverVersion": driver, "computeCapability": capability})
    if not gpus:
        raise SmiParseError("no GPUs in the --query-gpu output")
    return gpus


def parse_cuda_version(text: str) -> str:
    """The `CUDA Version: 12.4` of nvidia-smi's header."""
    match = CUDA_RE.search(text or "")
    if match is None:
        raise SmiParseError("no 'CUDA Version:' in the nvidia-smi output")
    return match.group(1)


def host_report(query_text: str, smi_text: str, *, architecture: str | None = None, labels: dict[str, str] | None = None) -> dict:
    """The body of `PUT /v2/org/<org>/gpu-hosts/<name>` for what nvidia-smi said."""
    gpus = parse_query_gpu(query_text)
    drivers = {gpu["driverVersion"] for gpu in gpus}
    if len(drivers) != 1:
        raise SmiParseError(f"the GPUs report different drivers: {', '.join(sorted(drivers))}")
    driver = drivers.pop()
    header_driver = DRIVER_RE.search(smi_text or "")
    if header_driver and header_driver.group(1) != driver:
        raise SmiParseError(f"nvidia-smi says driver {header_driver.group(1)}, --query-gpu says {driver}")
    machine = architecture or platform.machine()
    body = {
        "architecture": ARCH_ALIASES.get(machine.lower(), machine.lower()),
        "os": "linux",
        "driverVersion": driver,
        "cudaVersion": parse_cuda_version(smi_text),
        "gpus": [{"name": g["name"], "computeCapability": g["computeCapability"]} for g in gpus],
    }
    if labels:
        body["labels"] = list(labels)
    return body
