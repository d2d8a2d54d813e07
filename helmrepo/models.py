"""Helm charts: a chart `<org>[/<team>]/<name>` (guide 6.3.2, 6.4.3) and its versions.

A version is one pushed package (`<name>-<version>.tgz`); its bytes are a content-addressed
artifacts.Blob (PROTECT: the GC cannot remove a package a version still points at). What the
package's Chart.yaml said is copied into columns (and `chart_metadata`), so index.yaml is rendered
from rows without opening a single package. `Chart.latest_version` is the highest by SemVer
precedence (artifacts.versioned.semver), kept by helmrepo.services on every push and delete.
"""
from django.conf import settings
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.db.models import Q

from accounts.roles import Service
from artifacts.core.models import ArtifactCore

# SemVer 2.0.0 (semver.org's grammar): MAJOR.MINOR.PATCH[-pre][+build], no leading zeros, no 'v'.
SEMVER2_PATTERN = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
semver2_validator = RegexValidator(SEMVER2_PATTERN, "Use a SemVer 2 version, e.g. 1.2.3 or 1.2.3-rc.1+build.5.")
sha256_hex_validator = RegexValidator(r"^[0-9a-f]{64}$", "A SHA-256 digest in lowercase hex.")


class Chart(ArtifactCore):
    """A Helm chart record; written only by helmrepo.services. Its name follows Helm's own rule for
    chart names (lowercase letters, digits, '-', '_' or '.'), which is the NGC name grammar."""

    short_description = models.CharField(max_length=1000)
    latest_version = models.ForeignKey(
        "ChartVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The highest version by SemVer precedence; pulls use it when none is named.",
    )

    class Meta:
        ordering = ["org__name", "team__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["org", "team", "name"], condition=Q(team__isnull=False), name="helm_chart_unique_name_in_team"
            ),
            models.UniqueConstraint(fields=["org", "name"], condition=Q(team__isnull=True), name="helm_chart_unique_name_in_org"),
            models.CheckConstraint(condition=~Q(short_description=""), name="helm_chart_short_description_required"),
        ]

    @property
    def service(self) -> str:
        return Service.HELM


class ChartVersion(models.Model):
    """One pushed chart package and what its Chart.yaml declared."""

    chart = models.ForeignKey(Chart, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=128, validators=[semver2_validator])
    app_version = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True, validators=[MaxLengthValidator(100_000)])
    api_version = models.CharField(max_length=16, help_text="Chart.yaml apiVersion: v1 or v2.")
    dependencies = models.JSONField(default=list, blank=True, help_text="Chart.yaml dependencies, as declared.")
    chart_metadata = models.JSONField(
        default=dict, blank=True,
        help_text="The other Chart.yaml fields index.yaml repeats (type, keywords, home, sources, maintainers, icon, ...).",
    )
    files = models.JSONField(default=list, blank=True, help_text='The package members: [{"path": ..., "size": ...}].')
    package = models.ForeignKey("artifacts.Blob", on_delete=models.PROTECT, related_name="helm_chart_versions")
    size = models.BigIntegerField(help_text="Bytes of the .tgz.")
    digest = models.CharField(max_length=64, validators=[sha256_hex_validator], help_text="sha256 of the .tgz, hex.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["chart", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["chart", "version"], name="helm_chart_version_unique"),
            models.CheckConstraint(condition=Q(size__gte=0), name="helm_chart_version_size_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.chart}:{self.version}"

    @property
    def filename(self) -> str:
        return f"{self.chart.name}-{self.version}.tgz"
