"""Output in the guide's styles: ascii tables with +----+ borders, csv, json; info blocks."""
import csv
import datetime as dt
import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def human_date(value: object) -> str:
    """An ISO timestamp as the guide prints dates ("Mar 05, 2024"); anything else as it is."""
    if not value:
        return ""
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).strftime("%b %d, %Y")
    except ValueError:
        return str(value)


def ascii_table(columns: Sequence[str], rows: Iterable[Iterable[object]]) -> str:
    cells = [[_cell(c) for c in row] for row in rows]
    widths = [len(c) for c in columns]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(value))
    border = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(values: Iterable[str]) -> str:
        return "|" + "|".join(f" {v:<{w}} " for v, w in zip(values, widths)) + "|"

    out = [border, line(columns), border]
    out += [line(row) for row in cells]
    out.append(border)
    return "\n".join(out)


class Printer:
    def __init__(self, format_type: str = "ascii", stream: TextIO | None = None):
        self.format = format_type
        self.stream = stream or sys.stdout

    def write(self, text: str = "") -> None:
        self.stream.write(text + "\n")

    def json(self, obj: Any) -> None:
        self.write(json.dumps(obj, indent=2, sort_keys=True, default=str))

    def table(self, columns: Sequence[str], rows: Iterable[Iterable[object]], json_obj: Any = None) -> None:
        """A listing. json: `json_obj` if given, else a list of {column: value}."""
        rows = [list(r) for r in rows]
        if self.format == "json":
            self.json(json_obj if json_obj is not None else [dict(zip(columns, r)) for r in rows])
        elif self.format == "csv":
            writer = csv.writer(self.stream, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_cell(c) for c in row])
        else:
            self.write(ascii_table(columns, rows))

    def info(self, title: str, pairs: Sequence[tuple[str | None, object]], json_obj: Any = None,
             header: str | None = None) -> None:
        """An information block as in the guide (2.5.2.2): dashes, ' Title', ' Key: value' lines.
        `pairs` may contain (None, "Subtitle") for a nested heading."""
        if self.format == "json":
            self.json(json_obj if json_obj is not None else {k: v for k, v in pairs if k})
            return
        if self.format == "csv":
            writer = csv.writer(self.stream, lineterminator="\n")
            keys = [k for k, _ in pairs if k]
            writer.writerow(keys)
            writer.writerow([_cell(v) for k, v in pairs if k])
            return
        if header:
            self.write(header)
        rule = "-" * 52
        self.write(rule)
        self.write(f" {title}")
        for key, value in pairs:
            if key is None:
                self.write(f" {value}")
            else:
                self.write(f" {key}: {_cell(value)}")
        self.write(rule)

    def message(self, text: str, json_obj: Any = None) -> None:
        """A one-line result ("Team created."); json mode prints `json_obj` (or {"message": text})."""
        if self.format == "json":
            self.json(json_obj if json_obj is not None else {"message": text})
        else:
            self.write(text)
