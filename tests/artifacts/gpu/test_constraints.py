"""The NVIDIA_REQUIRE_* grammar (spaces: OR, commas: AND, as libnvidia-container's dsl.c) and verdicts."""
import pytest

from artifacts.gpu import constraints as c
from artifacts.gpu.models import GpuHost
from artifacts.gpu.services import PlatformFacts, brand_of, evaluate

TESLA_A100 = c.Gpu(name="NVIDIA A100-SXM4-80GB", compute_capability="8.0", brand="tesla")
GEFORCE = c.Gpu(name="NVIDIA GeForce RTX 4090", compute_capability="8.9", brand="geforce")


def facts(driver="550.54.15", cuda="12.4", gpus=(TESLA_A100,)):
    return c.HostFacts(driver_version=driver, cuda_version=cuda, gpus=list(gpus))


@pytest.mark.parametrize("left,op,right,expected", [
    ("12.4", "=", "12.4", True), ("12.4", "==", "12.4.0", True), ("12.4", "==", "12.2", False),
    ("12.4", "!=", "12.2", True), ("12.4", "!=", "12.4", False),
    ("12.2", "<", "12.10", True), ("12.4", "<", "12.4", False),
    ("12.4", "<=", "12.4", True), ("12.5", "<=", "12.4", False),
    ("470.57.02", ">", "470", True), ("470", ">", "470.0.0", False),
    ("470.57.02", ">=", "470", True), ("460.91.03", ">=", "470", False),
])
def test_version_comparison_for_every_operator(left, op, right, expected):
    assert c.compare_versions(left, op, right) is expected


@pytest.mark.parametrize("text,expected", [
    ("cuda>=12.2", c.TRUE),
    ("cuda>=12.6", c.FALSE),
    ("cuda==12.4", c.TRUE), ("cuda=12.4", c.TRUE), ("cuda!=12.4", c.FALSE),
    ("cuda<12.5", c.TRUE), ("cuda<=12.3", c.FALSE), ("cuda>12.3", c.TRUE),
    ("driver>=470,driver<471", c.FALSE),  # AND: a 550 driver is outside the range
    ("driver>=550,driver<551", c.TRUE),
    ("cuda>=12.6 driver>=550,driver<551", c.TRUE),  # OR: the second alternative holds
    ("cuda>=12.6 driver>=470,driver<471", c.FALSE),  # neither holds
    ("brand=tesla", c.TRUE), ("brand=geforce", c.FALSE), ("brand!=geforce", c.TRUE),
    ("arch>=7.0", c.TRUE), ("arch>=9.0", c.FALSE),
    ("cuda>=12.2 brand=tesla,driver>=470,driver<471", c.TRUE),
])
def test_requirement_evaluation(text, expected):
    assert c.evaluate(c.parse_requirement(text), facts()).result == expected


def test_the_cuda_12_2_image_requirement_on_old_and_new_drivers():
    value = ("cuda>=12.2 brand=tesla,driver>=470,driver<471 brand=unknown,driver>=470,driver<471 "
             "brand=nvidia,driver>=470,driver<471 brand=geforce,driver>=535,driver<536")
    requirement = c.parse_requirement(value)
    assert len(requirement.alternatives) == 5
    assert c.evaluate(requirement, facts(driver="550.54.15", cuda="12.4")).result == c.TRUE
    # forward compatibility: a Tesla on the 470 branch passes through the brand alternative
    assert c.evaluate(requirement, facts(driver="470.256.02", cuda="11.4")).result == c.TRUE
    # a GeForce on 470 fails every alternative; the failed terms are reported
    outcome = c.evaluate(requirement, facts(driver="470.256.02", cuda="11.4", gpus=[GEFORCE]))
    assert outcome.result == c.FALSE
    assert {str(t) for t in outcome.failed} >= {"cuda>=12.2", "brand=tesla", "driver>=535"}


def test_device_terms_need_every_gpu_and_unknown_propagates():
    mixed = facts(gpus=[TESLA_A100, GEFORCE])
    assert c.evaluate(c.parse_requirement("brand=tesla"), mixed).result == c.FALSE
    assert c.evaluate(c.parse_requirement("arch>=8.0"), mixed).result == c.TRUE
    no_cuda = facts(cuda="")
    assert c.evaluate(c.parse_requirement("cuda>=12.0"), no_cuda).result == c.UNKNOWN
    assert c.evaluate(c.parse_requirement("cuda>=12.0,driver>=600"), no_cuda).result == c.FALSE  # false wins an AND
    assert c.evaluate(c.parse_requirement("cuda>=12.0 driver>=500"), no_cuda).result == c.TRUE  # true wins an OR
    assert c.evaluate(c.parse_requirement("arch>=8.0"), facts(gpus=[])).result == c.UNKNOWN


@pytest.mark.parametrize("text", [
    "", "   ", "cuda", "cuda>=", ">=12", "cuda>=abc", "cuda=>12", "flux>=1", "cuda>=12..2", "cuda>>12",
    "cuda>=12.2,", "driver<4 70", "cuda>=1" + "0" * 100, None, 12, ["cuda>=12"], "cuda>=12.2\x00",
    "x" * 5000,
])
def test_malformed_requirements_are_unparsable_never_a_crash(text):
    if text in ("cuda>=12.2,",):  # a trailing comma is an empty term, which dsl.c skips
        assert str(c.parse_requirement(text)) == "cuda>=12.2"
        return
    if text == "driver<4 70":  # "70" alone is an invalid term
        with pytest.raises(c.Unparsable):
            c.parse_requirement(text)
        return
    with pytest.raises(c.Unparsable):
        c.parse_requirement(text)


