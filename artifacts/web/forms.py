"""Forms of the Private Registry's cross-kind pages."""
from django import forms


class ContainerRecordForm(forms.Form):
    path = forms.CharField(
        label="Repository name", max_length=200,
        help_text="Within the current space, e.g. my-app or tools/my-app: lower-case letters, digits, . _ __ - and /.",
    )
    display_name = forms.CharField(label="Display name", max_length=255, required=False)
    description = forms.CharField(label="Short description", max_length=1000, required=False)
    labels = forms.CharField(label="Labels", required=False, help_text="Comma separated.")

    def fields_for_service(self) -> dict:
        data = self.cleaned_data
        values = {"path": data["path"].strip()}
        if data["display_name"]:
            values["display_name"] = data["display_name"]
        if data["description"]:
            values["description"] = data["description"]
        labels = [label.strip() for label in data["labels"].split(",") if label.strip()]
        if labels:
            values["labels"] = labels
        return values
