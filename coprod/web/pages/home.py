"""The start page: a welcome for visitors, a dashboard for people signed in."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod.domain import activity_feedback as feedback_rules
from coprod.models import STAFF_ROLES, ActivityFeedback, Organisation, Role
from coprod.services import actions, activity_feedback, dashboard, payouts
from coprod.web.render import page

FOLLOW_UP_SHOWN = 10


async def home(request: Request) -> Response:
    actor = request.state.actor
    if actor is None or actor.user is None:
        return page(request, "home/welcome.html")
    organisation = (
        await Organisation.get_or_none(id=actor.organisation_id) if actor.organisation_id else None
    )
    configuration_problems: list[str] = []
    follow_up: list[ActivityFeedback] = []
    figures = await dashboard.figures(actor) if organisation else dashboard.Figures()
    if organisation and actor.has(Role.INVOLVEMENT_LEAD):
        # Someone not listened to, or whose access needs were not met: the oldest first, a
        # few at a time, each on its activity's page.
        follow_up = await activity_feedback.to_follow_up_query(actor).limit(FOLLOW_UP_SHOWN + 1)
    championed: list[dict[str, object]] = []
    if organisation and actor.has(*STAFF_ROLES):
        teams = await actions.championed_teams(actor)
        counts = await actions.new_feedback_counts(teams)
        championed = [{"team": t, "new": counts[t.id]} for t in teams]
    if organisation and actor.has(Role.ORG_ADMIN):
        configuration_problems = payouts.configuration_problems()
    return page(
        request,
        "home/dashboard.html",
        {
            "organisation": organisation,
            "roles": sorted(actor.roles, key=lambda r: r.value),
            "failed_messages": figures.failed_messages,
            "configuration_problems": configuration_problems,
            "lead_counts": figures.to_do,
            "follow_up": follow_up[:FOLLOW_UP_SHOWN],
            "more_follow_up": len(follow_up) > FOLLOW_UP_SHOWN,
            "follow_up_reasons": feedback_rules.follow_up,
            "championed": championed,
        },
    )


async def accessibility(request: Request) -> Response:
    return page(request, "home/accessibility.html")


routes = [
    Route("/", home, methods=["GET"]),
    Route("/accessibility", accessibility, methods=["GET"]),
]
