"""The display fields every artifact kind has (guide 3.5, 4.2, 6.3.2): its space, name, labels,
logo, publisher, built-by, creator and timestamps. Container repositories, models/resources and
Helm charts inherit them; their rules are in artifacts.core.metadata."""
from django.conf import settings
from django.core.validators import MaxLengthValidator, URLValidator
from django.db import models

from registry_portal.names import name_validator


class ArtifactCore(models.Model):
    """An artifact `<org>[/<team>]/<name>`, governed by the permissions of its `service` (CONTAINER,
    MODEL, MODELSCRIPT, HELM). The one-line description is each kind's own
    (containers call it `description`, the others `short_description`, required for charts)."""

    org = models.ForeignKey("accounts.Org", on_delete=models.CASCADE)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE)
    name = models.CharField(max_length=64, validators=[name_validator])
    display_name = models.CharField(max_length=255, blank=True)
    overview = models.TextField(
        blank=True, validators=[MaxLengthValidator(100_000)], help_text="Markdown; render with artifacts.markdown."
    )
    labels = models.JSONField(default=list, blank=True, help_text="A list of label strings (artifacts.core.metadata).")
    logo = models.URLField(max_length=1000, blank=True, validators=[URLValidator(schemes=["http", "https"])])
    publisher = models.CharField(max_length=255, blank=True)
    built_by = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def service(self) -> str:
        """The role-table service whose permissions govern this artifact."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.resource_id

    @property
    def resource_id(self) -> str:
        """`org/[team/]name`, as the CLI writes targets."""
        if self.team_id is not None:
            return f"{self.org.name}/{self.team.name}/{self.name}"
        return f"{self.org.name}/{self.name}"
