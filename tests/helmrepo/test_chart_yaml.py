"""Chart.yaml is read at a bounded cost and within documented limits (helmrepo.chart_yaml), through
the ChartMuseum push face: every refusal is a 400 with the reason, cheap, and leaves nothing behind."""
import tracemalloc

import pytest
import yaml

from artifacts.models import Blob
from helmrepo import chart_yaml as limits
from helmrepo.models import Chart, ChartVersion
from tests.helmrepo import charts
from tests.support.helm import Helm

pytestmark = pytest.mark.django_db
# The index's cache moves on once a write commits, so tests that read it after a push commit.
reads_the_index = pytest.mark.django_db(transaction=True)
HEAD = "apiVersion: v2\nname: demo\nversion: 0.1.0\n"


def refused(client, user, data: bytes, space: str = "acme") -> str:
    """Push `data`; assert a 400 that stored nothing and allocated little (memory, not wall time: the
    unbounded parser spent 1.46 GB on the 277-byte alias bomb); return the error message."""
    helm = Helm(client, user)
    assert helm.push(space, b"not a package").status_code == 400  # the process's first request pays for imports
    tracemalloc.start()
    try:
        response = helm.push(space, data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.status_code == 400, response.content
    assert peak < 32 * 1024 * 1024, f"the refusal allocated {peak / 2**20:.1f} MiB at its peak"
    assert not Chart.objects.exists() and not ChartVersion.objects.exists() and not Blob.objects.exists()
    return response.json()["error"]


def test_it_refuses_a_yaml_alias_bomb_cheaply(client, personas):
    data = charts.alias_bomb()
    assert len(data) < 300
    message = refused(client, personas.owner, data)
    assert message == (
        f"Invalid chart package: Chart.yaml holds more than {limits.MAX_CHART_YAML_NODES} values "
        "once its aliases are expanded."
    )


def test_it_refuses_a_bomb_of_merge_keys_and_of_long_strings_too(client, personas):
    merges = HEAD + "m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10}\n" + "".join(
        f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * 10)}]}}\n" for i in range(1, 7)
    )
    assert "aliases are expanded" in refused(client, personas.owner, charts.package_of(merges))
    words = HEAD + f"s: &s {'x' * 200_000}\nkeywords: [*s, *s, *s, *s, *s, *s]\n"
    message = refused(client, personas.owner, charts.package_of(words))
    assert f"more than {limits.MAX_CHART_YAML_CHARS} characters once its aliases are expanded" in message


def test_it_refuses_an_alias_inside_the_value_it_names_and_deep_nesting(client, personas):
    assert "alias '*a' is inside the value it names" in refused(client, personas.owner, charts.package_of(HEAD + "x: &a [1, *a]\n"))
    deep = HEAD + "x: " + "[" * 65 + "]" * 65 + "\n"
    assert f"more than {limits.MAX_CHART_YAML_DEPTH} levels deep" in refused(client, personas.owner, charts.package_of(deep))


def _many(n: int, item) -> list:
    return [item(i) for i in range(n)]


LONG_LINE = "x" * (limits.MAX_LINE_CHARS + 1)
LONG_URL = "https://example.test/" + "x" * limits.MAX_URL_CHARS
OVERSIZED = {
    "description": ({"description": "x" * (limits.MAX_TEXT_CHARS + 1)}, "description is longer than 16384 characters"),
    "appVersion": ({"appVersion": LONG_LINE}, "appVersion is longer than 255 characters"),
    "keywords count": ({"keywords": _many(101, str)}, "keywords has more than 100 items"),
    "keyword length": ({"keywords": ["web", LONG_LINE]}, "keywords[1] is longer than 255 characters"),
    "home": ({"home": LONG_URL}, "home is longer than 2048 characters"),
    "sources count": ({"sources": _many(101, lambda i: f"https://example.test/{i}")}, "sources has more than 100 items"),
    "source length": ({"sources": [LONG_URL]}, "sources[0] is longer than 2048 characters"),
    "maintainers count": ({"maintainers": _many(101, lambda i: {"name": f"m{i}"})}, "maintainers has more than 100 items"),
    "maintainer email": ({"maintainers": [{"name": "Ann", "email": LONG_LINE}]}, "maintainers[0].email is longer than 255"),
    "annotations count": ({"annotations": {f"k{i}": "v" for i in range(101)}}, "annotations has more than 100 entries"),
    "annotation value": ({"annotations": {"k": "x" * (limits.MAX_TEXT_CHARS + 1)}}, "annotations['k'] is longer than 16384"),
    "dependencies count": ({"dependencies": _many(101, lambda i: {"name": f"d{i}"})}, "dependencies has more than 100 items"),
    "dependency repository": ({"dependencies": [{"name": "redis", "repository": LONG_URL}]}, "dependencies[0].repository is longer"),
    "dependency tags": ({"dependencies": [{"name": "redis", "tags": _many(101, str)}]}, "dependencies[0].tags has more than 100"),
    "all repeated fields together": (
        {"annotations": {f"k{i}": "x" * 16_000 for i in range(5)}},
        f"take more than {limits.MAX_INDEX_ENTRY_BYTES} bytes together",
    ),
    "a list for a string": ({"keywords": [["nested"]]}, "keywords[0] must be a string, not a list"),
    "a mapping for a string": ({"description": {"a": 1}}, "description must be a string, not a mapping"),
    "a maintainer without a name": ({"maintainers": [{"email": "a@example.test"}]}, "maintainers[0] has no name"),
    "deprecated not a boolean": ({"deprecated": "yes please"}, "deprecated must be true or false"),
    "an integer of 5000 digits": (HEAD + "home: " + "9" * 5000 + "\n", "Chart.yaml is not valid YAML: Exceeds the limit"),
}


