"""The display fields every artifact kind has (guide 3.5, 4.2, 6.3.2): its space, name, labels,
logo, publisher, built-by, creator and timestamps. Container repositories, models/resources and
Helm charts inherit them; their rules are in artifacts.core.metadata."""
from typing import ClassVar

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models

from registry_portal.names import name_validator


class ArtifactCore(models.Model):
    """An artifact `<org>[/<team>]/<name>`. `service` is the role-table service whose permissions
    govern it (CONTAINER, MODEL, MODELSCRIPT, HELM)."""

    org = models.ForeignKey("accounts.Org", on_delete=models.CASCADE)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE)
    name = models.CharField(max_length=64, validators=[name_validator])
    display_name = models.CharField(max_length=255, blank=True)
    labels = models.JSONField(default=list, blank=True, help_text="A list of label strings (artifacts.core.metadata).")
    logo = models.URLField(max_length=1000, blank=True, validators=[URLValidator(schemes=["http", "https"])])
    publisher = models.CharField(max_length=255, blank=True)
    built_by = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    service: ClassVar[str]

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.resource_id

    @property
    def resource_id(self) -> str:
        """`org/[team/]name`, as the CLI writes targets."""
        if self.team_id is not None:
            return f"{self.org.name}/{self.team.name}/{self.name}"
        return f"{self.org.name}/{self.name}"
