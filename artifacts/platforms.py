"""The platforms (os/architecture/variant) of a stored image, for pages that list them.

An index (manifest list) names its children's platforms in its own bytes; a single image names
its platform in its config blob. Both are content-addressed and never change, so the answer is
cached by digest. Only small documents are read: a manifest is at most 4 MiB, and a config that
is larger than CONFIG_LIMIT is not an image config worth parsing.
"""
from dataclasses import dataclass

from django.core.cache import cache

from artifacts.blobs.store import get_blob_store
from registry_portal import json_input

CONFIG_LIMIT = 1024 * 1024
CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""
    digest: str = ""  # the child manifest of an index; empty for a single image

    def __str__(self) -> str:
        return "/".join(part for part in (self.os, self.architecture, self.variant) if part)


def _read_json(digest: str, limit: int) -> dict | None:
    store = get_blob_store()
    stat = store.stat(digest)
    if stat is None or stat.size > limit:
        return None
    with store.open(digest) as handle:
        try:
            document = json_input.loads(handle.read(limit + 1))
        except (ValueError, UnicodeDecodeError):
            return None
    return document if isinstance(document, dict) else None


def _from_document(document: dict) -> list[Platform]:
    if isinstance(document.get("manifests"), list):  # an index / manifest list
        platforms = []
        for child in document["manifests"]:
            platform = child.get("platform") if isinstance(child, dict) else None
            if isinstance(platform, dict) and platform.get("architecture") != "unknown":
                platforms.append(Platform(
                    os=str(platform.get("os", "")), architecture=str(platform.get("architecture", "")),
                    variant=str(platform.get("variant", "")), digest=str(child.get("digest", "")),
                ))
        return platforms
    config = document.get("config")
    if isinstance(config, dict) and isinstance(config.get("digest"), str):
        image_config = _read_json(config["digest"], CONFIG_LIMIT) or {}
        if image_config.get("architecture") or image_config.get("os"):
            return [Platform(
                os=str(image_config.get("os", "")), architecture=str(image_config.get("architecture", "")),
                variant=str(image_config.get("variant", "")),
            )]
    return []


def manifest_platforms(digest: str) -> list[Platform]:
    """The platforms of the manifest stored under `digest` (empty when it declares none)."""
    key = f"artifacts:platforms:{digest}"
    platforms = cache.get(key)
    if platforms is None:
        document = _read_json(digest, 4 * 1024 * 1024)
        if document is None:
            return []  # not stored (yet): nothing to remember
        platforms = _from_document(document)
        cache.set(key, platforms, CACHE_SECONDS)
    return platforms


# --- image details (the Tags page's "Image details", like NGC's) ---------------------------------


@dataclass(frozen=True)
class Layer:
    digest: str
    size: int
    media_type: str


@dataclass(frozen=True)
class ImageDetails:
    """What an image's manifest and config say: its layers in order and the config's run settings."""

    platform: str
    digest: str  # the image manifest (a child of the index, or the tag's own manifest)
    layers: tuple[Layer, ...]
    created: str = ""
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    workdir: str = ""
    user: str = ""

    @property
    def size(self) -> int:
        return sum(layer.size for layer in self.layers)

    @property
    def cuda_requirement(self) -> str:
        """NVIDIA_REQUIRE_CUDA from the environment (what GPU host checks read), or empty."""
        return next((line.split("=", 1)[1] for line in self.env if line.startswith("NVIDIA_REQUIRE_CUDA=")), "")


def _strings(value) -> tuple[str, ...]:
    return tuple(str(item) for item in value) if isinstance(value, list) else ()


def _image_details(document: dict, digest: str, platform: str) -> ImageDetails | None:
    if not isinstance(document.get("layers"), list):
        return None  # not an image manifest (an index, or an artifact without layers)
    layers = tuple(
        Layer(digest=str(layer.get("digest", "")), size=int(layer.get("size") or 0), media_type=str(layer.get("mediaType", "")))
        for layer in document["layers"] if isinstance(layer, dict)
    )
    config_ref = document.get("config")
    config = _read_json(config_ref["digest"], CONFIG_LIMIT) if isinstance(config_ref, dict) and isinstance(config_ref.get("digest"), str) else None
    config = config or {}
    run = config.get("config") if isinstance(config.get("config"), dict) else {}
    if not platform and (config.get("architecture") or config.get("os")):
        platform = str(Platform(os=str(config.get("os", "")), architecture=str(config.get("architecture", "")),
                                variant=str(config.get("variant", ""))))
    return ImageDetails(
        platform=platform, digest=digest, layers=layers, created=str(config.get("created") or ""),
        entrypoint=_strings(run.get("Entrypoint")), cmd=_strings(run.get("Cmd")), env=_strings(run.get("Env")),
        workdir=str(run.get("WorkingDir") or ""), user=str(run.get("User") or ""),
    )


def image_details(digest: str) -> list[ImageDetails]:
    """One ImageDetails per image under `digest`: the image itself, or each platform of an index.
    Content-addressed, so cached by digest like the platforms."""
    key = f"artifacts:image-details:{digest}"
    details = cache.get(key)
    if details is None:
        document = _read_json(digest, 4 * 1024 * 1024)
        if document is None:
            return []
        if isinstance(document.get("manifests"), list):
            details = []
            for platform in _from_document(document):
                child = _read_json(platform.digest, 4 * 1024 * 1024) if platform.digest else None
                found = _image_details(child, platform.digest, str(platform)) if child else None
                if found:
                    details.append(found)
        else:
            found = _image_details(document, digest, "")
            details = [found] if found else []
        cache.set(key, details, CACHE_SECONDS)
    return details
