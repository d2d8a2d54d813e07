"""Uploaded logos of container repositories, models/resources and Helm charts (issue 17).

One form field (`LogoUploadField`) and one service (`logo_store`) serve all three kinds' Edit
Details forms. The type is sniffed from the bytes (PNG, JPEG, GIF, WebP); the file name and the
client's Content-Type are ignored, and SVG is refused because it can carry script. The bytes go to
the content-addressed blob store through `blob_commit_verified`, a `Logo` row records the digest
and sniffed media type (and keeps the blob from GC), and the artifact's existing `logo` URL field
is set to the served address, /logos/<digest>, so every header and card that shows `logo` shows it.

Who may fetch a logo: any signed-in user. A logo is display metadata like a name; scoping it to
viewers would need a visibility check per kind for a picture, and digests are not guessable anyway.
"""
import hashlib

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from artifacts.blobs.links import blob_commit_verified
from artifacts.models import Logo
from registry_portal.site_urls import site_url

MAX_LOGO_BYTES = 1024 * 1024  # 1 MiB
LOGO_HELP = "PNG, JPEG, GIF or WebP, at most 1 MiB. Replaces the logo URL."


def sniff_image_type(head: bytes) -> str | None:
    """The media type of an accepted image format from its magic bytes, else None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


class LogoUploadField(forms.FileField):
    """An optional logo image; cleans to (bytes, media type) or None."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Logo image")
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", LOGO_HELP)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if not upload:
            return None
        if upload.size > MAX_LOGO_BYTES:
            raise ValidationError(f"A logo may be at most {MAX_LOGO_BYTES // 1024} KiB.", code="too_large")
        content = upload.read(MAX_LOGO_BYTES + 1)
        media_type = sniff_image_type(content[:16])
        if media_type is None:
            raise ValidationError("A logo must be a PNG, JPEG, GIF or WebP image (SVG is not accepted).", code="type")
        return content, media_type


def logo_store(*, content: bytes, media_type: str) -> Logo:
    """Store verified logo bytes once per digest; the Logo row (re-used for identical bytes)."""
    digest = "sha256:" + hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        blob = blob_commit_verified(digest=digest, size=len(content), data=content, media_type=media_type)
        logo, _ = Logo.objects.get_or_create(digest=digest, defaults={"blob_id": blob.pk, "media_type": media_type})
    return logo


def logo_changes(form: forms.Form, changes: dict) -> dict:
    """`changes` with `logo` set to the uploaded logo's URL under SITE_URL, when one was uploaded
    (the `logo` model fields and the NGC API carry absolute http(s) URLs; the request's host may be
    an internal name the URL validator refuses)."""
    uploaded = form.cleaned_data.get("logo_file")
    if uploaded:
        logo = logo_store(content=uploaded[0], media_type=uploaded[1])
        changes = {**changes, "logo": site_url() + reverse("artifacts:logo", args=[logo.digest])}
    changes.pop("logo_file", None)
    return changes
