"""helmrepo.index writes YAML that reads back to exactly what the rows hold, for any string
(property tests over all of Unicode: C0/C1 controls, NEL, U+2028/U+2029, BOM, U+FFFE/U+FFFF,
lone surrogates), and whatever Chart.yaml parsing accepts reaches index.yaml unchanged.

Two readers check every output: PyYAML's pure-Python reader and libyaml's (the C library that
Helm's Go YAML package is a port of, with the same printable set and escapes). Go itself is not
run: its YAML package is not in Go's standard library and nothing may be downloaded here."""
import re
from datetime import datetime, timezone

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from helmrepo.chart_yaml import InvalidPackage, parse_chart_yaml
from helmrepo.index import flow, render_rows

SETTINGS = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
# Anything but what YAML calls printable, less line breaks (what both readers take raw in a quoted scalar).
NOT_RAW_SAFE = re.compile(r"[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
AWKWARD = "\x00\t\n\r\x1b\x7f\x85\x9b\xa0\u2028\u2029\ud800\udfff\ufeff\ufffe\uffff\U0001f600\"\\' :#-&*!|>%@`{}[],?"

# Every code point, surrogates included, with the awkward ones drawn often.
characters = st.one_of(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, categories=None), st.sampled_from(AWKWARD))
texts = st.text(characters, max_size=40)
names = st.text(characters, min_size=1, max_size=40)  # a maintainer needs a name
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


def read_back(text: str, *, libyaml: bool = True):
    value = yaml.load(text, Loader=yaml.SafeLoader)
    if libyaml:
        assert yaml.load(text, Loader=yaml.CSafeLoader) == value
    return value


def has_surrogate(value) -> bool:
    return bool(re.search(r"[\ud800-\udfff]", repr(value)))


@SETTINGS
@given(json_values)
def test_every_value_a_row_may_hold_is_written_as_yaml_that_reads_back_the_same(value):
    text = flow(value)
    assert not NOT_RAW_SAFE.search(text), text
    # libyaml (like Go) refuses escapes of lone surrogates; PostgreSQL cannot store them either.
    assert read_back(f"key: {text}\n", libyaml=not has_surrogate(value)) == {"key": value}


def chart_yaml_with(description: str, keyword: str, annotation: str, maintainer: str) -> bytes:
    """A Chart.yaml holding these strings, every character written as a YAML escape (independent of flow)."""
    def quoted(text: str) -> str:
        return '"' + "".join(f"\\U{ord(c):08X}" for c in text) + '"'

    return (
        "apiVersion: v2\nname: demo\nversion: 1.0.0\n"
        f"description: {quoted(description)}\nkeywords: [{quoted(keyword)}]\n"
        f"annotations: {{note: {quoted(annotation)}}}\nmaintainers: [{{name: {quoted(maintainer)}}}]\n"
    ).encode()


@SETTINGS
@given(description=texts, keyword=texts, annotation=texts, maintainer=names)
def test_whatever_chart_yaml_parsing_accepts_the_index_gives_back(description, keyword, annotation, maintainer):
    try:
        package = parse_chart_yaml(chart_yaml_with(description, keyword, annotation, maintainer))
    except InvalidPackage as error:
        # Refused only for a control character or an escaped lone surrogate, and said so.
        assert "control character" in str(error) or "invalid Unicode character escape" in str(error), error
        assert re.search(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]", description + keyword + annotation + maintainer)
        return
    row = {
        "chart__name": package.name, "version": package.version, "app_version": package.app_version,
        "description": package.description, "api_version": package.api_version, "dependencies": package.dependencies,
        "chart_metadata": package.metadata, "created_at": datetime(2026, 1, 2, tzinfo=timezone.utc), "digest": "0" * 64,
    }
    entry = read_back(render_rows([row], generated=datetime.now(timezone.utc)).decode("utf-8"))["entries"]["demo"][0]
    assert entry.get("description", "") == description
    assert entry["keywords"] == [keyword] and entry["annotations"] == {"note": annotation}
    assert entry["maintainers"] == [{"name": maintainer}]
