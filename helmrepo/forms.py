"""Forms of the portal's Helm chart pages. They parse input; helmrepo.services decides."""
from django import forms

from artifacts.logos import LogoUploadField
from helmrepo.models import Chart


class ChartDetailsForm(forms.Form):
    """Edit Details (guide 6.3.2): the fields of `ngc registry chart update` and of the PATCH body (6.5.1)."""

    display_name = forms.CharField(label="Display name", required=False, max_length=255)
    short_description = forms.CharField(
        label="Short description", max_length=1000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One line shown on the chart's card. Required.",
    )
    overview = forms.CharField(
        label="Overview", required=False, widget=forms.Textarea(attrs={"rows": 14, "class": "monospace"}),
        help_text="Markdown: headings, lists, links, tables and fenced code. Raw HTML is removed.",
    )
    labels = forms.CharField(label="Labels", required=False, help_text="Separate labels with commas, e.g. Helm Chart, Documentation.")
    logo = forms.CharField(label="Logo URL", required=False, help_text="An http(s) URL of an image.")
    logo_file = LogoUploadField()
    publisher = forms.CharField(label="Publisher", required=False, max_length=255)
    built_by = forms.CharField(label="Built by", required=False, max_length=255)

    def __init__(self, *args, chart: Chart, **kwargs):
        initial = {name: getattr(chart, name) for name in ("display_name", "short_description", "overview", "logo", "publisher", "built_by")}
        initial["labels"] = ", ".join(chart.labels or [])
        super().__init__(*args, initial=initial, **kwargs)

    def clean_labels(self) -> list[str]:
        return [label.strip() for label in self.cleaned_data["labels"].split(",") if label.strip()]

    def changes(self) -> dict:
        """Keyword arguments for helmrepo.services.chart_update."""
        data = dict(self.cleaned_data)
        data.pop("logo_file", None)  # stored by artifacts.logos.logo_changes
        return data


class ChartCreateForm(ChartDetailsForm):
    """Create Helm Chart (guide 6.3.2): a chart record before its first push; the name plus the
    Edit Details fields. Names are checked by helmrepo.services (the model's validator)."""

    name = forms.CharField(
        label="Name", max_length=64,
        help_text="Lowercase letters, digits, '.', '_' and '-'; the name `helm push` packages must carry.",
    )
    field_order = ["name", "display_name", "short_description", "overview", "labels", "logo", "publisher", "built_by"]

    def __init__(self, *args, **kwargs):
        forms.Form.__init__(self, *args, **kwargs)

    def fields_for_service(self) -> dict:
        """Keyword arguments for helmrepo.services.chart_create."""
        return self.changes()
