"""Every CSV file Coprod produces is written here, so that each one is safe and exact:

- text that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a
  carriage return) is neutralised with a leading single quote (OWASP "CSV injection");
- money is written from integer pence with integer arithmetic, never through a float;
- the file opens correctly in Excel: UTF-8 with a byte-order mark, and CRLF line ends.

Numbers, dates and `Money` are cells our own code made, so they are written as they are: a
negative amount stays `-12.50`, a number Excel can add up. Anything else is text, and may have
come from a person.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Money:
    """An amount in integer pence, written as pounds: Money(-1250) is `-12.50`."""

    pence: int


Cell = str | int | float | Money | dt.date | None


def pounds(pence: int) -> str:
    """-1250 -> "-12.50", exactly, whatever the size of the amount."""
    whole, part = divmod(abs(pence), 100)
    return f"{'-' if pence < 0 else ''}{whole}.{part:02d}"


def cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, Money):
        return pounds(value.pence)
    if isinstance(value, bool):  # a bool is an int to Python, but no figure we write is one
        raise TypeError("write yes or no as text")
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """The whole file, as text to send or store (encode it as UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(name) for name in header])
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return BOM + out.getvalue()
