"""GPU hosts of an org and the stored verdicts "will this image platform run on that host"
(imported from artifacts/models.py, so they live in app `artifacts`)."""
from django.conf import settings
from django.db import models
from django.db.models import Q

HOST_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"


class GpuHost(models.Model):
    """A machine of an org's GPU fleet: what an image's requirements are checked against."""

    org = models.ForeignKey("accounts.Org", on_delete=models.CASCADE, related_name="gpu_hosts")
    name = models.CharField(max_length=63)
    architecture = models.CharField(max_length=32, help_text="CPU architecture in OCI terms: amd64, arm64, ...")
    variant = models.CharField(max_length=16, blank=True)
    os = models.CharField(max_length=32, default="linux")
    driver_version = models.CharField(max_length=32, blank=True, help_text="NVIDIA driver, e.g. 550.54.15")
    cuda_version = models.CharField(max_length=16, blank=True, help_text="The highest CUDA version the driver supports")
    gpus = models.JSONField(default=list, blank=True, help_text='[{"name", "computeCapability", "brand"}]')
    labels = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["org", "name"], name="gpu_host_unique_per_org"),
            models.CheckConstraint(condition=Q(name__regex=HOST_NAME_PATTERN), name="gpu_host_name_grammar"),
        ]

    def __str__(self) -> str:
        return f"{self.org.name}/{self.name}"


class GpuVerdict(models.Model):
    """One image platform (an image manifest; an index's children each get their own) on one host."""

    COMPATIBLE, INCOMPATIBLE, UNKNOWN = "compatible", "incompatible", "unknown"
    STATUSES = [(COMPATIBLE, "compatible"), (INCOMPATIBLE, "incompatible"), (UNKNOWN, "unknown")]

    manifest = models.ForeignKey("artifacts.Manifest", on_delete=models.CASCADE, related_name="gpu_verdicts")
    host = models.ForeignKey(GpuHost, on_delete=models.CASCADE, related_name="verdicts")
    status = models.CharField(max_length=16, choices=STATUSES)
    reasons = models.JSONField(default=list, blank=True)
    platform = models.CharField(max_length=80, blank=True)
    requirement = models.TextField(blank=True, help_text="The requirement checked (after CUDA_VERSION derivation)")
    checked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["manifest", "host"], name="gpu_verdict_unique")]

    def __str__(self) -> str:
        return f"{self.manifest_id} on {self.host_id}: {self.status}"
