"""API operations for co-production reports: an organisation's figures, and a network's roll-up
of its members, as JSON or CSV, for a financial year, a quarter or custom dates.

Every figure comes from coprod.services.reports (aggregated by the database, small counts
suppressed after aggregation). This module reads the period and team from the query string,
and writes the same figures as CSV. `period_from` is shared with the HTML report pages, so a
person sees the same messages whichever way they came in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from coprod.domain.reporting import Period, financial_year, financial_year_of, quarter
from coprod.domain.scheduling import LONDON
from coprod.errors import NotFound
from coprod.integrations import csv_files
from coprod.models import Role, Team, WellbeingOutcome
from coprod.services import reports
from coprod.services.actor import Actor
from coprod.validation import MAX_ID, Checker, FieldError, ValidationFailed
from coprod.web.api.core import INT, STR, obj
from coprod.web.api.registry import api
from coprod.web.render import csv_download

TAG = "reports"
READERS = (Role.REPORTER, Role.INVOLVEMENT_LEAD, Role.ORG_ADMIN, Role.FINANCE_OFFICER)

PERIODS = ("year", "quarter", "custom")
FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_YEARS = 5
SUPPRESSED = "suppressed"

# ---------------------------------------------------------------------------- the period


def _today() -> dt.date:
    return dt.datetime.now(LONDON).date()


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
    period = _read_period(c, today or _today())
    c.done()
    assert period is not None
    return period


async def team_from(actor: Actor, query: Mapping[str, Any]) -> int | None:
    """The `team` to narrow a report to: one of the actor's organisation's teams, or none."""
    raw = str(query.get("team") or "").strip()
    if not raw:
        return None
    known = raw.isascii() and raw.isdigit() and int(raw) <= MAX_ID
    if not known or not await Team.exists(id=int(raw), organisation_id=actor.organisation_id):
        raise ValidationFailed.one("team", "Select a team in your organisation")
    return int(raw)


async def _period_and_team(request: Request, actor: Actor) -> tuple[Period, int | None]:
    errors: list[FieldError] = []
    period = team = None
    try:
        period = period_from(request.query_params)
    except ValidationFailed as exc:
        errors += exc.errors
    try:
        team = await team_from(actor, request.query_params)
    except ValidationFailed as exc:
        errors += exc.errors
    if errors:
        raise ValidationFailed(errors)
    assert period is not None
    return period, team


# ---------------------------------------------------------------------------- schemas

NUMBER = {"type": "number"}
DATE = {"type": "string", "format": "date"}
NULL_INT = {"type": ["integer", "null"]}
HIDDEN = {**NULL_INT, "description": "null when suppressed: 1 to 4 could point to a person"}
CSV = {
    "type": "string",
    "description": "Rows of section,key,measure,value, e.g. by_category,co_design,hours,12.5; "
    'a suppressed count is written as "suppressed"',
}

PERIOD_QUERY: list[dict[str, Any]] = [
    {
        "name": "period",
        "in": "query",
        "schema": {"enum": list(PERIODS), "default": "year"},
        "description": "A financial year (April to March), a quarter of one, or custom dates",
    },
    {
        "name": "year",
        "in": "query",
        "schema": {"type": "integer", "minimum": FIRST_YEAR, "maximum": LAST_YEAR},
        "description": "The financial year by the year it starts: 2026 is April 2026 to March "
        "2027. The current financial year if left out",
    },
    {
        "name": "quarter",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 4},
        "description": "With period=quarter: 1 is April to June. The current quarter if left out",
    },
    {
        "name": "start",
        "in": "query",
        "schema": DATE,
        "description": "With period=custom: the first day",
    },
    {
        "name": "end",
        "in": "query",
        "schema": DATE,
        "description": f"With period=custom: the last day, at most {MAX_YEARS} years on",
    },
]
TEAM_QUERY: list[dict[str, Any]] = [
    {
        "name": "team",
        "in": "query",
        "schema": INT,
        "description": "Only this team or service of your organisation",
    }
]
NETWORK_ID = [{"name": "id", "in": "path", "required": True, "schema": INT}]

ROW = obj(
    key={**STR, "type": ["string", "null"]},
    activities=INT,
    involvements=INT,
    hours=NUMBER,
    fees_pence=INT,
    expenses_pence=INT,
)
REPORT_PROPERTIES: dict[str, Any] = {
    "period": obj(start=DATE, end=DATE, label=STR),
    "team_id": NULL_INT,
    "by_category": {"type": "array", "items": ROW},
    "by_mode": {"type": "array", "items": ROW},
    "people": {
        **obj(patients=HIDDEN, carers=HIDDEN, both=HIDDEN, total=HIDDEN, new=HIDDEN),
        "description": "Distinct people involved; suppressed in network roll-ups and CSV "
        "downloads, which can leave the organisation",
    },
    "spend": obj(fees_pence=INT, expenses_pence=INT),
    "access_arrangements": obj(
        arranged=INT,
        on_time=INT,
        share_on_time={**NULL_INT, "description": "Per cent; null when none were arranged"},
    ),
    "wellbeing_checks": obj(**{o.value: HIDDEN for o in WellbeingOutcome}),
    "projects": obj(end_to_end=INT, single_touchpoint=INT, other=INT),
    "reach": {
        "type": "array",
        "items": obj(
            characteristic=STR,
            question=STR,
            answered=HIDDEN,
            groups={
                "type": "array",
                "items": obj(
                    group=STR,
                    label=STR,
                    people=HIDDEN,
                    local_population_percent={"type": ["number", "null"]},
                ),
            },
        ),
    },
    "members": {
        "type": "array",
        "description": "Network roll-ups only: each member organisation side by side",
        "items": obj(
            organisation=STR,
            involvements=INT,
            people=HIDDEN,
            hours=NUMBER,
            fees_pence=INT,
            expenses_pence=INT,
        ),
    },
}
REPORT = obj(**REPORT_PROPERTIES)
NETWORK_REPORT = obj(network=obj(id=INT, name=STR), **REPORT_PROPERTIES)


# ---------------------------------------------------------------------------- CSV


def _value(value: Any, hideable: bool) -> Any:
    return SUPPRESSED if value is None and hideable else value


def _rows(figures: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """section, key, measure, value, and whether an empty value means suppressed."""
    network = figures.get("network")
    if network:
        yield "network", "", "id", network["id"], False
        yield "network", "", "name", network["name"], False
    for measure, value in figures["period"].items():
        yield "period", "", measure, value, False
    if figures["team_id"] is not None:
        yield "team", "", "id", figures["team_id"], False
    for section in ("by_category", "by_mode"):
        for row in figures[section]:
            for measure in ("activities", "involvements", "hours", "fees_pence", "expenses_pence"):
                yield section, row["key"] or "", measure, row[measure], False
    for measure, value in figures["people"].items():
        yield "people", "", measure, value, True
    for section in ("spend", "access_arrangements", "projects"):
        for measure, value in figures[section].items():
            yield section, "", measure, value, False
    for measure, value in figures["wellbeing_checks"].items():
        yield "wellbeing_checks", "", measure, value, True
    for item in figures["reach"]:
        yield "reach", item["characteristic"], "answered", item["answered"], True
        for group in item["groups"]:
            key = f"{item['characteristic']}.{group['group']}"
            yield "reach", key, "people", group["people"], True
            percent = group["local_population_percent"]
            yield "reach", key, "local_population_percent", percent, False
    for member in figures["members"]:
        for measure in ("involvements", "people", "hours", "fees_pence", "expenses_pence"):
            yield "members", member["organisation"], measure, member[measure], measure == "people"


def as_csv(figures: dict[str, Any]) -> str:
    """The figures of a report (as served in JSON) as rows of section,key,measure,value."""
    return csv_files.write(
        ["section", "key", "measure", "value"],
        (
            [section, key, measure, _value(value, hideable)]
            for section, key, measure, value, hideable in _rows(figures)
        ),
    )


def _dates(figures: dict[str, Any]) -> str:
    return f"{figures['period']['start']}-to-{figures['period']['end']}"


# ---------------------------------------------------------------------------- organisation


async def _organisation(request: Request, actor: Actor, *, outside: bool) -> dict[str, Any]:
    period, team = await _period_and_team(request, actor)
    return (await reports.organisation_report(actor, period, team, outside=outside)).as_dict()


@api.operation(
    "GET",
    "/reports/organisation",
    summary="Co-production figures for your organisation (or one of its teams) in a financial "
    "year, a quarter or custom dates",
    tag=TAG,
    roles=READERS,
    response=REPORT,
    query=PERIOD_QUERY + TEAM_QUERY,
)
async def get_organisation_report(request: Request, actor: Actor) -> dict[str, Any]:
    return await _organisation(request, actor, outside=False)


@api.operation(
    "GET",
    "/reports/organisation.csv",
    summary="The same figures as CSV: section,key,measure,value. The file may be shared outside "
    "your organisation, so counts of people from 1 to 4 are suppressed in it",
    tag=TAG,
    roles=READERS,
    response=CSV,
    query=PERIOD_QUERY + TEAM_QUERY,
    content_type="text/csv",
)
async def get_organisation_report_csv(request: Request, actor: Actor) -> Response:
    # A downloaded file can be passed on outside the organisation: small counts of people are
    # hidden in it, as in a network roll-up.
    figures = await _organisation(request, actor, outside=True)
    team_part = f"-team-{figures['team_id']}" if figures["team_id"] else ""
    return csv_download(as_csv(figures), f"report{team_part}-{_dates(figures)}.csv")


# ---------------------------------------------------------------------------- networks


async def _network(request: Request, actor: Actor, id: int) -> dict[str, Any]:
    if id not in actor.network_ids:  # before reading the period: say nothing of other networks
        raise NotFound
    network, report = await reports.network_report(actor, id, period_from(request.query_params))
    # Organisations and counts only: Report.as_dict holds no names or ids of people.
    return {"network": {"id": network.id, "name": network.name}, **report.as_dict()}


@api.operation(
    "GET",
    "/reports/networks/{id:int}",
    summary="A network's figures across its member organisations, then each member side by "
    "side (network reporters of that network). No personal data; small counts suppressed",
    tag=TAG,
    response=NETWORK_REPORT,
    query=PERIOD_QUERY,
)
async def get_network_report(request: Request, actor: Actor, id: int) -> dict[str, Any]:
    return await _network(request, actor, id)


@api.operation(
    "GET",
    "/reports/networks/{id:int}.csv",
    summary="A network's figures as CSV: section,key,measure,value",
    tag=TAG,
    response=CSV,
    # The path parameter sits inside a segment ("{id}.csv"), so it is described here.
    query=NETWORK_ID + PERIOD_QUERY,
    content_type="text/csv",
)
async def get_network_report_csv(request: Request, actor: Actor, id: int) -> Response:
    figures = await _network(request, actor, id)
    return csv_download(as_csv(figures), f"network-{id}-report-{_dates(figures)}.csv")