@pytest.mark.parametrize("case", OVERSIZED)
def test_it_refuses_chart_fields_beyond_their_limits(client, personas, case):
    chart, expected = OVERSIZED[case]  # the fields to write, or a whole Chart.yaml
    data = charts.package_of(chart) if isinstance(chart, str) else charts.package("demo", "0.1.0", **chart)
    assert expected in refused(client, personas.owner, data)


@reads_the_index
def test_fields_at_their_limits_are_accepted_and_listed(client, personas):
    fields = {
        "description": "d" * limits.MAX_TEXT_CHARS,
        "keywords": [f"{i:03d}" + "k" * (limits.MAX_LINE_CHARS - 3) for i in range(limits.MAX_ITEMS)],
        "maintainers": [{"name": "Ann", "email": "ann@example.test", "url": "https://example.test/" + "u" * 2000}],
    }
    helm = Helm(client, personas.owner)
    assert helm.push("acme", charts.package("demo", "0.1.0", **fields)).status_code == 201
    entry = yaml.safe_load(helm.index("acme").content)["entries"]["demo"][0]
    assert entry["description"] == fields["description"] and entry["keywords"] == fields["keywords"]
    assert entry["maintainers"] == fields["maintainers"]


def test_fields_are_read_in_helms_types_and_unknown_keys_of_records_are_dropped(client, personas):
    text = HEAD + (
        "keywords: [web, 1, true]\n"
        "maintainers: [{name: Ann, email: ann@example.test, phone: 555}]\n"
        "dependencies: [{name: redis, version: 17.x, enabled: false, tags: [cache], "
        "import-values: [data, {child: a, parent: b}], extra: {deep: [1]}}]\n"
    )
    helm = Helm(client, personas.owner)
    assert helm.push("acme", charts.package_of(text)).status_code == 201
    row = ChartVersion.objects.get()
    assert row.chart_metadata == {"keywords": ["web", "1", "true"], "maintainers": [{"name": "Ann", "email": "ann@example.test"}]}
    assert row.dependencies == [
        {"name": "redis", "version": "17.x", "tags": ["cache"], "enabled": False, "import-values": ["data", {"child": "a", "parent": "b"}]}
    ]


@pytest.mark.parametrize("field, value, shown", [
    ("description", "\\x9b31m red", "U+009B"),
    ("description", "bell \\a", "U+0007"),
    ("description", "nul \\0", "U+0000"),
    ("keywords", ["\\e[2J"], "U+001B"),
    ("appVersion", "1.0\\n", "U+000A"),
    ("maintainers", [{"name": "Ann\\x85"}], "U+0085"),
])
def test_it_refuses_control_characters_in_chart_fields(client, personas, field, value, shown):
    def quoted(text: str) -> str:
        return '"' + text + '"'

    rendered = (
        quoted(value) if isinstance(value, str)
        else "[" + ", ".join(quoted(v) if isinstance(v, str) else "{name: " + quoted(v["name"]) + "}" for v in value) + "]"
    )
    message = refused(client, personas.owner, charts.package_of(HEAD + f"{field}: {rendered}\n"))
    assert f"holds the control character {shown}" in message


@reads_the_index
def test_free_text_may_hold_tabs_and_line_breaks_and_any_other_unicode(client, personas):
    description = "Line one\n\tindented\r\nBOM \ufeff, NEL-free, LS \u2028 PS \u2029, \ufffe \uffff, emoji \U0001F600"
    helm = Helm(client, personas.owner)
    data = charts.package("demo", "0.1.0", description=description, annotations={"notes": "a\tb\nc"})
    assert helm.push("acme", data).status_code == 201
    body = helm.index("acme").content
    entry = yaml.safe_load(body)["entries"]["demo"][0]
    assert entry["description"] == description and entry["annotations"] == {"notes": "a\tb\nc"}
    assert yaml.load(body, Loader=yaml.CSafeLoader)["entries"]["demo"][0]["description"] == description


@reads_the_index
def test_an_index_still_parses_when_rows_from_before_these_checks_hold_control_characters(client, personas):
    helm = Helm(client, personas.owner)
    assert helm.push("acme", charts.package("demo", "0.1.0")).status_code == 201
    legacy = "CSI \x9b NEL \x85 DEL \x7f NUL-free ESC \x1b LS \u2028 BOM \ufeff \ufffe"
    # As stored by a push before Chart.yaml parsing refused them; the index must still serve everyone.
    ChartVersion.objects.update(description=legacy, chart_metadata={"keywords": [legacy], "annotations": {"k": legacy}})
    assert helm.push("acme", charts.package("demo", "0.2.0")).status_code == 201  # bumps the cached index
    body = helm.index("acme").content
    for loader in (yaml.SafeLoader, yaml.CSafeLoader):
        entry = yaml.load(body, Loader=loader)["entries"]["demo"][1]
        assert entry["description"] == legacy and entry["keywords"] == [legacy] and entry["annotations"] == {"k": legacy}
