"""Forms of the portal's GPU host pages. They parse input; artifacts.gpu.services validates and decides."""
from django import forms

from artifacts.core.forms import LabelsField
from artifacts.gpu.models import GpuHost


def gpus_to_text(gpus) -> str:
    return "\n".join(
        ", ".join(part for part in (gpu.get("name", ""), gpu.get("computeCapability", ""), gpu.get("brand", "")) if part)
        for gpu in gpus or []
    )


class GpuHostForm(forms.Form):
    """Add / Edit a GPU host. GPUs one per line: `name, compute capability[, brand]`."""

    name = forms.CharField(label="Name", max_length=63, help_text="Letters, digits, '.', '_' or '-'; at most 63.")
    architecture = forms.CharField(label="Architecture", max_length=32, help_text="amd64, arm64, ... (x86_64 and aarch64 are accepted).")
    variant = forms.CharField(label="Variant", required=False, max_length=16)
    os = forms.CharField(label="OS", required=False, max_length=32, initial="linux")
    driver_version = forms.CharField(label="Driver version", required=False, max_length=32, help_text="NVIDIA driver, e.g. 550.54.15.")
    cuda_version = forms.CharField(label="Max CUDA", required=False, max_length=16, help_text="nvidia-smi's \"CUDA Version\", e.g. 12.4.")
    gpus = forms.CharField(
        label="GPUs", required=False, widget=forms.Textarea(attrs={"rows": 4, "class": "monospace"}),
        help_text="One per line: name, compute capability[, brand], e.g. NVIDIA H100 80GB HBM3, 9.0. The brand is guessed when left out.",
    )
    labels = LabelsField()

    def __init__(self, *args, host: GpuHost | None = None, **kwargs):
        self.host = host
        initial = kwargs.pop("initial", {})
        if host is not None:
            initial = {
                "name": host.name, "architecture": host.architecture, "variant": host.variant, "os": host.os,
                "driver_version": host.driver_version, "cuda_version": host.cuda_version,
                "gpus": gpus_to_text(host.gpus), "labels": host.labels,
            }
        super().__init__(*args, initial=initial, **kwargs)
        if host is not None:
            self.fields["name"].disabled = True
            self.fields["name"].help_text = "A host keeps its name."

    def clean_gpus(self) -> list[dict]:
        gpus = []
        for number, line in enumerate(self.cleaned_data["gpus"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split(",")]
            if len(parts) > 3:
                raise forms.ValidationError(f"Line {number}: at most name, compute capability, brand.")
            gpu = {"name": parts[0], "computeCapability": parts[1] if len(parts) > 1 else ""}
            if len(parts) > 2 and parts[2]:
                gpu["brand"] = parts[2]
            gpus.append(gpu)
        return gpus

    def changes(self) -> dict:
        data = self.cleaned_data
        fields = {key: data[key] for key in ("architecture", "variant", "driver_version", "cuda_version", "gpus", "labels")}
        fields["os"] = data["os"] or "linux"
        return fields
