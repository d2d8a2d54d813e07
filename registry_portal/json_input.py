"""JSON from clients, parsed with a bounded nesting depth.

Python's json module recurses once per nested array or object, so a body of 100,000 `[` raises
RecursionError (an HTML 500 before any view code runs, with or without credentials). Every parse of
client JSON goes through `loads` (DRF bodies through `JSONParser`, registry manifests and image
configs, query-string JSON): it measures the nesting with a linear scan first and refuses anything
deeper than MAX_JSON_DEPTH with `JSONTooDeep`, a ValueError, so callers that already turn
ValueError into a 400 in their own face's format need nothing else.
"""
import codecs
import json
import operator
import re
from itertools import accumulate, count
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json as drf_json

# Far above what any manifest, image config or API body nests (about 5), far below the
# interpreter's recursion limit (1000) minus the frames of a request.
MAX_JSON_DEPTH = 64

# A JSON string literal (escapes included), whose brackets do not nest anything.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# Outside strings, valid JSON is ASCII: keep only brackets, openers as 2 and closers as 0, so the
# depth after the i-th bracket is (running sum - i), all computed in C.
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[{]}"))


class JSONTooDeep(ValueError):
    pass


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in `text` (0 for a scalar). Linear in the text,
    no recursion; malformed text yields some number and is then refused by the parser."""
    steps = _STRING.sub("", text).encode("ascii", "replace").translate(_BRACKET_STEPS, _NOT_BRACKETS)
    return max(map(operator.sub, accumulate(steps), count(1)), default=0)


def loads(data: str | bytes | bytearray, *, max_depth: int = MAX_JSON_DEPTH, **kwargs: Any) -> Any:
    """`json.loads`, refusing nesting deeper than `max_depth` (JSONTooDeep, a ValueError) and, as
    DRF does, NaN and Infinity, which are not JSON (an `int()` of them would raise past a 400)."""
    kwargs.setdefault("parse_constant", drf_json.strict_constant)
    text = data.decode(json.detect_encoding(data)) if isinstance(data, (bytes, bytearray)) else data
    # perf: a text with few openers cannot be deep (nearly every body); only others are scanned
    if text.count("[") + text.count("{") > max_depth and nesting_depth(text) > max_depth:
        raise JSONTooDeep(f"JSON nested deeper than {max_depth} levels")
    return json.loads(text, **kwargs)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser (set in REST_FRAMEWORK) on top of `loads`: a body nested too deep is a
    400 ParseError in the API's error envelope like any other malformed JSON."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = codecs.getreader(encoding)(stream).read()
            return loads(text, **({} if self.strict else {"parse_constant": None}))
        except ValueError as exc:  # UnicodeDecodeError and JSONTooDeep included
            raise ParseError(f"JSON parse error - {exc}") from None
