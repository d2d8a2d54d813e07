"""Forms of the portal's model and resource pages (guide 4.2, 4.6, 5.4). They parse input and offer
the dropdowns of artifacts.versioned.choices; artifacts.versioned.services decides."""
from django import forms

from accounts.models import RoleBinding, User
from artifacts.core.forms import MARKDOWN_HELP, ArtifactMetadataForm, LabelsField
from artifacts.versioned import choices
from artifacts.versioned.models import ArtifactKind, VersionedArtifact
from registry_portal.names import NAME_PATTERN, NAME_RULE

RESOURCE_DOCS = (
    ("advanced_guide", "Advanced guide"), ("performance", "Performance"), ("quick_start_guide", "Quick start guide"),
    ("release_notes", "Release notes"), ("setup_guide", "Setup"),
)


def _dropdown(values: tuple[str, ...], current: str = "") -> list[tuple[str, str]]:
    options = [("", "—"), *((value, value) for value in values)]
    if current and current not in values:  # a value stored through the CLI stays selectable
        options.append((current, current))
    return options


def owner_choices(space, current: str = "") -> list[tuple[str, str]]:
    """Members of the space (org-level bindings, and the team's for a team), by name: one query."""
    bindings = RoleBinding.objects.filter(org=space.org)
    bindings = bindings.filter(team__isnull=True) | bindings.filter(team=space.team) if space.team else bindings
    users = User.objects.filter(role_bindings__in=bindings).distinct().order_by("name", "email").values_list("name", "email")
    names = []
    for name, email in users:
        label = name or email
        if label not in names:
            names.append(label)
    if current and current not in names:
        names.append(current)
    return [("", "—"), *((name, name) for name in names)]


class ArtifactDetailsForm(ArtifactMetadataForm):
    """The fields of guide 4.2 (and 5.4 for resources): what Edit Details changes and Create sets.
    The overview is `description` here (NGC's spelling for models)."""

    overview = None
    owner_name = forms.ChoiceField(label="Owner", required=False, help_text="The person who owns this asset.")
    short_description = forms.CharField(
        label="Description", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One or two sentences shown in lists.",
    )
    description = forms.CharField(
        label="Overview", required=False, max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 14, "class": "monospace"}), help_text=MARKDOWN_HELP,
    )
    labels = LabelsField(example="NLP, BERT")
    application = forms.ChoiceField(label="Application", required=False, help_text="Intended use case.")
    framework = forms.ChoiceField(label="Training framework", required=False)
    model_format = forms.ChoiceField(label="Model format", required=False, help_text="Output format of the weights file.")
    precision = forms.ChoiceField(label="Precision", required=False, help_text="Training precision used.")
    logo = forms.URLField(label="Logo URL", required=False, max_length=1000, assume_scheme="https", help_text="An http(s) URL of an image.")
    public_dataset_name = forms.CharField(label="Public dataset name", required=False, max_length=255)
    public_dataset_link = forms.CharField(label="Public dataset link", required=False, max_length=1000)
    public_dataset_license = forms.CharField(label="Public dataset license", required=False, max_length=255)

    def __init__(self, *args, kind: str, space, artifact: VersionedArtifact | None = None, **kwargs):
        initial = self.initial_of(artifact, self.base_fields) if artifact else kwargs.pop("initial", {})
        super().__init__(*args, initial=initial, **kwargs)
        self.kind = kind
        if artifact is None:
            del self.fields["logo_file"]  # an upload belongs to Edit Details (its form is multipart)
        current = (lambda name: getattr(artifact, name, "") if artifact else "")
        self.fields["owner_name"].choices = owner_choices(space, current("owner_name"))
        self.fields["application"].choices = _dropdown(choices.APPLICATIONS, current("application"))
        self.fields["framework"].choices = _dropdown(choices.FRAMEWORKS, current("framework"))
        self.fields["model_format"].choices = _dropdown(choices.MODEL_FORMATS, current("model_format"))
        self.fields["precision"].choices = _dropdown(choices.PRECISIONS, current("precision"))
        if kind == ArtifactKind.RESOURCE:
            for name, label in RESOURCE_DOCS:
                self.fields[name] = forms.CharField(
                    label=label, required=False, max_length=100_000, help_text=MARKDOWN_HELP,
                    widget=forms.Textarea(attrs={"rows": 8, "class": "monospace"}), initial=current(name),
                )

    @property
    def doc_fields(self):
        return [self[name] for name, _ in RESOURCE_DOCS if name in self.fields]


class ArtifactCreateForm(ArtifactDetailsForm):
    """Create Model / Create Resource (guide 4.2): a name in the current space, then the details."""

    name = forms.RegexField(
        label="Name", regex=NAME_PATTERN, max_length=64,
        error_messages={"invalid": NAME_RULE},
        help_text="Lowercase, e.g. bert-large-qa. It is part of the download target and cannot be changed.",
    )
    field_order = ["name", "display_name", "owner_name", "short_description", "description", "labels"]
