"""artifacts.core.metadata: one labels rule for every artifact kind and GPU hosts (at most 50 labels
of at most 100 characters, refused rather than cut), and ValidationError as InvalidInput."""
import pytest

from artifacts import services as container_services
from artifacts.core.metadata import MAX_LABEL_LENGTH, MAX_LABELS, clean_labels, full_clean_or_invalid
from artifacts.gpu import services as gpu_services
from artifacts.versioned import services as versioned_services
from artifacts.versioned.models import VersionedArtifact
from helmrepo import services as helm_services
from registry_portal.errors import InvalidInput

TOO_LONG = ["x" * (MAX_LABEL_LENGTH + 1)]
TOO_MANY = [f"label {n}" for n in range(MAX_LABELS + 1)]


def test_labels_are_trimmed_deduplicated_and_kept_in_order():
    assert clean_labels(["  Machine   Learning ", "", "NLP", "Machine Learning", " "]) == ["Machine Learning", "NLP"]
    assert clean_labels(["x" * MAX_LABEL_LENGTH] + [str(n) for n in range(MAX_LABELS - 1)])[0] == "x" * MAX_LABEL_LENGTH


@pytest.mark.parametrize("labels", [TOO_LONG, TOO_MANY, "NLP", [1, 2], None])
def test_labels_beyond_the_rule_are_refused(labels):
    with pytest.raises(InvalidInput) as refused:
        clean_labels(labels)
    assert refused.value.field == "labels"


@pytest.mark.django_db
@pytest.mark.parametrize("labels", [TOO_LONG, TOO_MANY])
def test_every_kind_refuses_the_same_labels(personas, labels):
    owner, space = personas.owner, personas.alpha_space
    writes = [
        lambda: container_services.repository_create(actor=owner, space=space, path="app", labels=labels),
        lambda: versioned_services.artifact_create(actor=owner, space=space, kind="models", name="bert", labels=labels),
        lambda: helm_services.chart_create(actor=owner, space=space, name="demo", short_description="Demo", labels=labels),
        lambda: gpu_services.host_create(actor=owner, org=personas.acme, name="dgx-1", architecture="amd64", labels=labels),
    ]
    for write in writes:
        with pytest.raises(InvalidInput, match="(?i)at most"):
            write()


def test_a_validation_error_becomes_invalid_input_naming_the_field():
    artifact = VersionedArtifact(kind="models", name="Not A Name")
    with pytest.raises(InvalidInput) as refused:
        full_clean_or_invalid(artifact, exclude=["org", "team"], validate_constraints=False)
    assert refused.value.field == "name" and str(refused.value).startswith("name: Use 1-64 lowercase letters")
