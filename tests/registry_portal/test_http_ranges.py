"""The one Range parser every download uses (RFC 9110 §14): what each header value selects."""
import pytest

from registry_portal.http_ranges import ByteRange, RangeNotSatisfiable, parse_range

SIZE = 1000


@pytest.mark.parametrize(
    ("header", "window"),
    [
        ("bytes=0-499", (0, 499)),
        ("bytes=500-999", (500, 999)),
        ("bytes=500-", (500, 999)),  # open range
        ("bytes=-500", (500, 999)),  # suffix range: the last 500 bytes
        ("bytes=-5000", (0, 999)),  # a suffix longer than the file is the whole file
        ("bytes=900-99999", (900, 999)),  # a last position past the end is clamped
        ("bytes=999-999", (999, 999)),
        ("BYTES=10-19", (10, 19)),  # the unit is case-insensitive
        ("bytes= 10-19 ", (10, 19)),
        ("bytes=10-19,", (10, 19)),  # empty list elements are allowed
    ],
)
def test_a_single_satisfiable_range_selects_its_window(header, window):
    assert parse_range(header, SIZE) == ByteRange(*window, SIZE)


@pytest.mark.parametrize(
    "header",
    [
        None, "",
        "items=0-9",  # unknown unit
        "bytes=0-9,20-29",  # several ranges: the whole body
        "bytes=2000-,10-19",  # one satisfiable among several is still several
        "bytes=9-0",  # last before first: invalid, ignored
        "bytes=0--1",  # NVIDIA's client for an empty file: invalid, ignored
        "bytes=abc", "bytes=", "bytes", "bytes=1-2-3", "bytes=²-5", "bytes=0x10-20",
    ],
)
def test_it_ignores_what_it_may_ignore_and_sends_the_whole_body(header):
    assert parse_range(header, SIZE) is None


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=1000-2000", "bytes=-0", "bytes=5000-,6000-7000", "bytes=99999999999999999999999-"])
def test_it_refuses_a_set_with_no_satisfiable_range(header):
    with pytest.raises(RangeNotSatisfiable) as refused:
        parse_range(header, SIZE)
    assert refused.value.content_range == "bytes */1000"


def test_an_empty_representation_ignores_any_range():
    assert parse_range("bytes=0-", 0) is None
    assert parse_range("bytes=-1", 0) is None


def test_positions_past_any_file_are_not_converted_digit_by_digit():
    assert parse_range("bytes=0-" + "9" * 5000, SIZE) == ByteRange(0, 999, SIZE)
    assert parse_range("bytes=-" + "9" * 5000, SIZE) == ByteRange(0, 999, SIZE)
