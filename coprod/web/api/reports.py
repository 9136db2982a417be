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
from typing import Annotated, Any, Literal

from pydantic import Field, ModelWrapValidatorHandler, PrivateAttr, model_validator
from starlette.requests import Request
from starlette.responses import Response

from coprod.domain.equality import QUESTIONS
from coprod.domain.reporting import Period, financial_year, financial_year_of, quarter
from coprod.domain.scheduling import LONDON
from coprod.errors import NotFound
from coprod.integrations import csv_files
from coprod.models import PopulationFigure, Role, Team
from coprod.services import reports
from coprod.services.actor import Actor
from coprod.validation import Checker, FieldError, ValidationFailed, record_id
from coprod.web.api.paging import keyset_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, Id, Page, Paging, Query, Reply, text
from coprod.web.render import csv_download

TAG = "reports"
READERS = (Role.REPORTER, Role.INVOLVEMENT_LEAD, Role.ORG_ADMIN, Role.FINANCE_OFFICER)

PERIODS = ("year", "quarter", "custom")
FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_YEARS = 5
SUPPRESSED = "suppressed"
NO_SUCH_TEAM = "Select a team in your organisation"
# As the population page: reporters and administrators keep the figures.
POPULATION_ROLES = (Role.REPORTER, Role.ORG_ADMIN)

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


# ---------------------------------------------------------------------------- replies

Hidden = Annotated[
    int | None, Field(description="null when suppressed: 1 to 4 could point to a person")
]


class PeriodReply(Reply):
    start: dt.date
    end: dt.date
    label: str


class FiguresRow(Reply):
    key: str | None = Field(description="The category or mode; null for involvement without one")
    activities: int
    involvements: int
    hours: float
    fees_pence: int
    expenses_pence: int


class People(Reply):
    """Distinct people involved; suppressed in network roll-ups and CSV downloads, which can
    leave the organisation."""

    patients: Hidden
    carers: Hidden
    both: Hidden
    total: Hidden
    new: Hidden


class Spend(Reply):
    fees_pence: int
    expenses_pence: int


class AccessArrangements(Reply):
    arranged: int
    on_time: int
    share_on_time: int | None = Field(description="Per cent; null when none were arranged")


class WellbeingChecks(Reply):
    proceed: Hidden
    postpone: Hidden
    adjust_role: Hidden
    not_this_time: Hidden


class Projects(Reply):
    end_to_end: int = Field(description="Projects with involvement in all four categories")
    single_touchpoint: int
    other: int


class ReachGroup(Reply):
    group: str
    label: str
    people: Hidden
    local_population_percent: float | None = Field(
        description="The share of the local population in this group, as your organisation "
        "entered it; null if not entered"
    )


class Reach(Reply):
    characteristic: str
    question: str
    answered: Hidden
    groups: list[ReachGroup]


class MemberFigures(Reply):
    organisation: str
    involvements: int
    people: Hidden
    hours: float
    fees_pence: int
    expenses_pence: int


class ReportReply(Reply):
    period: PeriodReply
    team_id: int | None
    by_category: list[FiguresRow]
    by_mode: list[FiguresRow]
    people: People
    spend: Spend
    access_arrangements: AccessArrangements
    wellbeing_checks: WellbeingChecks
    projects: Projects
    reach: list[Reach]
    members: list[MemberFigures] = Field(
        description="Network roll-ups only: each member organisation side by side"
    )


class NetworkName(Reply):
    id: int
    name: str


class NetworkReportReply(ReportReply):
    network: NetworkName


CSV_DESCRIPTION = (
    "Rows of section,key,measure,value, e.g. by_category,co_design,hours,12.5; "
    'a suppressed count is written as "suppressed".'
)


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


async def _organisation(
    actor: Actor, query: OrganisationReportQuery, *, outside: bool
) -> dict[str, Any]:
    period, team = await query.period_and_team(actor)
    return (await reports.organisation_report(actor, period, team, outside=outside)).as_dict()


@api.operation(
    "GET",
    "/reports/organisation",
    summary="Co-production figures for your organisation (or one of its teams) in a financial "
    "year, a quarter or custom dates",
    tag=TAG,
    roles=READERS,
    query=OrganisationReportQuery,
    reply=ReportReply,
)
async def get_organisation_report(
    request: Request, actor: Actor, query: OrganisationReportQuery
) -> dict[str, Any]:
    return await _organisation(actor, query, outside=False)


