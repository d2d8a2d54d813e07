"""Forms of the portal's container pages. They parse input; artifacts.services decides."""
from django import forms

from artifacts.logos import LogoUploadField
from artifacts.models import Repository


class RepositoryDetailsForm(forms.Form):
    """Edit Details (guide 3.5.1): the metadata of `ngc registry image update`, plus the public flag
    for those who may unlock the repository (`allow_public`)."""

    display_name = forms.CharField(label="Display name", required=False, max_length=255)
    description = forms.CharField(label="Short description", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    overview = forms.CharField(
        label="Overview", required=False, widget=forms.Textarea(attrs={"rows": 14, "class": "monospace"}),
        help_text="Markdown: headings, lists, links, tables and fenced code. Raw HTML is removed.",
    )
    labels = forms.CharField(label="Labels", required=False, help_text="Separate labels with commas, e.g. Machine Learning, Retail.")
    logo = forms.CharField(label="Logo URL", required=False, help_text="An http(s) URL of an image.")
    logo_file = LogoUploadField()
    publisher = forms.CharField(label="Publisher", required=False, max_length=255)
    built_by = forms.CharField(label="Built by", required=False, max_length=255)
    is_public = forms.BooleanField(
        label="Public (unlocked): anyone may pull without an API key", required=False,
    )

    def __init__(self, *args, repository: Repository, allow_public: bool, **kwargs):
        initial = {name: getattr(repository, name) for name in ("display_name", "description", "overview", "logo", "publisher", "built_by", "is_public")}
        initial["labels"] = ", ".join(repository.labels or [])
        super().__init__(*args, initial=initial, **kwargs)
        if not allow_public:
            del self.fields["is_public"]

    def clean_labels(self) -> list[str]:
        return [label.strip() for label in self.cleaned_data["labels"].split(",") if label.strip()]

    def changes(self) -> dict:
        """Keyword arguments for artifacts.services.repository_update."""
        data = dict(self.cleaned_data)
        data.pop("logo_file", None)  # stored by artifacts.logos.logo_changes
        if "is_public" not in self.fields:
            data.pop("is_public", None)
        return data
