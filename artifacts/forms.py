"""Forms of the portal's container pages. They parse input; artifacts.services decides."""
from django import forms

from artifacts.core.forms import ArtifactMetadataForm, LabelsField
from artifacts.models import Repository


class RepositoryDetailsForm(ArtifactMetadataForm):
    """Edit Details (guide 3.5.1): the metadata of `ngc registry image update`, plus the public flag
    for those who may unlock the repository (`allow_public`)."""

    description = forms.CharField(label="Short description", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    labels = LabelsField(example="Machine Learning, Retail")
    is_public = forms.BooleanField(
        label="Public (unlocked): anyone may pull without an API key", required=False,
    )

    def __init__(self, *args, repository: Repository, allow_public: bool, **kwargs):
        super().__init__(*args, initial=self.initial_of(repository, self.base_fields), **kwargs)
        if not allow_public:
            del self.fields["is_public"]

    def changes(self) -> dict:
        """Keyword arguments for artifacts.services.repository_update."""
        data = super().changes()
        if "is_public" not in self.fields:
            data.pop("is_public", None)
        return data
