"""The requirement grammar of the NVIDIA container toolkit (`NVIDIA_REQUIRE_*`), evaluated offline.

libnvidia-container (`src/cli/dsl.c`, `dsl_evaluate`) reads a requirement value as alternatives
separated by spaces, each alternative a comma-joined list of terms that must all hold:

    cuda>=12.2 brand=tesla,driver>=470,driver<471 brand=unknown,driver>=470,driver<471

means `cuda>=12.2` OR (`brand=tesla` AND `driver>=470` AND `driver<471`) OR (...). (The issue text
said it the other way round; the toolkit's code is what decides whether a container starts, so it
is followed here.) Every `NVIDIA_REQUIRE_*` variable of the image must be satisfied.

A term is `<key><op><value>` with op one of `==`, `=`, `!=`, `<=`, `>=`, `<`, `>`; keys:
`cuda` (the driver's highest CUDA version), `driver` (the driver version), `arch` (a GPU's compute
capability) and `brand` (a GPU's brand, compared as a string). Versions compare numerically,
component by component, missing components counting as 0 (`470.57.02 >= 470`, `12.4 > 12.2`).

Evaluation is three-valued: a term the host cannot answer (no CUDA version reported, no GPUs for
`arch`) is unknown, and AND/OR propagate it (false wins an AND, true wins an OR). Nothing here
raises on odd input: a malformed value is an `Unparsable` result with the reason.
"""
import re
from dataclasses import dataclass, field

OPERATORS = ("==", "!=", "<=", ">=", "=", "<", ">")  # longest first, as dsl.c matches them
KEYS = ("cuda", "driver", "arch", "brand")
VERSION_RE = re.compile(r"^\d+(?:\.\d+)*$")
TERM_RE = re.compile(r"^(?P<key>[a-z]+)(?P<op>==|!=|<=|>=|=|<|>)(?P<value>[^=<>!]+)$")
MAX_REQUIREMENT_CHARS = 4096

TRUE, FALSE, UNKNOWN = "true", "false", "unknown"


class Unparsable(ValueError):
    """A requirement value the toolkit would reject as an invalid expression."""


@dataclass(frozen=True)
class Term:
    key: str
    op: str
    value: str

    def __str__(self) -> str:
        return f"{self.key}{self.op}{self.value}"


@dataclass(frozen=True)
class Requirement:
    """OR over alternatives, each an AND over terms."""

    source: str
    alternatives: tuple[tuple[Term, ...], ...]

    def __str__(self) -> str:
        return " ".join(",".join(str(t) for t in alt) for alt in self.alternatives)


@dataclass
class Gpu:
    name: str = ""
    compute_capability: str = ""
    brand: str = ""


@dataclass
class HostFacts:
    """What a term is compared against."""

    driver_version: str = ""
    cuda_version: str = ""
    gpus: list[Gpu] = field(default_factory=list)


def parse_version(text: str) -> tuple[int, ...]:
    """`12.4` → (12, 4); raise Unparsable for anything that is not dot-separated digits."""
    text = (text or "").strip()
    if not VERSION_RE.match(text) or len(text) > 64:
        raise Unparsable(f"{text!r} is not a version")
    return tuple(int(part) for part in text.split("."))


def compare_versions(left: str, op: str, right: str) -> bool:
    """`left op right`, numerically per component (missing components are 0)."""
    a, b = parse_version(left), parse_version(right)
    width = max(len(a), len(b))
    a, b = a + (0,) * (width - len(a)), b + (0,) * (width - len(b))
    return _apply(op, (a > b) - (a < b))


def _apply(op: str, cmp: int) -> bool:
    return {
        "=": cmp == 0, "==": cmp == 0, "!=": cmp != 0,
        "<": cmp < 0, "<=": cmp <= 0, ">": cmp > 0, ">=": cmp >= 0,
    }[op]


