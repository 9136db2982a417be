"""Checking input field by field, with messages in plain English.

Handlers for pages and for the JSON API use the same checks, so a person sees the same message
whichever way they came in.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[0-9 ()-]{7,20}$")
POUNDS_RE = re.compile(r"^-?[0-9]+(\.[0-9]*)?$|^-?\.[0-9]+$")


def pounds_text(pence: int) -> str:
    """`1250` → `£12.50`, for messages (templates use the `money` filter)."""
    sign = "-" if pence < 0 else ""
    whole, rem = divmod(abs(pence), 100)
    return f"{sign}£{whole:,}.{rem:02d}"


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class ValidationFailed(Exception):
    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(e.message for e in self.errors))

    @classmethod
    def one(cls, field: str, message: str) -> ValidationFailed:
        return cls([FieldError(field, message)])

    def by_field(self) -> dict[str, str]:
        return {e.field: e.message for e in self.errors}


MAX_ID = 2**31 - 1  # an id column's largest value in every database we run on


def record_id(value: Any) -> int | None:
    """A submitted id as an int, or None when it cannot be any record's id (not ASCII digits,
    or beyond what an id column holds), so that it is simply not found."""
    if isinstance(value, bool):
        return None
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


# NUL cannot be stored in PostgreSQL text, and a lone surrogate cannot be encoded as UTF-8, so
# neither can ever be a real answer: refuse them where input is read, before any field is used.
UNSAFE_TEXT_RE = re.compile("[\x00\ud800-\udfff]")
UNSAFE_TEXT_MESSAGE = "Remove the hidden or broken characters from this answer"


def unsafe_text_errors(data: Any, field: str = "") -> list[FieldError]:
    """An error for each field (JSON objects and lists walked through) holding text that
    cannot be saved; keys are checked too, as a field name is text as well."""
    if isinstance(data, str):
        return [FieldError(field, UNSAFE_TEXT_MESSAGE)] if UNSAFE_TEXT_RE.search(data) else []
    errors: list[FieldError] = []
    if isinstance(data, Mapping):
        for key, value in data.items():
            name = str(key)
            if UNSAFE_TEXT_RE.search(name):
                errors.append(FieldError(field or "body", UNSAFE_TEXT_MESSAGE))
                continue
            errors += unsafe_text_errors(value, f"{field}.{name}" if field else name)
    elif isinstance(data, list):
        for value in data:
            errors += unsafe_text_errors(value, field)
    return list(dict.fromkeys(errors))


def check_text_is_safe(data: Any) -> None:
    if errors := unsafe_text_errors(data):
        raise ValidationFailed(errors)


class Checker:
    """Collects errors so that every field is checked before anything is saved."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: list[FieldError] = []

    def fail(self, field: str, message: str) -> None:
        if not any(e.field == field for e in self.errors):
            self.errors.append(FieldError(field, message))

    def raw(self, field: str) -> str:
        value = self.data.get(field)
        if isinstance(value, (list, dict)):
            # A JSON list or object where one answer belongs: refuse it rather than store its
            # Python spelling as text.
            self.fail(field, "Give one answer here, not a list")
            return ""
        return "" if value is None else str(value).strip()

    def text(self, field: str, label: str, *, required: bool = True, max_length: int = 200) -> str:
        value = self.raw(field)
        if required and not value:
            self.fail(field, f"Enter {label}")
        elif len(value) > max_length:
            self.fail(
                field, f"{label[0].upper()}{label[1:]} must be {max_length} characters or fewer"
            )
        return value

    def email(self, field: str, *, required: bool = True) -> str:
        value = self.raw(field).lower()
        if not value:
            if required:
                self.fail(field, "Enter an email address")
        elif len(value) > 254 or not EMAIL_RE.match(value):
            self.fail(field, "Enter an email address in the correct format, like name@example.com")
        return value

    def choice(self, field: str, label: str, options: Iterable[str]) -> str:
        value = self.raw(field)
        if value not in set(options):
            self.fail(field, f"Select {label}")
        return value

    def integer(
        self, field: str, label: str, *, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        raw = self.raw(field)
        try:
            value = int(raw)
        except ValueError:
            self.fail(field, f"{label[0].upper()}{label[1:]} must be a whole number")
            return None
        # Every whole number is stored in a 32-bit column, so none may be larger.
        maximum = MAX_ID if maximum is None else min(maximum, MAX_ID)
        if minimum is not None and value < minimum:
            self.fail(field, f"{label[0].upper()}{label[1:]} must be {minimum} or more")
        elif maximum is not None and value > maximum:
            self.fail(field, f"{label[0].upper()}{label[1:]} must be {maximum} or fewer")
        return value

    def pounds(self, field: str, label: str, *, minimum: int, maximum: int) -> int | None:
        """Pounds as people type them ("12.50", "£1,012", "7") to integer pence, through
        Decimal so no float ever rounds a penny; `minimum` and `maximum` are in pence."""
        raw = self.raw(field).replace("£", "").replace(",", "")
        name = f"{label[0].upper()}{label[1:]}"
        if not POUNDS_RE.match(raw):
            self.fail(field, f"Enter {label} in pounds, like 12.50")
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            self.fail(field, f"Enter {label} in pounds, like 12.50")
            return None
        if value != value.quantize(Decimal("0.01")):
            self.fail(field, f"{name} must be in pounds and pence, like 12.50, not smaller amounts")
            return None
        pence = int(value * 100)
        if pence < minimum:
            self.fail(field, f"{name} must be {pounds_text(minimum)} or more")
        elif pence > maximum:
            self.fail(field, f"{name} must be {pounds_text(maximum)} or less")
        return pence

    def many(self, field: str, label: str, options: Iterable[str]) -> list[str]:
        """Several choices (checkboxes, or a JSON list), in the order given, without repeats."""
        raw = self.data.get(field)
        values = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
        allowed = set(options)
        chosen = list(dict.fromkeys(str(v).strip() for v in values if str(v).strip()))
        if any(v not in allowed for v in chosen):
            self.fail(field, f"Select {label} from the list")
        return chosen

    def boolean(self, field: str) -> bool:
        raw = self.data.get(field)
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in {"1", "true", "yes", "on"}

    def phone(self, field: str, label: str) -> str:
        value = self.raw(field)
        if value and not PHONE_RE.match(value):
            self.fail(
                field, f"Enter {label} in the correct format, like 01632 960 001 or 07700 900 982"
            )
        return value

    def date(self, field: str, label: str, *, required: bool = True) -> dt.date | None:
        """Accepts ISO dates (JSON) or the day/month/year parts of the NHS date input."""
        raw = self.raw(field)
        # The NHS date input names its boxes field[day], field[month] and field[year].
        parts = [self.raw(f"{field}[{p}]") for p in ("day", "month", "year")]
        if not raw and any(parts):
            day, month, year = parts
            if not all(parts):
                self.fail(
                    field, f"{label[0].upper()}{label[1:]} must include a day, month and year"
                )
                return None
            raw = f"{year.zfill(4)}-{month.zfill(2)}-{day.zfill(2)}"
        if not raw:
            if required:
                self.fail(field, f"Enter {label}")
            return None
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            self.fail(field, f"{label[0].upper()}{label[1:]} must be a real date")
            return None

    def done(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)
