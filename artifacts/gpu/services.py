"""GPU hosts (writes, policy) and image checks: read each platform's config, evaluate it on every host
of the org, store one verdict per (image manifest, host).

Policy (docs/gpu-hosts.md): reading an org's hosts needs membership of the org (VIEW_SPACE, checked
by `org_space()`/`get_space()`); creating, changing and deleting them needs ADMIN on CONTAINER at org
level (Registry Admin, Org Owner, User Admin: `can(..., DELETE, org space, service=CONTAINER)` with
no creator, which only ADMIN satisfies). A host reporting itself uses such a user's API key.
"""
import logging
import re
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import transaction

from registry_portal.errors import AccessDenied, Conflict, InvalidInput, NotFound
from accounts.permissions import Action, Space, can
from accounts.roles import Service
from artifacts.core.metadata import clean_labels
from artifacts.gpu import constraints as c
from artifacts.gpu.models import HOST_NAME_PATTERN, GpuHost, GpuVerdict
from artifacts.models import Manifest
from artifacts.blobs.store import get_blob_store
from registry_portal import json_input
from registry_portal.outbox.services import outbox_enqueue

logger = logging.getLogger(__name__)

CONFIG_LIMIT = 1024 * 1024  # an image config larger than this is not read
MANIFEST_LIMIT = 4 * 1024 * 1024
IMAGE_CONFIG_TYPES = {
    "application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json",
}
ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armv8": "arm64", "ppc64el": "ppc64le"}
BRANDS = ("geforce", "quadro", "titan", "tesla", "nvidia", "nvidiartx", "unknown")
DATACENTER = re.compile(r"\b(?:[ABHLTV]\d{1,3}S?|GH\d+|GB\d+|B\d{2,3}|DGX)\b", re.IGNORECASE)
HOST_FIELDS = ("architecture", "variant", "os", "driver_version", "cuda_version", "gpus", "labels")


# --- hosts -------------------------------------------------------------------------------------


def may_manage_hosts(user, org) -> bool:
    return can(user, Action.DELETE, Space(org), service=Service.CONTAINER)


def _require_manage(user, org) -> None:
    if not may_manage_hosts(user, org):
        raise AccessDenied(f"Managing GPU hosts of {org.name} needs Registry Admin at org level.")


def normalize_architecture(value: str) -> str:
    value = (value or "").strip().lower()
    return ARCH_ALIASES.get(value, value)


def brand_of(gpu_name: str) -> str:
    """The toolkit's brand of a GPU, guessed from its marketing name."""
    name = gpu_name or ""
    lowered = name.lower()
    for word in ("geforce", "quadro", "titan", "tesla"):
        if word in lowered:
            return word
    if re.search(r"\brtx a\d|\brtx \d{4} ada\b|\brtx pro\b", lowered):
        return "nvidiartx"
    if DATACENTER.search(name):
        return "tesla"
    return "nvidia" if name else ""


def _clean_gpus(value) -> list[dict]:
    if not isinstance(value, list) or len(value) > 64:
        raise InvalidInput("gpus must be a list of at most 64 objects.", field="gpus")
    gpus = []
    for item in value:
        if not isinstance(item, dict):
            raise InvalidInput("each GPU must be an object with name, computeCapability, brand.", field="gpus")
        name = str(item.get("name") or "").strip()[:128]
        capability = str(item.get("computeCapability") or item.get("compute_cap") or "").strip()
        if capability:
            try:
                c.parse_version(capability)
            except c.Unparsable:
                raise InvalidInput(f"computeCapability {capability!r} is not a version like 8.0.", field="gpus") from None
        brand = str(item.get("brand") or brand_of(name)).strip().lower()[:32]
        gpus.append({"name": name, "computeCapability": capability, "brand": brand})
    return gpus


