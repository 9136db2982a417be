"""The start page: a welcome for visitors, a dashboard for people signed in."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod.domain import activity_feedback as feedback_rules
from coprod.models import (
    STAFF_ROLES,
    ActivityFeedback,
    Booking,
    BookingStatus,
    Organisation,
    OutboxMessage,
    OutboxStatus,
    Role,
)
from coprod.services import (
    actions,
    activity_feedback,
    arrangements,
    contracts,
    interests,
    payouts,
    reminders,
    wellbeing,
)
from coprod.web.render import page

FOLLOW_UP_SHOWN = 10


async def home(request: Request) -> Response:
    actor = request.state.actor
    if actor is None or actor.user is None:
        return page(request, "home/welcome.html")
    organisation = (
        await Organisation.get_or_none(id=actor.organisation_id) if actor.organisation_id else None
    )
    failed_messages = 0
    configuration_problems: list[str] = []
    lead_counts: dict[str, int] = {}
    follow_up: list[ActivityFeedback] = []
    if organisation and actor.has(Role.INVOLVEMENT_LEAD):
        lead_counts = {
            "catch_ups": await contracts.catch_ups_due_count(actor),
            "consents": await wellbeing.consents_due_for_review_count(actor),
            "overdue": await arrangements.overdue_count(actor),
            "letters": await arrangements.transcriptions_count(actor),
            "calls": await reminders.call_count(actor),
            "checks": await Booking.filter(
                activity__organisation_id=actor.organisation_id,
                status=BookingStatus.NEEDS_WELLBEING_CHECK,
            ).count(),
            "interest": await interests.waiting_for_a_chat(actor),
        }
        # Someone not listened to, or whose access needs were not met: the oldest first, a
        # few at a time, each on its activity's page.
        follow_up = await activity_feedback.to_follow_up_query(actor).limit(FOLLOW_UP_SHOWN + 1)
    championed: list[dict[str, object]] = []
    if organisation and actor.has(*STAFF_ROLES):
        teams = await actions.championed_teams(actor)
        counts = await actions.new_feedback_counts(teams)
        championed = [{"team": t, "new": counts[t.id]} for t in teams]
    if organisation and actor.has(Role.ORG_ADMIN):
        failed_messages = await OutboxMessage.filter(
            organisation_id=organisation.id, status=OutboxStatus.FAILED
        ).count()
        configuration_problems = payouts.configuration_problems()
    return page(
        request,
        "home/dashboard.html",
        {
            "organisation": organisation,
            "roles": sorted(actor.roles, key=lambda r: r.value),
            "failed_messages": failed_messages,
            "configuration_problems": configuration_problems,
            "lead_counts": lead_counts,
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
