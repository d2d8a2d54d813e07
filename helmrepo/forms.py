"""Forms of the portal's Helm chart pages. They parse input; helmrepo.services decides."""
from django import forms

from artifacts.core.forms import ArtifactMetadataForm, LabelsField
from helmrepo.models import Chart


class ChartDetailsForm(ArtifactMetadataForm):
    """Edit Details (guide 6.3.2): the fields of `ngc registry chart update` and of the PATCH body (6.5.1)."""

    short_description = forms.CharField(
        label="Short description", max_length=1000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One line shown on the chart's card. Required.",
    )
    labels = LabelsField(example="Helm Chart, Documentation")

    def __init__(self, *args, chart: Chart | None = None, **kwargs):
        super().__init__(*args, initial=self.initial_of(chart, self.base_fields), **kwargs)


class ChartCreateForm(ChartDetailsForm):
    """Create Helm Chart (guide 6.3.2): a chart record before its first push; the name plus the
    Edit Details fields. Names are checked by helmrepo.services (the model's validator)."""

    name = forms.CharField(
        label="Name", max_length=64,
        help_text="Lowercase letters, digits, '.', '_' and '-'; the name `helm push` packages must carry.",
    )
    field_order = ["name", "display_name", "short_description", "overview", "labels", "logo", "publisher", "built_by"]

    def fields_for_service(self) -> dict:
        """Keyword arguments for helmrepo.services.chart_create."""
        return self.changes()
