"""Reading a report's period (and team) from a query string, for the report API and pages alike,
so a person sees the same messages whichever way they came in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, ModelWrapValidatorHandler, PrivateAttr, model_validator

from coprod import clock
from coprod.domain.reporting import Period, financial_year, financial_year_of, quarter
from coprod.models import Team
from coprod.services.actor import Actor
from coprod.validation import Checker, FieldError, ValidationFailed, record_id
from coprod.web.api.schema import Id, Query

PERIODS = ("year", "quarter", "custom")
FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_YEARS = 5
NO_SUCH_TEAM = "Select a team in your organisation"

# ---------------------------------------------------------------------------- the period


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February, in a year that has none
        return dt.date(day.year + years, 3, 1)


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _year(c: Checker, default: int) -> int | None:
    raw = c.raw("year")
    if not raw:
        return default
    try:
        year = int(raw)
    except ValueError:
        c.fail("year", "The year must be a whole number, like 2026")
        return None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        c.fail("year", f"The year must be between {FIRST_YEAR} and {LAST_YEAR}")
        return None
    return year


def _quarter(c: Checker, default: int) -> int | None:
    raw = c.raw("quarter")
    if not raw:
        return default
    if raw not in ("1", "2", "3", "4"):
        c.fail("quarter", "Select a quarter from 1 to 4")
        return None
    return int(raw)


def _day(c: Checker, field: str, label: str) -> dt.date | None:
    day = c.date(field, label)
    if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
        c.fail(field, f"{label[0].upper()}{label[1:]} must be between {FIRST_YEAR} and {LAST_YEAR}")
        return None
    return day


def _read_period(c: Checker, today: dt.date) -> Period | None:
    kind = c.raw("period") or "year"
    if kind not in PERIODS:
        c.fail("period", "Select a period: a financial year, a quarter or custom dates")
        return None
    this_year = financial_year_of(today)
    if kind == "year":
        year = _year(c, this_year)
        return financial_year(year) if year is not None else None
    if kind == "quarter":
        # Quarter 1 is April to June; by default the quarter that today falls in.
        year = _year(c, this_year)
        number = _quarter(c, (today.month - 4) % 12 // 3 + 1)
        return quarter(year, number) if year is not None and number is not None else None
    start = _day(c, "start", "the start date")
    end = _day(c, "end", "the end date")
    if start is None or end is None:
        return None
    if end < start:
        c.fail("end", "The end date must be the same as or after the start date")
        return None
    limit = _years_after(start, MAX_YEARS)
    if end >= limit:
        last = limit - dt.timedelta(days=1)
        c.fail(
            "end",
            f"The period can be at most {MAX_YEARS} years long: "
            f"choose an end date on or before {_long(last)}",
        )
        return None
    return Period(start, end, f"{_long(start)} to {_long(end)}")


def period_from(query: Mapping[str, Any], *, today: dt.date | None = None) -> Period:
    """The report period a query string (or form) asks for:

    - `period=year&year=2026`: the financial year April 2026 to March 2027 (the default, and
      the current financial year if `year` is left out);
    - `period=quarter&year=2026&quarter=2`: July to September 2026 (quarter 1 is April to June);
    - `period=custom&start=2026-05-01&end=2026-07-31`: ISO dates (or the NHS date input's
      `start[day]`, `start[month]`, `start[year]` boxes), at most five years long.

    Raises ValidationFailed with a plain-English message for each field that is wrong.
    """
    c = Checker(query)
    period = _read_period(c, today or clock.today())
    c.done()
    assert period is not None
    return period


async def team_from(actor: Actor, query: Mapping[str, Any]) -> int | None:
    """The `team` to narrow a report to: one of the actor's organisation's teams, or none."""
    raw = str(query.get("team") or "").strip()
    if not raw:
        return None
    team = record_id(raw)
    if team is None or not await Team.exists(id=team, organisation_id=actor.organisation_id):
        raise ValidationFailed.one("team", NO_SUCH_TEAM)
    return team


# ---------------------------------------------------------------------------- the query


class PeriodQuery(Query):
    """The report period. Its fields are read by `period_from`, which the report pages use too,
    so both say the same thing about a wrong one; the model then holds the period it resolved
    (with the current year or quarter filled in where it was left out)."""

    period: Literal["year", "quarter", "custom"] = Field(
        "year", description="A financial year (April to March), a quarter of one, or custom dates"
    )
    year: int | None = Field(
        None,
        ge=FIRST_YEAR,
        le=LAST_YEAR,
        description="The financial year by the year it starts: 2026 is April 2026 to March "
        "2027. The current financial year if left out",
    )
    quarter: int | None = Field(
        None,
        ge=1,
        le=4,
        description="With period=quarter: 1 is April to June. The current quarter if left out",
    )
    start: dt.date | None = Field(None, description="With period=custom: the first day")
    end: dt.date | None = Field(
        None, description=f"With period=custom: the last day, at most {MAX_YEARS} years on"
    )

    _period: Period | None = PrivateAttr(None)
    _errors: list[FieldError] = PrivateAttr(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _read(cls, data: Any, handler: ModelWrapValidatorHandler[PeriodQuery]) -> PeriodQuery:
        if not isinstance(data, Mapping):
            return handler(data)
        rest = {k: v for k, v in data.items() if k not in PERIOD_FIELDS}
        errors = cls._check(rest)
        period = None
        try:
            period = period_from(data)
        except ValidationFailed as exc:
            errors = exc.errors + errors
        # What is wrong is told in period_from's words, so the model gets only the rest, and
        # the period as resolved. The errors wait for the handler, which first makes sure the
        # caller may see the report at all: a network they are not in is not found, whatever
        # the period.
        wrong = {e.field for e in errors}
        query = handler(
            {k: v for k, v in rest.items() if k not in wrong}
            | (_resolved(str(data.get("period") or "year"), period) if period else {})
        )
        query._period, query._errors = period, errors
        return query

    @classmethod
    def _check(cls, rest: dict[str, Any]) -> list[FieldError]:
        """Errors in fields beyond the period's, found with the period's so both are told at
        once."""
        return []

    def resolved_period(self) -> Period:
        """The period asked for; raises ValidationFailed for everything wrong in the query."""
        if self._errors:
            raise ValidationFailed(self._errors)
        assert self._period is not None
        return self._period


PERIOD_FIELDS = ("period", "year", "quarter", "start", "end")


def _resolved(kind: str, period: Period) -> dict[str, Any]:
    if kind == "custom":
        return {"period": kind, "start": period.start, "end": period.end}
    fields: dict[str, Any] = {"period": kind, "year": financial_year_of(period.start)}
    if kind == "quarter":
        fields["quarter"] = (period.start.month - 4) % 12 // 3 + 1
    return fields


class OrganisationReportQuery(PeriodQuery):
    team: Id | None = Field(None, description="Only this team or service of your organisation")

    @classmethod
    def _check(cls, rest: dict[str, Any]) -> list[FieldError]:
        raw = str(rest.get("team") or "").strip()
        if raw and record_id(raw) is None:
            return [FieldError("team", NO_SUCH_TEAM)]
        return []

    async def period_and_team(self, actor: Actor) -> tuple[Period, int | None]:
        errors = list(self._errors)
        team = None
        try:
            team = await team_from(actor, {"team": self.team})
        except ValidationFailed as exc:
            errors += exc.errors
        if errors:
            raise ValidationFailed(errors)
        return self.resolved_period(), team
