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
