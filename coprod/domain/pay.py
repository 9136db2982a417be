"""Pay rules: the rate card in force, the day and half-day bands, expenses, earnings limits and
tax years. All money is integer pence."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Protocol, TypeVar


@dataclass(frozen=True)
class Rates:
    """One row of a rate card: the rates from `effective_from` until the next row."""

    effective_from: dt.date
    day_pence: int
    half_day_pence: int
    half_day_max_minutes: int = 240
    day_max_minutes: int = 480


def rates_on(day: dt.date, card: Sequence[Rates]) -> Rates:
    """The rates in force on a day, so an uplift never changes an earlier day's pay."""
    in_force = [r for r in card if r.effective_from <= day]
    if not in_force:
        raise ValueError(f"no rates in force on {day.isoformat()}")
    return max(in_force, key=lambda r: r.effective_from)


class Band(StrEnum):
    NONE = "none"
    HALF_DAY = "half_day"
    DAY = "day"

    @property
    def label(self) -> str:
        return {"none": "No fee", "half_day": "Half day", "day": "Day"}[self.value]


@dataclass(frozen=True)
class DayFee:
    day: dt.date
    minutes: int
    band: Band
    pence: int
    needs_review: bool  # over the day band's top: paid as a day, for a lead to look at


def fee_for_day(day: dt.date, minutes: int, rates: Rates, *, declined: bool = False) -> DayFee:
    """0: nothing. 1 to 240: half day. 241 to 480: day. Over 480: day, flagged for review.
    Someone who declines payment is paid nothing, but their minutes still count."""
    if minutes <= 0:
        band, pence = Band.NONE, 0
    elif minutes <= rates.half_day_max_minutes:
        band, pence = Band.HALF_DAY, rates.half_day_pence
    else:
        band, pence = Band.DAY, rates.day_pence
    return DayFee(
        day=day,
        minutes=max(minutes, 0),
        band=band,
        pence=0 if declined else pence,
        needs_review=minutes > rates.day_max_minutes,
    )


def daily_fees(
    sessions: Iterable[tuple[dt.date, int]], card: Sequence[Rates], *, declined: bool = False
) -> list[DayFee]:
    """Fees per Europe/London calendar day from (day, paid minutes) pairs: two 2-hour meetings
    on one day are one half day, not two."""
    totals: dict[dt.date, int] = defaultdict(int)
    for day, minutes in sessions:
        totals[day] += minutes
    return [
        fee_for_day(day, minutes, rates_on(day, card), declined=declined)
        for day, minutes in sorted(totals.items())
    ]


class ExpenseType(StrEnum):
    MILEAGE = "mileage"
    PUBLIC_TRANSPORT = "public_transport"
    TAXI = "taxi"
    PARKING = "parking"
    CARE_COVER = "care_cover"
    SUBSISTENCE = "subsistence"

    @property
    def label(self) -> str:
        return {
            "mileage": "Mileage",
            "public_transport": "Bus, train or tram",
            "taxi": "Taxi (agreed beforehand)",
            "parking": "Parking",
            "care_cover": "Replacement carer or childcare",
            "subsistence": "Food and drink",
        }[self.value]

    @property
    def needs_receipt(self) -> bool:
        return self in (ExpenseType.PUBLIC_TRANSPORT, ExpenseType.TAXI)