def _clean(changes: dict) -> dict:
    cleaned: dict[str, object] = {}
    for key, value in changes.items():
        if key == "gpus":
            cleaned[key] = _clean_gpus(value)
        elif key == "labels":
            cleaned[key] = clean_labels(value)
        elif key in ("driver_version", "cuda_version"):
            value = str(value or "").strip()
            if value:
                try:
                    c.parse_version(value)
                except c.Unparsable:
                    raise InvalidInput(f"{key} {value!r} is not a version.", field=key) from None
            cleaned[key] = value
        elif key == "architecture":
            cleaned[key] = normalize_architecture(str(value or ""))
            if not cleaned[key]:
                raise InvalidInput("architecture is required (amd64, arm64, ...).", field=key)
        elif key in ("os", "variant"):
            cleaned[key] = str(value or "").strip().lower()[:32]
        else:
            raise InvalidInput(f"unknown field {key}")
    return cleaned


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not re.match(HOST_NAME_PATTERN, name):
        raise InvalidInput("name must be 1-63 letters, digits, '.', '_' or '-'.", field="name")


def _recheck_later(host_id: int) -> None:
    outbox_enqueue("artifacts.gpu.tasks.check_host", host_id)  # in the caller's transaction


def host_create(*, actor, org, name: str, **fields) -> GpuHost:
    _require_manage(actor, org)
    _check_name(name)
    cleaned = _clean({"os": "linux", **fields})
    if "architecture" not in cleaned:
        raise InvalidInput("architecture is required (amd64, arm64, ...).", field="architecture")
    with transaction.atomic():
        if GpuHost.objects.filter(org=org, name=name).exists():
            raise Conflict(f"GPU host {name!r} already exists in {org.name}.", field="name")
        host = GpuHost.objects.create(org=org, name=name, created_by=actor if actor.is_authenticated else None, **cleaned)
        _recheck_later(host.pk)
    return host


def host_update(*, actor, host: GpuHost, **fields) -> GpuHost:
    _require_manage(actor, host.org)
    cleaned = _clean(fields)
    with transaction.atomic():
        for key, value in cleaned.items():
            setattr(host, key, value)
        host.save()
        _recheck_later(host.pk)
    return host


def host_upsert(*, actor, org, name: str, **fields) -> tuple[GpuHost, bool]:
    """What `ngc gpuhost report` calls: create the host, or replace the reported fields."""
    existing = GpuHost.objects.filter(org=org, name=name).first()
    if existing is None:
        return host_create(actor=actor, org=org, name=name, **fields), True
    return host_update(actor=actor, host=existing, **fields), False


def host_delete(*, actor, host: GpuHost) -> None:
    _require_manage(actor, host.org)
    host.delete()


def host_get(org, name: str) -> GpuHost:
    host = GpuHost.objects.filter(org=org, name=name).select_related("org").first()
    if host is None:
        raise NotFound(f"GPU host '{name}' not found in org '{org.name}'.")
    return host


# --- image facts ---------------------------------------------------------------------------------


