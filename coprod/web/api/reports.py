"""API operations for co-production reports: an organisation's figures, and a network's roll-up
of its members, as JSON or CSV, for a financial year, a quarter or custom dates; and the local
population figures that reach is compared against.

Every figure comes from coprod.services.reports (aggregated by the database, small counts
suppressed after aggregation). This module declares the figures' shape and writes them as CSV;
the period and team are read by api/periods.py, as the report pages read them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from coprod.domain.equality import QUESTIONS
from coprod.errors import NotFound
from coprod.integrations import csv_files
from coprod.models import PopulationFigure, Role
from coprod.services import reports
from coprod.services.actor import Actor
from coprod.web.api import report_recruitment as recruiting
from coprod.web.api.paging import keyset_page
from coprod.web.api.periods import OrganisationReportQuery, PeriodQuery
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, Hidden, Page, Paging, Reply, text
from coprod.web.api.standards import ShareReply
from coprod.web.render import csv_download

TAG = "reports"
READERS = (Role.REPORTER, Role.INVOLVEMENT_LEAD, Role.ORG_ADMIN, Role.FINANCE_OFFICER)

SUPPRESSED = "suppressed"
# As the population page: reporters and administrators keep the figures.
POPULATION_ROLES = (Role.REPORTER, Role.ORG_ADMIN)

# ---------------------------------------------------------------------------- replies


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
    people: Hidden = Field(description="People who took part in the period")
    interested: Hidden = Field(
        description="People who expressed interest in the period (not held as spam)"
    )
    representatives: Hidden = Field(description="Representatives, not archived, as they stand")
    local_population_percent: float | None = Field(
        description="The share of the local population in this group, as your organisation "
        "entered it; null if not entered"
    )


class Reach(Reply):
    """Who took part, who expressed interest and who the representatives are, from the
    equality questions they chose to answer, against the local population."""

    characteristic: str
    question: str
    answered: Hidden = Field(description="Everyone who took part and answered the question")
    interested_answered: Hidden
    representatives_answered: Hidden
    groups: list[ReachGroup]


class MemberFigures(Reply):
    organisation: str
    involvements: int
    people: Hidden
    hours: float
    fees_pence: int
    expenses_pence: int


class SurveyAudiences(Reply):
    patients: Hidden
    carers: Hidden
    representatives: Hidden


class SurveyStages(Reply):
    start: Hidden
    end: Hidden
    not_said: Hidden = Field(description="Surveys that asked, where the person did not say")


class SurveySources(Reply):
    web: Hidden = Field(description="By the web link or the QR code")
    paper: Hidden = Field(description="Typed in from a paper form")


class SurveyCounts(Reply):
    answers: Hidden
    by_audience: SurveyAudiences
    by_stage: SurveyStages
    by_source: SurveySources


class TeamSurveyCounts(SurveyCounts):
    team_id: int
    team: str


class SurveyAnswers(Reply):
    """Survey answers received in the period (a paper form by the date on it)."""

    teams: list[TeamSurveyCounts] = Field(description="Organisation reports only")
    total: SurveyCounts


class ActionCounts(Reply):
    planned: int
    in_progress: int
    done: int = Field(description="Done within the period")
    not_possible: int
    all: int


class TeamActionCounts(ActionCounts):
    team_id: int
    team: str


class Actions(Reply):
    """ "You said, we did" actions: done ones by the day they were done, others as they stand."""

    teams: list[TeamActionCounts] = Field(description="Organisation reports only")
    total: ActionCounts


class TeamStandards(Reply):
    """A team's self-review against the quality network's standards, as it stands."""

    team_id: int
    team: str
    sections: list[ShareReply]
    overall: ShareReply


class ActivityFeedbackFigures(Reply):
    """Representatives' feedback on activities held in the period. All null when 1 to 4 gave
    it."""

    given: Hidden
    average_rating: float | None = Field(description="1 (badly) to 5 (very well)")
    listened_percent: int | None = Field(description="Per cent who felt listened to")
    needed_access: Hidden = Field(description="How many needed help to take part")
    access_met_percent: int | None = Field(
        description="Per cent of those who needed help to take part who got it"
    )


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
    survey_answers: SurveyAnswers
    actions: Actions
    standards: list[TeamStandards] = Field(
        description="Organisation reports only: each team that has marked any standard"
    )
    activity_feedback: ActivityFeedbackFigures
    recruitment: recruiting.Recruitment
    outreach: recruiting.OutreachFigures
    young_people: recruiting.YoungPeople
    training: recruiting.Training


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
        for measure in ("answered", "interested_answered", "representatives_answered"):
            yield "reach", item["characteristic"], measure, item[measure], True
        for group in item["groups"]:
            key = f"{item['characteristic']}.{group['group']}"
            for measure in ("people", "interested", "representatives"):
                yield "reach", key, measure, group[measure], True
            percent = group["local_population_percent"]
            yield "reach", key, "local_population_percent", percent, False
    for member in figures["members"]:
        for measure in ("involvements", "people", "hours", "fees_pence", "expenses_pence"):
            yield "members", member["organisation"], measure, member[measure], measure == "people"
    yield from _loop_rows(figures)
    yield from recruiting.csv_rows(figures)


def _loop_rows(figures: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """Survey answers, actions, standards and activity feedback; "all" is every team."""
    surveys = figures["survey_answers"]
    for key, row in [("all", surveys["total"]), *((t["team"], t) for t in surveys["teams"])]:
        yield "survey_answers", key, "answers", row["answers"], True
        for breakdown in ("audience", "stage", "source"):
            for part, value in row[f"by_{breakdown}"].items():
                yield "survey_answers", key, f"{breakdown}.{part}", value, True
    actions = figures["actions"]
    for key, row in [("all", actions["total"]), *((t["team"], t) for t in actions["teams"])]:
        for measure in ("planned", "in_progress", "done", "not_possible", "all"):
            yield "actions", key, measure, row[measure], False
    measures = ("standards", "met", "partly_met", "not_met", "not_marked", "percent_met")
    for team in figures["standards"]:
        for share in [*team["sections"], team["overall"]]:
            key = f"{team['team']}: {share['section']}"
            for measure in measures:
                yield "standards", key, measure, share[measure], False
    feedback = figures["activity_feedback"]
    hidden = feedback["given"] is None
    for measure, value in feedback.items():
        hideable = hidden or (measure == "access_met_percent" and feedback["needed_access"] is None)
        yield "activity_feedback", "", measure, value, hideable or measure == "needed_access"


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