@pytest.mark.parametrize("value,expected", [("true", True), ("1", True), ("TRUE", True), ("t", True),
                                            ("false", False), ("0", False), ("", False), ("maybe", False)])
def test_disable_require_truthiness(value, expected):
    assert c.is_truthy(value) is expected


def test_cuda_version_derivation():
    assert c.cuda_requirement_from_version("12.4.1") == "cuda>=12.4"
    assert c.cuda_requirement_from_version("11") == "cuda>=11.0"
    with pytest.raises(c.Unparsable):
        c.cuda_requirement_from_version("12.x")


def test_brand_guessing_from_gpu_names():
    assert brand_of("Tesla V100-SXM2-16GB") == "tesla"
    assert brand_of("NVIDIA A100-SXM4-80GB") == "tesla"
    assert brand_of("NVIDIA H100 80GB HBM3") == "tesla"
    assert brand_of("NVIDIA GeForce RTX 3090") == "geforce"
    assert brand_of("Quadro RTX 6000") == "quadro"
    assert brand_of("NVIDIA RTX A6000") == "nvidiartx"


# --- verdicts (no database: unsaved hosts) ------------------------------------------------------


def host(arch="amd64", driver="550.54.15", cuda="12.4", gpus=None):
    return GpuHost(name="h", architecture=arch, os="linux", driver_version=driver, cuda_version=cuda,
                   gpus=gpus if gpus is not None else [{"name": "NVIDIA A100", "computeCapability": "8.0", "brand": "tesla"}])


def platform(arch="amd64", **env):
    return PlatformFacts(manifest_id=1, digest="sha256:" + "0" * 64, os="linux", architecture=arch, env=env)


def test_verdict_compatible_incompatible_unknown():
    assert evaluate(platform(NVIDIA_REQUIRE_CUDA="cuda>=12.2"), host()).status == "compatible"
    old = evaluate(platform(NVIDIA_REQUIRE_CUDA="cuda>=12.2"), host(driver="470.256.02", cuda="11.4"))
    assert old.status == "incompatible" and "CUDA up to 11.4" in old.reasons[0]
    both = evaluate(platform("arm64", NVIDIA_REQUIRE_CUDA="cuda>=12.2"), host(driver="470.256.02", cuda="11.4"))
    assert both.status == "incompatible" and [r.split(":")[0] for r in both.reasons] == ["architecture", "cuda"]
    none = evaluate(platform(), host())
    assert none.status == "unknown" and "no GPU requirement" in none.reasons[0]
    bad = evaluate(platform(NVIDIA_REQUIRE_CUDA="cuda>=twelve"), host())
    assert bad.status == "unknown" and "unparsable" in bad.reasons[0]


def test_verdict_from_cuda_version_disable_require_and_other_require_vars():
    derived = evaluate(platform(CUDA_VERSION="12.6.0"), host())
    assert derived.status == "incompatible" and derived.requirement == "NVIDIA_REQUIRE_CUDA=cuda>=12.6"
    # NVIDIA_REQUIRE_CUDA wins over CUDA_VERSION
    assert evaluate(platform(CUDA_VERSION="12.6.0", NVIDIA_REQUIRE_CUDA="cuda>=12.0"), host()).status == "compatible"
    disabled = evaluate(platform(NVIDIA_REQUIRE_CUDA="cuda>=13.0", NVIDIA_DISABLE_REQUIRE="true"), host())
    assert disabled.status == "compatible" and "NVIDIA_DISABLE_REQUIRE" in disabled.reasons[0]
    assert evaluate(platform("arm64", NVIDIA_DISABLE_REQUIRE="1"), host()).status == "incompatible"
    arch = evaluate(platform(NVIDIA_REQUIRE_CUDA="cuda>=12.0", NVIDIA_REQUIRE_ARCH="arch>=9.0"), host())
    assert arch.status == "incompatible" and arch.reasons[0].startswith("arch:")
    brand = evaluate(platform(NVIDIA_REQUIRE_CUDA="brand=geforce,driver>=535"), host())
    assert brand.status == "incompatible" and brand.reasons[0].startswith("brand:")
    driver = evaluate(platform(NVIDIA_REQUIRE_CUDA="driver>=470,driver<471"), host())
    assert driver.status == "incompatible" and driver.reasons[0].startswith("driver:")


def test_verdict_on_hosts_with_odd_data_never_raises():
    odd = host(driver="", cuda="weird", gpus=[{"computeCapability": "x"}, "junk"])
    for env in ({"NVIDIA_REQUIRE_CUDA": "cuda>=12.2"}, {"NVIDIA_REQUIRE_CUDA": "arch>=8.0,brand=tesla"},
                {"CUDA_VERSION": "nope"}, {"NVIDIA_REQUIRE_CUDA": "\u00e9\u00e9>=1"}):
        assert evaluate(platform(**env), odd).status in ("unknown", "incompatible", "compatible")
    unreadable = PlatformFacts(manifest_id=1, digest="d", problem="config unreadable: the blob is not JSON")
    assert evaluate(unreadable, host()).status == "unknown"
