"""The one parse of client JSON: a nesting limit checked without recursion, and only real JSON."""
import json

import pytest

from registry_portal.json_input import MAX_JSON_DEPTH, JSONTooDeep, loads, nesting_depth


def test_it_refuses_nesting_past_the_limit_without_recursing():
    for deep in ("[" * 100_000, '{"a":' * 100_000, "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)):
        with pytest.raises(JSONTooDeep):
            loads(deep)


def test_it_parses_nesting_up_to_the_limit():
    text = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert loads(text) == json.loads(text)


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = json.dumps({"a": "[" * 1000, "b": ['\\"[{' * 100], "c": "\\\\"})
    assert nesting_depth(text) == 2
    assert loads(text.encode("utf-16")) == json.loads(text)


def test_it_refuses_nan_and_infinity_which_are_not_json():
    for text in ("NaN", '{"page": Infinity}', "[-Infinity]"):
        with pytest.raises(ValueError):
            loads(text)


def test_malformed_json_is_still_a_value_error():
    for text in (b"{", b"\xff\xfe\x00", '"unterminated [[[['):
        with pytest.raises(ValueError):
            loads(text)