def mileage_pence(miles: Decimal, pence_per_mile: int) -> int:
    return int((miles * pence_per_mile).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def expense_problems(
    kind: ExpenseType,
    amount_pence: int,
    *,
    has_receipt: bool,
    agreed_beforehand: bool,
    subsistence_cap_pence: int,
) -> list[tuple[str, str]]:
    """(field, message) for each expense rule broken."""
    problems = []
    if amount_pence <= 0:
        problems.append(("amount", "Enter an amount more than £0"))
    if kind.needs_receipt and not has_receipt:
        problems.append(("receipt", "Add a photo or scan of the receipt or ticket"))
    if kind is ExpenseType.TAXI and not agreed_beforehand:
        problems.append(
            ("agreed_beforehand", "Taxis are paid only if agreed with your lead beforehand")
        )
    if kind is ExpenseType.SUBSISTENCE and amount_pence > subsistence_cap_pence:
        pounds = f"£{subsistence_cap_pence // 100}.{subsistence_cap_pence % 100:02d}"
        problems.append(("amount", f"Food and drink can be up to {pounds} a day"))
    return problems


# --------------------------------------------------------------------------- earnings limits


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """Monday to Sunday."""
    start = day - dt.timedelta(days=day.weekday())
    return start, start + dt.timedelta(days=6)


def month_of(day: dt.date) -> tuple[dt.date, dt.date]:
    start = day.replace(day=1)
    following = (start + dt.timedelta(days=32)).replace(day=1)
    return start, following - dt.timedelta(days=1)


def claim_period(unclaimed: Iterable[dt.date], today: dt.date) -> tuple[dt.date, dt.date]:
    """The month a new claim starts as: that of the earliest attended day not yet claimed
    (what happened late in a month is often claimed early in the next), else this month."""
    return month_of(min((day for day in unclaimed if day <= today), default=today))


def period_of(day: dt.date, period: str) -> tuple[dt.date, dt.date]:
    return week_of(day) if period == "week" else month_of(day)


class DatedLimit(Protocol):
    """A published limit (config.EarningsLimit): its figure changes each year."""

    @property
    def period(self) -> str: ...

    @property
    def applies_from(self) -> dt.date: ...


L = TypeVar("L", bound=DatedLimit)


def limit_in_force(figures: Sequence[L], day: dt.date) -> L | None:
    """The figure that applies to the week or month holding `day`: the one in force on the
    period's first day, so a new year's figure never changes the check of an earlier period. A
    period before every figure we hold is checked against the earliest (better a warning from
    an old figure than none)."""
    if not figures:
        return None
    in_force = [f for f in figures if f.applies_from <= period_of(day, f.period)[0]]
    if not in_force:
        return min(figures, key=lambda f: f.applies_from)
    return max(in_force, key=lambda f: f.applies_from)


def pounds(raw: str) -> Decimal | None:
    """A sum typed in pounds ("£1,234.50", "12"), or None when it is not one: words,
    "Infinity", "nan", or part of a penny. The caller checks the size before turning it into
    pence, since "1e400" is a number too."""
    try:
        value = Decimal(raw.strip().replace("£", "").replace(",", ""))
    except InvalidOperation:
        return None
    # NaN and Infinity have no numeric exponent: refuse them before reading it.
    if not value.is_finite() or int(value.as_tuple().exponent) < -2:
        return None
    return value


def over_limit(earned_pence: int, adding_pence: int, limit_pence: int) -> bool:
    """Would this push earnings in the period over the limit? (A warning, never a block.)"""
    return earned_pence + adding_pence > limit_pence


def tax_year_of(day: dt.date) -> int:
    """The tax year runs 6 April to 5 April and is named by the year it starts."""
    return day.year if day >= dt.date(day.year, 4, 6) else day.year - 1


def tax_year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 4, 6), dt.date(year + 1, 4, 5)


def tax_month_of(day: dt.date) -> int:
    """Payroll's tax month: 1 is 6 April to 5 May, and 12 is 6 March to 5 April."""
    months = (day.year - tax_year_of(day)) * 12 + day.month - 4
    return months if day.day <= 5 else months + 1


def tax_month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    """The first and last day of tax month `month` (1 to 12) of the tax year starting in `year`."""
    if not 1 <= month <= 12:
        raise ValueError(f"tax month {month} is not 1 to 12")
    start_year, start_month = divmod(3 + month - 1, 12)
    start = dt.date(year + start_year, start_month + 1, 6)
    end_year, end_month = divmod(3 + month, 12)
    return start, dt.date(year + end_year, end_month + 1, 5)


def tax_year_label(year: int) -> str:
    """2026 -> "2026/27", the way HMRC and payroll write a tax year."""
    return f"{year}/{(year + 1) % 100:02d}"


# --------------------------------------------------------------------------- payroll


# HMRC's rules for a National Insurance number: two prefix letters (D, F, I, Q, U and V never
# appear, O never second), six digits and a suffix A to D. Some prefixes are never issued.
_NINO = re.compile(r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]")
_NINO_NEVER_ISSUED = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def national_insurance_number(text: str) -> str | None:
    """The number as stored, "AB123456C", from what someone typed ("ab 12 34 56 c"), or None
    when it cannot be a National Insurance number."""
    value = "".join(text.split()).upper()
    if not _NINO.fullmatch(value) or value[:2] in _NINO_NEVER_ISSUED:
        return None
    return value


def masked_national_insurance(number: str) -> str:
    """All that pages and the API show: the last two digits and the suffix, enough to check
    against a letter without giving the number away. "AB123456C" -> "•• •• •• 56 C"."""
    return f"•• •• •• {number[6:8]} {number[8]}"


@dataclass(frozen=True)
class PayElement:
    """How payroll pays one kind of money: fees are taxable pay; each expense type is a
    non-taxable reimbursement with its own code."""

    key: str
    default_code: str
    description: str
    taxable: bool


FEE_ELEMENT = "fee"

PAY_ELEMENTS: tuple[PayElement, ...] = (
    PayElement(FEE_ELEMENT, "FEE", "Involvement fee", taxable=True),
    *(
        PayElement(
            kind.value,
            f"EXP-{kind.value.upper().replace('_', '-')}"[:20],
            kind.label,
            taxable=False,
        )
        for kind in ExpenseType
    ),
)

PAY_ELEMENT_CODE = re.compile(r"[A-Za-z0-9-]{1,20}")


def payroll_details_missing(first_name: str, *, has_reference: bool, has_ni: bool) -> str | None:
    """Why someone's claims cannot go to payroll yet, as finance reads it, or None."""
    missing = [
        what
        for what, present in (
            ("payroll number", has_reference),
            ("National Insurance number", has_ni),
        )
        if not present
    ]
    if not missing:
        return None
    return f"Add {first_name}'s {' and '.join(missing)}"
