"""The portal's form fields for the display metadata every artifact kind shares (Edit Details,
guide 3.5.1, 4.2, 6.3.2). Forms parse input; the kind's service applies artifacts.core.metadata."""
from django import forms

from artifacts.core.metadata import labels_from_text
from artifacts.core.models import ArtifactCore
from artifacts.logos import LogoUploadField

MARKDOWN_HELP = "Markdown: headings, lists, links, tables and fenced code. Raw HTML is removed."


class LabelsField(forms.CharField):
    """Labels typed comma-separated: a list once cleaned, shown joined again."""

    def __init__(self, *, example: str | None = None, **kwargs):
        help_text = f"Separate labels with commas, e.g. {example}." if example else "Separate labels with commas."
        super().__init__(label="Labels", required=False, help_text=help_text, **kwargs)

    def to_python(self, value) -> list[str]:
        return labels_from_text(super().to_python(value))

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, (list, tuple)) else value


class ArtifactMetadataForm(forms.Form):
    """The shared Edit Details fields; a kind's form adds its descriptions and own fields."""

    display_name = forms.CharField(label="Display name", required=False, max_length=255)
    overview = forms.CharField(
        label="Overview", required=False, widget=forms.Textarea(attrs={"rows": 14, "class": "monospace"}),
        help_text=MARKDOWN_HELP,
    )
    logo = forms.CharField(label="Logo URL", required=False, help_text="An http(s) URL of an image.")
    logo_file = LogoUploadField()
    publisher = forms.CharField(label="Publisher", required=False, max_length=255)
    built_by = forms.CharField(label="Built by", required=False, max_length=255)

    @staticmethod
    def initial_of(artifact: ArtifactCore | None, names) -> dict:
        """The form's initial values: the artifact's fields of these names (none for a new one)."""
        return {name: getattr(artifact, name) for name in names if hasattr(artifact, name)} if artifact else {}

    def changes(self) -> dict:
        """Keyword arguments for the kind's create/update service."""
        data = dict(self.cleaned_data)
        data.pop("logo_file", None)  # stored by artifacts.logos.logo_changes
        return data