@dataclass
class PlatformFacts:
    """What one image platform declares (from its config blob)."""

    manifest_id: int
    digest: str
    os: str = ""
    architecture: str = ""
    variant: str = ""
    env: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    problem: str = ""  # why the config could not be read, if it could not

    @property
    def platform(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


def _read_json(digest: str, limit: int):
    store = get_blob_store()
    stat = store.stat(digest)
    if stat is None:
        return None, "the blob is not in the store"
    if stat.size > limit:
        return None, f"the blob is larger than {limit} bytes"
    with store.open(digest) as handle:
        data = handle.read(limit + 1)
    try:
        document = json_input.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None, "the blob is not JSON"
    if not isinstance(document, dict):
        return None, "the blob is not a JSON object"
    return document, ""


def _env_dict(env) -> dict:
    result = {}
    if isinstance(env, list):
        for item in env:
            if isinstance(item, str) and "=" in item:
                key, value = item.split("=", 1)
                result[key] = value
    return result


def platform_facts(manifest: Manifest) -> PlatformFacts | None:
    """The facts of an image manifest (None when it is not an image, e.g. an artifact)."""
    key = f"artifacts:gpu:facts:{manifest.digest}"
    cached = cache.get(key)
    if cached is not None:
        return PlatformFacts(**{**cached, "manifest_id": manifest.pk}) if cached else None
    document, problem = _read_json(manifest.digest, MANIFEST_LIMIT)
    if document is None:
        return PlatformFacts(manifest.pk, manifest.digest, problem=f"manifest unreadable: {problem}")
    config = document.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("digest"), str):
        cache.set(key, {}, 3600)
        return None
    if config.get("mediaType") and config["mediaType"] not in IMAGE_CONFIG_TYPES:
        cache.set(key, {}, 3600)
        return None  # an OCI artifact (signature, SBOM, chart...), not something that runs
    image, problem = _read_json(config["digest"], CONFIG_LIMIT)
    if image is None:
        return PlatformFacts(manifest.pk, manifest.digest, problem=f"config unreadable: {problem}")
    image_config = image.get("config")
    runtime = image_config if isinstance(image_config, dict) else {}
    image_labels = runtime.get("Labels")
    labels = image_labels if isinstance(image_labels, dict) else {}
    facts = PlatformFacts(
        manifest.pk, manifest.digest,
        os=str(image.get("os") or "")[:32], architecture=normalize_architecture(str(image.get("architecture") or ""))[:32],
        variant=str(image.get("variant") or "")[:16],
        env={k: v for k, v in _env_dict(runtime.get("Env")).items() if k.startswith(("NVIDIA_", "CUDA_"))},
        labels={str(k)[:200]: str(v)[:1000] for k, v in list(labels.items())[:200]},
    )
    cache.set(key, {k: v for k, v in vars(facts).items() if k != "manifest_id"}, 24 * 3600)
    return facts


def image_platforms(manifest: Manifest) -> list[Manifest]:
    """The image manifests of a pushed manifest: itself, or an index's children."""
    children = list(Manifest.objects.filter(parent_links__index=manifest).order_by("pk"))
    return children if children else [manifest]


# --- evaluation --------------------------------------------------------------------------------


@dataclass
class Verdict:
    status: str
    reasons: list[str] = field(default_factory=list)
    requirement: str = ""


def _term_reason(term: c.Term, host: GpuHost) -> str:
    if term.key == "cuda":
        return f"cuda: the image requires CUDA {term.op} {term.value}; driver {host.driver_version or '?'} supports CUDA up to {host.cuda_version}"
    if term.key == "driver":
        return f"driver: the image requires driver {term.op} {term.value}; the host has {host.driver_version}"
    if term.key == "brand":
        brands = sorted({g.get("brand", "") for g in host.gpus if isinstance(g, dict)})
        return f"brand: the image requires brand {term.op} {term.value}; the host's GPUs are {', '.join(brands) or '?'}"
    caps = sorted({g.get("computeCapability", "") for g in host.gpus if isinstance(g, dict)})
    return f"arch: the image requires compute capability {term.op} {term.value}; the host's GPUs have {', '.join(caps) or '?'}"


def _unknown_reason(term: c.Term, host: GpuHost) -> str:
    what = {"cuda": "no CUDA version", "driver": "no driver version"}.get(term.key, "no GPU details")
    return f"{term}: the host reports {what}"


def host_facts(host: GpuHost) -> c.HostFacts:
    gpus = [
        c.Gpu(name=str(g.get("name", "")), compute_capability=str(g.get("computeCapability", "")), brand=str(g.get("brand", "")))
        for g in (host.gpus or []) if isinstance(g, dict)
    ]
    return c.HostFacts(driver_version=host.driver_version, cuda_version=host.cuda_version, gpus=gpus)


def evaluate(facts: PlatformFacts, host: GpuHost) -> Verdict:
    """The verdict of one platform on one host. Never raises."""
    try:
        return _evaluate(facts, host)
    except Exception as exc:  # noqa: BLE001 (odd input must give a verdict, not a crash)
        logger.exception("GPU check of %s on %s failed", facts.digest, host)
        return Verdict(GpuVerdict.UNKNOWN, [f"the check failed: {type(exc).__name__}"])


