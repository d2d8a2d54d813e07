"""Manifest media types and parsing: what a pushed manifest references and declares."""
from dataclasses import dataclass, field

from artifacts.digests import InvalidDigest, parse_digest
from registry_portal.oci_errors import OCIError
from registry_portal import json_input

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_ARTIFACT_MANIFEST = "application/vnd.oci.artifact.manifest.v1+json"  # OCI 1.1 release candidates
IMAGE_MANIFESTS = {DOCKER_MANIFEST, OCI_MANIFEST, OCI_ARTIFACT_MANIFEST}
INDEXES = {DOCKER_MANIFEST_LIST, OCI_INDEX}
MEDIA_TYPES = IMAGE_MANIFESTS | INDEXES
MAX_MANIFEST_BYTES = 4 * 1024 * 1024


@dataclass
class ParsedManifest:
    media_type: str
    blob_digests: list[str] = field(default_factory=list)
    child_digests: list[str] = field(default_factory=list)
    subject_digest: str = ""
    artifact_type: str = ""
    annotations: dict = field(default_factory=dict)


def _descriptor_digest(descriptor, where: str) -> str:
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("digest"), str):
        raise OCIError("MANIFEST_INVALID", detail=f"{where} is not a descriptor with a digest")
    try:
        parse_digest(descriptor["digest"])
    except InvalidDigest as exc:
        raise OCIError("MANIFEST_INVALID", detail=f"{where}: {exc}") from None
    size = descriptor.get("size")
    if size is not None and (not isinstance(size, int) or size < 0):
        raise OCIError("MANIFEST_INVALID", detail=f"{where}: bad size")
    return descriptor["digest"]


def parse_manifest(body: bytes, content_type: str) -> ParsedManifest:
    """Validate the JSON and collect its references; raise MANIFEST_INVALID for anything malformed."""
    try:
        document = json_input.loads(body)
    except json_input.JSONTooDeep as exc:
        raise OCIError("MANIFEST_INVALID", detail=f"the manifest is {exc}") from None
    except (ValueError, UnicodeDecodeError):
        raise OCIError("MANIFEST_INVALID", detail="the manifest is not valid JSON") from None
    if not isinstance(document, dict):
        raise OCIError("MANIFEST_INVALID", detail="the manifest is not a JSON object")
    declared = document.get("mediaType")
    content_type = (content_type or "").split(";")[0].strip()
    media_type = content_type if content_type in MEDIA_TYPES else declared
    if declared and content_type in MEDIA_TYPES and declared != content_type:
        raise OCIError("MANIFEST_INVALID", detail=f"mediaType {declared!r} does not match Content-Type {content_type!r}")
    if media_type not in MEDIA_TYPES:
        raise OCIError("MANIFEST_INVALID", detail=f"unsupported manifest media type {media_type!r}")
    if media_type != OCI_ARTIFACT_MANIFEST and document.get("schemaVersion") != 2:
        raise OCIError("MANIFEST_INVALID", detail="schemaVersion must be 2")
    parsed = ParsedManifest(media_type=media_type, annotations=document.get("annotations") or {})
    if not isinstance(parsed.annotations, dict):
        raise OCIError("MANIFEST_INVALID", detail="annotations must be an object")
    if media_type in INDEXES:
        children = document.get("manifests")
        if not isinstance(children, list):
            raise OCIError("MANIFEST_INVALID", detail="an index needs a manifests list")
        parsed.child_digests = [_descriptor_digest(d, f"manifests[{i}]") for i, d in enumerate(children)]
    else:
        config = document.get("config")
        if media_type == OCI_ARTIFACT_MANIFEST:
            layers = document.get("blobs") or []
        else:
            if config is None:
                raise OCIError("MANIFEST_INVALID", detail="an image manifest needs a config descriptor")
            layers = document.get("layers")
            if layers is None:
                layers = []
        if not isinstance(layers, list):
            raise OCIError("MANIFEST_INVALID", detail="layers must be a list")
        if config is not None:
            parsed.blob_digests.append(_descriptor_digest(config, "config"))
        parsed.blob_digests += [_descriptor_digest(d, f"layers[{i}]") for i, d in enumerate(layers)]
        if not document.get("artifactType") and isinstance(config, dict):
            parsed.artifact_type = str(config.get("mediaType") or "")
    if document.get("artifactType"):
        parsed.artifact_type = str(document["artifactType"])
    if document.get("subject") is not None:
        parsed.subject_digest = _descriptor_digest(document["subject"], "subject")
    return parsed