@api.operation(
    "GET",
    "/reports/organisation.csv",
    summary="The same figures as CSV: section,key,measure,value. The file may be shared outside "
    "your organisation, so counts of people from 1 to 4 are suppressed in it",
    tag=TAG,
    roles=READERS,
    query=OrganisationReportQuery,
    content_type="text/csv",
    description=CSV_DESCRIPTION,
)
async def get_organisation_report_csv(
    request: Request, actor: Actor, query: OrganisationReportQuery
) -> Response:
    # A downloaded file can be passed on outside the organisation: small counts of people are
    # hidden in it, as in a network roll-up.
    figures = await _organisation(actor, query, outside=True)
    team_part = f"-team-{figures['team_id']}" if figures["team_id"] else ""
    return csv_download(as_csv(figures), f"report{team_part}-{_dates(figures)}.csv")


# ---------------------------------------------------------------------------- networks


async def _network(actor: Actor, id: int, query: PeriodQuery) -> dict[str, Any]:
    if id not in actor.network_ids:  # before the period: say nothing of other networks
        raise NotFound
    network, report = await reports.network_report(actor, id, query.resolved_period())
    # Organisations and counts only: Report.as_dict holds no names or ids of people.
    return {"network": {"id": network.id, "name": network.name}, **report.as_dict()}


@api.operation(
    "GET",
    "/reports/networks/{id:int}",
    summary="A network's figures across its member organisations, then each member side by "
    "side (people with a role on that network). No personal data; small counts suppressed",
    tag=TAG,
    query=PeriodQuery,
    reply=NetworkReportReply,
)
async def get_network_report(
    request: Request, actor: Actor, id: int, query: PeriodQuery
) -> dict[str, Any]:
    return await _network(actor, id, query)


@api.operation(
    "GET",
    "/reports/networks/{id:int}.csv",
    summary="A network's figures as CSV: section,key,measure,value",
    tag=TAG,
    query=PeriodQuery,
    content_type="text/csv",
    description=CSV_DESCRIPTION,
)
async def get_network_report_csv(
    request: Request, actor: Actor, id: int, query: PeriodQuery
) -> Response:
    figures = await _network(actor, id, query)
    return csv_download(as_csv(figures), f"network-{id}-report-{_dates(figures)}.csv")


# ---------------------------------------------------------------------------- population


class PopulationFigureReply(Reply):
    id: int
    characteristic: str
    group: str
    percent: float = Field(description="The share of the local population, e.g. 12.5")


Characteristic = Literal[tuple(q.key for q in QUESTIONS)]  # type: ignore[valid-type]


class PopulationFigureInput(Body):
    characteristic: Characteristic = Field(title="a characteristic")  # type: ignore[valid-type]
    group: str = text(80, title="a group", description="One of the characteristic's groups")
    percent: float = Field(
        title="the percentage",
        strict=True,
        # The service checks the range, so the page and the API say the same thing.
        json_schema_extra={"minimum": 0, "maximum": 100},
        description="The share of the local population in the group, to one decimal place",
    )


def _figure(figure: PopulationFigure) -> PopulationFigureReply:
    return PopulationFigureReply(
        id=figure.id,
        characteristic=figure.characteristic,
        group=figure.group,
        percent=figure.percent_tenths / 10,
    )


@api.operation(
    "GET",
    "/reports/population",
    summary="The local population figures your organisation entered, to set the reach of "
    "involvement against, by characteristic and group",
    tag=TAG,
    roles=POPULATION_ROLES,
    query=Paging,
    reply=Page[PopulationFigureReply],
)
async def list_population_figures(
    request: Request, actor: Actor, query: Paging
) -> Page[PopulationFigureReply]:
    figures, cursor = await keyset_page(
        PopulationFigure.filter(organisation_id=actor.organisation_id),
        query,
        ("characteristic", "group", "id"),
    )
    return Page(items=[_figure(f) for f in figures], next_cursor=cursor)


@api.operation(
    "POST",
    "/reports/population",
    summary="Set the share of the local population in one group (replacing the figure "
    "entered before for it)",
    tag=TAG,
    roles=POPULATION_ROLES,
    body=PopulationFigureInput,
    reply=PopulationFigureReply,
)
async def set_population_figure(
    request: Request, actor: Actor, body: PopulationFigureInput
) -> PopulationFigureReply:
    return _figure(await reports.set_population_figure(actor, body.data()))
