"""The pay rule, expenses, earnings periods and tax years, as tables."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal

import pytest

from coprod.domain.pay import (
    PAY_ELEMENT_CODE,
    PAY_ELEMENTS,
    Band,
    ExpenseType,
    Rates,
    claim_period,
    daily_fees,
    expense_problems,
    fee_for_day,
    limit_in_force,
    masked_national_insurance,
    mileage_pence,
    month_of,
    national_insurance_number,
    payroll_details_missing,
    pounds,
    rates_on,
    tax_month_bounds,
    tax_month_of,
    tax_year_bounds,
    tax_year_label,
    tax_year_of,
    week_of,
)

D = dt.date
CARD = [
    Rates(D(2020, 1, 1), day_pence=14000, half_day_pence=7000),
    Rates(D(2027, 4, 1), day_pence=15000, half_day_pence=7500),  # an uplift
]


@pytest.mark.parametrize(
    ("minutes", "band", "pence", "review"),
    [
        (0, Band.NONE, 0, False),
        (1, Band.HALF_DAY, 7000, False),
        (240, Band.HALF_DAY, 7000, False),
        (241, Band.DAY, 14000, False),
        (480, Band.DAY, 14000, False),
        (481, Band.DAY, 14000, True),
        (720, Band.DAY, 14000, True),
    ],
)
def test_the_pay_table(minutes, band, pence, review):
    fee = fee_for_day(D(2026, 6, 1), minutes, CARD[0])
    assert (fee.band, fee.pence, fee.needs_review) == (band, pence, review)


def test_declining_payment_pays_nothing_but_keeps_the_minutes():
    fee = fee_for_day(D(2026, 6, 1), 300, CARD[0], declined=True)
    assert fee.pence == 0 and fee.minutes == 300 and fee.band is Band.DAY


def test_two_two_hour_meetings_on_one_day_are_one_half_day():
    fees = daily_fees([(D(2026, 6, 1), 120), (D(2026, 6, 1), 120)], CARD)
    assert [(f.band, f.pence) for f in fees] == [(Band.HALF_DAY, 7000)]


def test_days_are_separate():
    fees = daily_fees([(D(2026, 6, 1), 120), (D(2026, 6, 2), 300)], CARD)
    assert [f.pence for f in fees] == [7000, 14000]


@pytest.mark.parametrize(
    ("day", "day_pence"),
    [(D(2027, 3, 31), 14000), (D(2027, 4, 1), 15000), (D(2028, 1, 1), 15000)],
)
def test_the_rate_in_force_on_the_day_is_used(day, day_pence):
    assert rates_on(day, CARD).day_pence == day_pence
    assert daily_fees([(day, 300)], CARD)[0].pence == day_pence


def test_no_rates_before_the_first_card():
    with pytest.raises(ValueError):
        rates_on(D(2019, 12, 31), CARD)


@pytest.mark.parametrize(
    ("miles", "pence"),
    [(Decimal("10"), 450), (Decimal("12.3"), 554), (Decimal("0.1"), 5), (Decimal("0.5"), 23)],
)
def test_mileage(miles, pence):
    assert mileage_pence(miles, 45) == pence


@pytest.mark.parametrize(
    ("kind", "amount", "receipt", "agreed", "fields"),
    [
        (ExpenseType.MILEAGE, 450, False, False, []),
        (ExpenseType.PUBLIC_TRANSPORT, 380, False, False, ["receipt"]),
        (ExpenseType.PUBLIC_TRANSPORT, 380, True, False, []),
        (ExpenseType.TAXI, 1500, True, False, ["agreed_beforehand"]),
        (ExpenseType.TAXI, 1500, True, True, []),
        (ExpenseType.SUBSISTENCE, 1500, False, False, []),
        (ExpenseType.SUBSISTENCE, 1501, False, False, ["amount"]),
        (ExpenseType.PARKING, 0, False, False, ["amount"]),
        (ExpenseType.CARE_COVER, 2400, False, False, []),
    ],
)
def test_expense_rules(kind, amount, receipt, agreed, fields):
    problems = expense_problems(
        kind, amount, has_receipt=receipt, agreed_beforehand=agreed, subsistence_cap_pence=1500
    )
    assert [f for f, _ in problems] == fields


@pytest.mark.parametrize(
    ("day", "week", "month"),
    [
        (D(2026, 11, 23), (D(2026, 11, 23), D(2026, 11, 29)), (D(2026, 11, 1), D(2026, 11, 30))),
        (D(2026, 11, 29), (D(2026, 11, 23), D(2026, 11, 29)), (D(2026, 11, 1), D(2026, 11, 30))),
        (D(2028, 2, 29), (D(2028, 2, 28), D(2028, 3, 5)), (D(2028, 2, 1), D(2028, 2, 29))),
        (D(2026, 12, 31), (D(2026, 12, 28), D(2027, 1, 3)), (D(2026, 12, 1), D(2026, 12, 31))),
    ],
)
def test_periods(day, week, month):
    assert week_of(day) == week
    assert month_of(day) == month


@pytest.mark.parametrize(
    ("day", "year"),
    [(D(2026, 4, 5), 2025), (D(2026, 4, 6), 2026), (D(2027, 4, 5), 2026), (D(2027, 1, 1), 2026)],
)
def test_tax_year(day, year):
    assert tax_year_of(day) == year
    start, end = tax_year_bounds(year)
    assert start <= day <= end


@dataclass(frozen=True)
class Figure:
    period: str
    applies_from: dt.date
    pence: int


# ESA-style weekly figures that change on the first Monday of April, and a monthly one that
# changes mid-month.
WEEKLY = [Figure("week", D(2025, 4, 7), 19550), Figure("week", D(2026, 4, 6), 20400)]
MONTHLY = [Figure("month", D(2025, 4, 15), 50000), Figure("month", D(2026, 4, 15), 52000)]


@pytest.mark.parametrize(
    ("figures", "day", "pence"),
    [
        (WEEKLY, D(2025, 4, 6), 19550),  # the week before the first figure: the earliest
        (WEEKLY, D(2025, 4, 7), 19550),
        (WEEKLY, D(2026, 4, 5), 19550),  # Sunday: the week began under last year's figure
        (WEEKLY, D(2026, 4, 6), 20400),
        (WEEKLY, D(2026, 4, 12), 20400),
        (WEEKLY, D(2031, 1, 1), 20400),
        (MONTHLY, D(2026, 4, 20), 50000),  # April began under the old figure
        (MONTHLY, D(2026, 5, 1), 52000),
        (list(reversed(WEEKLY)), D(2026, 4, 8), 20400),  # whatever order they are written in
    ],
)
def test_the_limit_is_the_one_in_force_for_the_period(figures, day, pence):
    found = limit_in_force(figures, day)
    assert found is not None and found.pence == pence


def test_no_published_figures_means_no_limit():
    assert limit_in_force([], D(2026, 4, 8)) is None


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("195.50", Decimal("195.50")),
        ("£1,234.5", Decimal("1234.5")),
        (" 12 ", Decimal("12")),
        ("1e400", Decimal("1e400")),  # a number: too big is for the caller to say
        ("-3", Decimal("-3")),
        ("0.001", None),  # part of a penny
        ("Infinity", None),
        ("-inf", None),
        ("nan", None),
        ("sNaN", None),
        ("lots", None),
        ("", None),
    ],
)
def test_pounds(raw, value):
    assert pounds(raw) == value


@pytest.mark.parametrize(
    ("unclaimed", "today", "period"),
    [
        # Nothing to claim: this month.
        ([], dt.date(2026, 12, 1), (dt.date(2026, 12, 1), dt.date(2026, 12, 31))),
        # A meeting on the last day of November, claimed on 1 December: November.
        (
            [dt.date(2026, 11, 30)],
            dt.date(2026, 12, 1),
            (dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
        ),
        # The earliest unclaimed day decides, across a year's end.
        (
            [dt.date(2027, 1, 3), dt.date(2026, 12, 31)],
            dt.date(2027, 1, 5),
            (dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
        ),
        # Attendance recorded ahead of its day does not pull the claim forward.
        ([dt.date(2027, 2, 2)], dt.date(2027, 1, 20), (dt.date(2027, 1, 1), dt.date(2027, 1, 31))),
    ],
)
def test_a_new_claim_starts_as_the_month_of_the_earliest_unclaimed_day(unclaimed, today, period):
    assert claim_period(unclaimed, today) == period


# --------------------------------------------------------------------------- payroll


@pytest.mark.parametrize(
    ("day", "year", "label", "month"),
    [
        (D(2026, 4, 5), 2025, "2025/26", 12),  # the last day of a tax year
        (D(2026, 4, 6), 2026, "2026/27", 1),  # the first day of the next
        (D(2026, 5, 5), 2026, "2026/27", 1),
        (D(2026, 5, 6), 2026, "2026/27", 2),
        (D(2026, 12, 25), 2026, "2026/27", 9),
        (D(2027, 1, 1), 2026, "2026/27", 9),  # month 9 runs 6 December to 5 January
        (D(2027, 1, 5), 2026, "2026/27", 9),
        (D(2027, 1, 6), 2026, "2026/27", 10),
        (D(2027, 3, 5), 2026, "2026/27", 11),
        (D(2027, 3, 6), 2026, "2026/27", 12),
        (D(2027, 4, 5), 2026, "2026/27", 12),
        (D(2027, 4, 6), 2027, "2027/28", 1),
        (D(2028, 2, 29), 2027, "2027/28", 11),  # a leap day
        (D(1999, 4, 6), 1999, "1999/00", 1),  # the century turns in the label
    ],
)
def test_tax_month(day, year, label, month):
    assert (tax_year_of(day), tax_year_label(tax_year_of(day)), tax_month_of(day)) == (
        year,
        label,
        month,
    )
    start, end = tax_month_bounds(year, month)
    assert start <= day <= end
    assert start.day == 6 and end.day == 5


def test_the_tax_months_cover_the_tax_year_without_gaps():
    start, end = tax_year_bounds(2026)
    months = [tax_month_bounds(2026, m) for m in range(1, 13)]
    assert months[0][0] == start and months[-1][1] == end
    for (_, last), (first, _) in itertools.pairwise(months):
        assert first == last + dt.timedelta(days=1)
    day = start
    while day <= end:
        assert tax_month_bounds(2026, tax_month_of(day))[0] <= day
        day += dt.timedelta(days=1)
    with pytest.raises(ValueError):
        tax_month_bounds(2026, 13)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("AB123456C", "AB123456C"),
        ("ab 12 34 56 c", "AB123456C"),  # spaces and lower case, as people type it
        (" JG 10 37 71 D ", "JG103771D"),
        ("AB 12 34 56 A", "AB123456A"),
        ("AB123456", None),  # no suffix
        ("AB123456E", None),  # suffix A to D only
        ("AB12345C", None),  # five digits
        ("AB1234567C", None),  # seven digits
        ("DA123456C", None),  # D never first
        ("FA123456C", None),  # F never first
        ("IA123456C", None),  # I never first
        ("QQ123456C", None),  # Q never first (HMRC's example is not a real number)
        ("UA123456C", None),  # U never first
        ("VA123456C", None),  # V never first
        ("AD123456C", None),  # D never second
        ("AO123456C", None),  # O never second
        ("AQ123456C", None),
        ("OA123456C", "OA123456C"),  # O may come first
        ("BG123456C", None),  # prefixes never issued
        ("GB123456C", None),
        ("NK123456C", None),
        ("KN123456C", None),
        ("TN123456C", None),
        ("NT123456C", None),
        ("ZZ123456C", None),
        ("", None),
        ("A B-12-34-56-C", None),
    ],
)
def test_national_insurance_numbers(typed, stored):
    assert national_insurance_number(typed) == stored


def test_a_national_insurance_number_is_shown_masked():
    assert masked_national_insurance("AB123456C") == "•• •• •• 56 C"


def test_pay_elements_fees_are_taxable_and_each_expense_type_is_not():
    assert [(e.key, e.taxable) for e in PAY_ELEMENTS] == [
        ("fee", True),
        *((kind.value, False) for kind in ExpenseType),
    ]
    for e in PAY_ELEMENTS:
        assert PAY_ELEMENT_CODE.fullmatch(e.default_code)
    assert len({e.default_code for e in PAY_ELEMENTS}) == len(PAY_ELEMENTS)


@pytest.mark.parametrize(
    ("reference", "ni", "reason"),
    [
        (True, True, None),
        (True, False, "Add Sam's National Insurance number"),
        (False, True, "Add Sam's payroll number"),
        (False, False, "Add Sam's payroll number and National Insurance number"),
    ],
)
def test_what_payroll_still_needs(reference, ni, reason):
    assert payroll_details_missing("Sam", has_reference=reference, has_ni=ni) == reason
