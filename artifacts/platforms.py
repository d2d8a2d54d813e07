"""The platforms (os/architecture/variant) of a stored image, for pages that list them.

An index (manifest list) names its children's platforms in its own bytes; a single image names
its platform in its config blob. Both are content-addressed and never change, so the answer is
cached by digest. Only small documents are read: a manifest is at most 4 MiB, and a config that
is larger than CONFIG_LIMIT is not an image config worth parsing.
"""
from dataclasses import dataclass

from django.core.cache import cache

from artifacts.storage import get_blob_store
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
