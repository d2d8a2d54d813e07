"""Dense rules of models and resources: file path grammar, choice spellings, SemVer ordering, metrics limits."""
from types import SimpleNamespace

import pytest

from registry_portal.errors import InvalidInput
from artifacts.versioned.choices import normalise_choice
from artifacts.versioned.paths import InvalidPath, validate_relative_path
from artifacts.versioned.semver import semver_desc
from artifacts.versioned.services import validate_custom_metrics


@pytest.mark.parametrize("path", ["a.bin", "sub/dir/b.bin", "weird name (1).txt", "x" * 255])
def test_a_relative_path_is_accepted_unchanged(path):
    assert validate_relative_path(path) == path


@pytest.mark.parametrize(
    "path",
    ["", "/etc/passwd", "../up", "a/../b", "a/./b", "a//b", "a/", "a\\b", "a\x00b", "C:/x", "x" * 256, "a/" * 600 + "b"],
)
def test_an_unsafe_path_is_refused(path):
    with pytest.raises(InvalidPath):
        validate_relative_path(path)


@pytest.mark.parametrize(
    "field, given, stored",
    [
        ("application", "OBJECT_DETECTION", "Object Detection"),
        ("application", "Object Detection", "Object Detection"),
        ("application", "nlp", "Natural Language Processing"),
        ("framework", "TransferLearningToolkit", "Transfer Learning Toolkit"),
        ("framework", "NeMo/PyTorch", "NeMo/PyTorch"),
        ("precision", "fp16", "FP16"),
        ("modelFormat", "TENSOR_RT_PLAN", "TensorRT Plan"),
        ("modelFormat", "cpkt", "cpkt"),  # free text in the CLI, kept as given
        ("precision", None, ""),
    ],
)
def test_choices_accept_the_cli_and_the_web_spellings(field, given, stored):
    assert normalise_choice(field, given) == stored


def test_an_unknown_precision_is_refused_with_the_valid_list():
    with pytest.raises(InvalidInput, match="FP16, FP32"):
        normalise_choice("precision", "FP64")


def test_semver_ordering_puts_releases_above_pre_releases_and_other_strings_last():
    rows = [SimpleNamespace(version=v, created_at=i, pk=i) for i, v in enumerate(
        ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0", "v1.1", "old", "new", "10.0.0"]
    )]
    assert [r.version for r in semver_desc(rows)] == [
        "10.0.0", "v1.1", "1.0.0", "1.0.0-beta.11", "1.0.0-beta.2", "1.0.0-alpha.1", "1.0.0-alpha", "new", "old",
    ]


def test_metrics_tables_need_names_and_string_pairs():
    with pytest.raises(InvalidInput, match="needs a name"):
        validate_custom_metrics([{"attributes": []}])
    with pytest.raises(InvalidInput, match="string key"):
        validate_custom_metrics([{"name": "T", "attributes": [{"key": "k", "value": 1}]}])
    table = {"name": "T", "attributes": [{"key": "k", "value": "v"}] * 12}
    assert validate_custom_metrics([table] * 3) == [table] * 3