def parse_term(text: str) -> Term:
    match = TERM_RE.match(text)
    if match is None:
        raise Unparsable(f"invalid expression {text!r}")
    key, op, value = match["key"], match["op"], match["value"]
    if key not in KEYS:
        raise Unparsable(f"unknown requirement key {key!r} in {text!r}")
    if key != "brand":
        parse_version(value)
    return Term(key, op, value)


def parse_requirement(text) -> Requirement:
    """Parse a `NVIDIA_REQUIRE_*` value (spaces: OR, commas: AND). Raise Unparsable."""
    if not isinstance(text, str):
        raise Unparsable("the value is not a string")
    if len(text) > MAX_REQUIREMENT_CHARS:
        raise Unparsable(f"the value is longer than {MAX_REQUIREMENT_CHARS} characters")
    alternatives = []
    for alternative in text.split(" "):
        terms = tuple(parse_term(term) for term in alternative.split(",") if term != "")
        if terms:
            alternatives.append(terms)
    if not alternatives:
        raise Unparsable("the value is empty")
    return Requirement(text, tuple(alternatives))


def evaluate_term(term: Term, host: HostFacts) -> str:
    """TRUE, FALSE or UNKNOWN for one term on one host."""
    try:
        if term.key in ("cuda", "driver"):
            have = host.cuda_version if term.key == "cuda" else host.driver_version
            if not have:
                return UNKNOWN
            return TRUE if compare_versions(have, term.op, term.value) else FALSE
        if not host.gpus:
            return UNKNOWN
        results = []
        for gpu in host.gpus:  # every GPU the container may be given must satisfy a device term
            if term.key == "arch":
                if not gpu.compute_capability:
                    results.append(UNKNOWN)
                    continue
                results.append(TRUE if compare_versions(gpu.compute_capability, term.op, term.value) else FALSE)
            else:
                if not gpu.brand:
                    results.append(UNKNOWN)
                    continue
                cmp = (gpu.brand.lower() > term.value.lower()) - (gpu.brand.lower() < term.value.lower())
                results.append(TRUE if _apply(term.op, cmp) else FALSE)
        return _all(results)
    except Unparsable:  # the host's own value is malformed
        return UNKNOWN


def _all(values) -> str:
    values = list(values)
    if FALSE in values:
        return FALSE
    return UNKNOWN if UNKNOWN in values else TRUE


def _any(values) -> str:
    values = list(values)
    if TRUE in values:
        return TRUE
    return UNKNOWN if UNKNOWN in values else FALSE


@dataclass
class Evaluation:
    result: str  # TRUE, FALSE or UNKNOWN
    failed: list[Term] = field(default_factory=list)  # terms that were false (every alternative's)
    unknown: list[Term] = field(default_factory=list)


def evaluate(requirement: Requirement, host: HostFacts) -> Evaluation:
    """Evaluate an OR of ANDs; collect the false and unknown terms for the reasons."""
    outcomes, failed, unknown = [], [], []
    for alternative in requirement.alternatives:
        values = []
        for term in alternative:
            value = evaluate_term(term, host)
            values.append(value)
            if value == FALSE and term not in failed:
                failed.append(term)
            elif value == UNKNOWN and term not in unknown:
                unknown.append(term)
        outcomes.append(_all(values))
    result = _any(outcomes)
    return Evaluation(result, failed if result != TRUE else [], unknown if result == UNKNOWN else [])


def is_truthy(value) -> bool:
    """How the toolkit reads NVIDIA_DISABLE_REQUIRE (strconv.ParseBool: 1, t, true, …)."""
    return isinstance(value, str) and value.strip().lower() in ("1", "t", "true", "yes", "on")


def cuda_requirement_from_version(cuda_version: str) -> str:
    """`CUDA_VERSION=12.4.1` → `cuda>=12.4` (the toolkit's rule for images without NVIDIA_REQUIRE_CUDA)."""
    parts = parse_version(cuda_version)
    return f"cuda>={parts[0]}.{parts[1] if len(parts) > 1 else 0}"
