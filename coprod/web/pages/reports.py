"""Report pages: the organisation's co-production figures, network roll-ups, and the local
population figures that reach is compared against."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod import clock
from coprod.domain.equality import QUESTIONS
from coprod.domain.reporting import financial_year, financial_year_of
from coprod.models import Category, Network, PopulationFigure, Role, Team
from coprod.services import reports
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed
from coprod.web.api.periods import period_from, team_from
from coprod.web.charts import bar_chart
from coprod.web.guards import form_values, signed_in
from coprod.web.pages.representatives import LABELS
from coprod.web.render import page, redirect

REPORT_ROLES = (Role.REPORTER, Role.INVOLVEMENT_LEAD, Role.ORG_ADMIN, Role.FINANCE_OFFICER)
CATEGORY_LABELS = {c.value: c.label.split(":")[0] for c in Category} | {None: "Not a category"}


def _charts(report: reports.Report) -> dict[str, Any]:
    def label(key: Any) -> str:
        return CATEGORY_LABELS.get(key, LABELS["mode"].get(key, str(key)))

    return {
        "hours_chart": bar_chart(
            "hours-by-category",
            "Hours of co-production by category",
            "Hours representatives spent in each of the four co-production activities.",
            [(label(r["key"]), r["hours"]) for r in report.by_category],
            " h",
        ),
        "mode_chart": bar_chart(
            "hours-by-mode",
            "Hours by way of taking part",
            "Hours representatives took part in person, by video and by phone.",
            [(label(r["key"]), r["hours"]) for r in report.by_mode],
            " h",
        ),
        "spend_chart": bar_chart(
            "spend-by-category",
            "Spend by category, in pounds",
            "Fees and expenses paid, in pounds, for each co-production activity.",
            [
                (label(r["key"]), round((r["fees_pence"] + r["expenses_pence"]) / 100))
                for r in report.by_category
            ],
        ),
        "actions_chart": bar_chart(
            "actions-by-status",
            '"You said, we did" actions by status',
            "How many actions are planned, in progress, done in the period, or not possible.",
            [
                (text, report.actions["total"][status])
                for status, text in reports.loop.ACTION_STATUSES.items()
            ],
        ),
        "label": label,
    }


def _labels() -> dict[str, Any]:
    """The names the service gives each hideable figure, so the list of hidden figures uses the
    same words as the page."""
    return {
        "people_labels": reports.PEOPLE,
        "wellbeing_labels": reports.WELLBEING,
        "answered_label": reports.ANSWERED,
        "survey_label": reports.SURVEY_LABEL,
        "feedback_label": reports.FEEDBACK_LABEL,
        "access_label": reports.ACCESS_LABEL,
        "audiences": reports.loop.AUDIENCES,
        "stages": reports.loop.STAGES,
        "sources": reports.loop.SOURCES,
        "action_statuses": reports.loop.ACTION_STATUSES,
        "reach_columns": reports.REACH_COLUMNS,
        "answered_keys": reports.ANSWERED_KEYS,
        "recruit": reports.recruiting,
        "funnel_label": reports.recruiting.FUNNEL_LABEL,
        "outreach_label": reports.recruiting.OUTREACH_LABEL,
        "training_label": reports.recruiting.TRAINING_LABEL,
    }


def _period_context(request: Request) -> tuple[Any, ValidationFailed | None, dict[str, str]]:
    query = dict(request.query_params)
    try:
        return period_from(query), None, query
    except ValidationFailed as exc:
        return financial_year(financial_year_of(clock.today())), exc, query


@signed_in(*REPORT_ROLES)
async def organisation(request: Request, actor: Actor) -> Response:
    period, errors, query = _period_context(request)
    teams = await Team.filter(organisation_id=actor.organisation_id)
    try:
        team_id = await team_from(actor, query)
    except ValidationFailed as exc:
        team_id, errors = None, exc
    report = await reports.organisation_report(actor, period, team_id)
    networks = await Network.filter(id__in=list(actor.network_ids))
    return page(
        request,
        "reports/report.html",
        {
            "report": report,
            "title": "Co-production report",
            "query": query,
            "teams": teams,
            "team_id": team_id,
            "networks": networks,
            "this_year": financial_year_of(clock.today()),
            "csv_url": "/api/v1/reports/organisation.csv?" + urlencode(query),
            "json_url": "/api/v1/reports/organisation?" + urlencode(query),
            "questions": {q.key: q for q in QUESTIONS},
            **_labels(),
            **_charts(report),
        },
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in()
async def network(request: Request, actor: Actor) -> Response:
    period, errors, query = _period_context(request)
    found, report = await reports.network_report(actor, request.path_params["id"], period)
    return page(
        request,
        "reports/report.html",
        {
            "report": report,
            "title": f"{found.name}: co-production across members",
            "query": query,
            "teams": [],
            "team_id": None,
            "networks": [],
            "network": found,
            "this_year": financial_year_of(clock.today()),
            "csv_url": f"/api/v1/reports/networks/{found.id}.csv?" + urlencode(query),
            "json_url": f"/api/v1/reports/networks/{found.id}?" + urlencode(query),
            "questions": {q.key: q for q in QUESTIONS},
            **_labels(),
            **_charts(report),
        },
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in(Role.REPORTER, Role.ORG_ADMIN)
async def population(request: Request, actor: Actor) -> Response:
    """The local population figures (for example from the census) to compare reach against."""
    errors = None
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            await reports.set_population_figure(actor, form)
            return redirect("/reports/population?saved=1")
        except ValidationFailed as exc:
            errors = exc
    figures = await PopulationFigure.filter(organisation_id=actor.organisation_id).order_by(
        "characteristic", "group"
    )
    return page(
        request,
        "reports/population.html",
        {
            "figures": figures,
            "questions": QUESTIONS,
            "form": form,
            "saved": request.query_params.get("saved"),
        },
        status_code=422 if errors else 200,
        errors=errors,
    )


routes = [
    Route("/reports", organisation, methods=["GET"]),
    Route("/reports/networks/{id:int}", network, methods=["GET"]),
    Route("/reports/population", population, methods=["GET", "POST"]),
]