def _evaluate(facts: PlatformFacts, host: GpuHost) -> Verdict:
    if facts.problem:
        return Verdict(GpuVerdict.UNKNOWN, [facts.problem])
    incompatible = []
    if facts.architecture and facts.architecture != host.architecture:
        incompatible.append(f"architecture: the image is {facts.architecture}, the host is {host.architecture}")
    elif facts.variant and host.variant and facts.variant != host.variant:
        incompatible.append(f"architecture: the image's variant is {facts.variant}, the host's {host.variant}")
    if facts.os and host.os and facts.os != host.os:
        incompatible.append(f"os: the image is for {facts.os}, the host runs {host.os}")
    env = facts.env
    if c.is_truthy(env.get("NVIDIA_DISABLE_REQUIRE", "")):
        if incompatible:
            return Verdict(GpuVerdict.INCOMPATIBLE, incompatible)
        return Verdict(GpuVerdict.COMPATIBLE, ["NVIDIA_DISABLE_REQUIRE is set: the toolkit skips requirement checks"])
    requirements = {k: v for k, v in sorted(env.items()) if k.startswith("NVIDIA_REQUIRE_")}
    unknown = []
    if "NVIDIA_REQUIRE_CUDA" not in requirements and env.get("CUDA_VERSION"):
        try:
            requirements["NVIDIA_REQUIRE_CUDA"] = c.cuda_requirement_from_version(env["CUDA_VERSION"])
        except c.Unparsable as exc:
            unknown.append(f"CUDA_VERSION: {exc}")
    if not requirements and not unknown:
        if incompatible:
            return Verdict(GpuVerdict.INCOMPATIBLE, incompatible)
        return Verdict(GpuVerdict.UNKNOWN, ["no GPU requirement declared (no NVIDIA_REQUIRE_CUDA or CUDA_VERSION)"])
    checked = []
    for name, value in requirements.items():
        try:
            requirement = c.parse_requirement(value)
        except c.Unparsable as exc:
            unknown.append(f"{name}: unparsable value: {exc}")
            continue
        checked.append(f"{name}={requirement}")
        outcome = c.evaluate(requirement, host_facts(host))
        if outcome.result == c.FALSE:
            incompatible.extend(_term_reason(term, host) for term in outcome.failed)
        elif outcome.result == c.UNKNOWN:
            unknown.extend(_unknown_reason(term, host) for term in outcome.unknown)
    requirement_text = " ; ".join(checked)[:4000]
    if incompatible:
        return Verdict(GpuVerdict.INCOMPATIBLE, incompatible, requirement_text)
    if unknown:
        return Verdict(GpuVerdict.UNKNOWN, unknown, requirement_text)
    return Verdict(GpuVerdict.COMPATIBLE, [], requirement_text)


def _store(facts: PlatformFacts, host: GpuHost, verdict: Verdict) -> None:
    GpuVerdict.objects.update_or_create(
        manifest_id=facts.manifest_id, host=host,
        defaults={
            "status": verdict.status, "reasons": verdict.reasons[:50], "platform": facts.platform[:80],
            "requirement": verdict.requirement,
        },
    )


def check_manifest(manifest_id: int) -> int:
    """Check a pushed manifest (every platform of an index) on every host of its org; the number of verdicts stored."""
    manifest = Manifest.objects.select_related("repository").filter(pk=manifest_id).first()
    if manifest is None:
        return 0  # deleted meanwhile
    hosts = list(GpuHost.objects.filter(org_id=manifest.repository.org_id))
    stored = 0
    for platform in image_platforms(manifest):
        facts = platform_facts(platform)
        if facts is None:
            continue
        for host in hosts:
            _store(facts, host, evaluate(facts, host))
            stored += 1
    return stored


def check_host(host_id: int) -> int:
    """Re-check every image of the host's org on it (after the host was created or changed)."""
    host = GpuHost.objects.filter(pk=host_id).first()
    if host is None:
        return 0
    stored = 0
    images = Manifest.objects.filter(repository__org_id=host.org_id, parent_links__isnull=True).distinct()
    for manifest in images.iterator():
        for platform in image_platforms(manifest):
            facts = platform_facts(platform)
            if facts is not None:
                _store(facts, host, evaluate(facts, host))
                stored += 1
    return stored
