"""A representative's feedback on an activity they attended: the invitation to give it, giving
it (or a lead recording it for them), and what the lead sees of it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from coprod.config import get_settings
from coprod.domain import activity_feedback as rules
from coprod.domain.scheduling import london_midnight
from coprod.errors import Conflict, NotFound
from coprod.models import Activity, ActivityFeedback, Agreement, Booking, BookingStatus
from coprod.services import activities, audit, contact
from coprod.services.access import is_lead, is_self, require_lead
from coprod.services.actor import Actor
from coprod.services.bookings import booking_for
from coprod.templating import london
from coprod.validation import Checker

ALREADY = "Feedback has already been given for this booking. Thank you."
NOT_ATTENDED = "Feedback can be given once attendance at the activity has been recorded"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def invite(booking: Booking, activity: Activity) -> None:
    """Ask someone whose attendance was just recorded how it went. Call inside the attendance
    transaction; the dedupe key means correcting attendance never asks twice."""
    rep = await booking.representative
    await contact.notify(
        rep,
        kind="activity_feedback_request",
        context={
            "name": rep.full_name,
            "title": activity.title,
            "when": london(booking.starts_at, "%A %-d %B %Y"),
            "url": f"{get_settings().base_url}/my/bookings/{booking.id}/feedback",
            "contact": await activities.lead_contact(activity, rep),
        },
        organisation_id=activity.organisation_id,
        dedupe_key=f"booking:{booking.id}:feedback-request",
    )


async def booking_to_answer(
    actor: Actor, booking_id: int
) -> tuple[Booking, ActivityFeedback | None]:
    """A booking the actor may give feedback on (their own) or record it for (a lead), with the
    feedback already given, if any. Someone else's booking is not found."""
    booking = await booking_for(actor, booking_id)
    return booking, await ActivityFeedback.get_or_none(booking_id=booking.id)


def _read(data: Mapping[str, Any]) -> dict[str, Any]:
    c = Checker(data)
    rating = c.choice("rating", "how it went", [str(r) for r in rules.RATINGS])
    listened = c.choice("listened_to", "whether you felt listened to", list(rules.LISTENED))
    access = c.choice("access_met", "whether your access needs were met", list(rules.ACCESS))
    comments = c.text("comments", "anything else", required=False, max_length=5000)
    c.done()
    return {
        "rating": int(rating),
        "listened_to": Agreement(listened),
        "access_met": None if access == rules.NOT_NEEDED else Agreement(access),
        "comments": comments or None,
    }


async def submit(actor: Actor, booking_id: int, data: Mapping[str, Any]) -> ActivityFeedback:
    """The representative's own answers, or a lead's record of what they said (marked as
    entered by the lead, and audited on their behalf). Once per booking, for attended ones."""
    booking, existing = await booking_to_answer(actor, booking_id)
    rep = booking.representative
    on_behalf = not is_self(actor, rep)
    if on_behalf:
        require_lead(actor)
    if booking.status != BookingStatus.ATTENDED:
        raise Conflict(NOT_ATTENDED, "rating")
    values = _read(data)
    if existing is not None:
        raise Conflict(ALREADY, "rating")
    activity = booking.activity
    try:
        async with in_transaction():
            feedback = await ActivityFeedback.create(
                organisation_id=activity.organisation_id,
                activity_id=activity.id,
                representative_id=rep.id,
                booking_id=booking.id,
                entered_by=actor.user if on_behalf else None,
                submitted_at=_now(),
                **values,
            )
            await audit.record(
                actor,
                "activity_feedback.give",
                feedback,
                after=audit.snapshot(feedback, exclude={"comments"}),
                on_behalf_of=rep.full_name if on_behalf else None,
            )
    except IntegrityError:  # two answers at once: the unique booking column kept one
        raise Conflict(ALREADY, "rating") from None
    return feedback


async def mark_followed_up(actor: Actor, feedback_id: int) -> ActivityFeedback:
    """The lead has been in touch about this answer: it leaves their list to follow up."""
    feedback = await feedback_for(actor, feedback_id)
    if feedback.reviewed_at is None:
        async with in_transaction():
            feedback.reviewed_at = _now()
            feedback.reviewed_by = actor.user
            await feedback.save(update_fields=["reviewed_at", "reviewed_by_id"])
            await audit.record(
                actor,
                "activity_feedback.followed_up",
                feedback,
                after={"reviewed_at": feedback.reviewed_at.isoformat()},
            )
    return feedback


# ------------------------------------------------------------------------- what leads see


async def feedback_for(actor: Actor, feedback_id: int) -> ActivityFeedback:
    if not is_lead(actor):
        raise NotFound
    feedback = await ActivityFeedback.get_or_none(
        id=feedback_id, organisation_id=actor.organisation_id
    ).prefetch_related("representative", "activity", "entered_by")
    if feedback is None:
        raise NotFound
    return feedback


@dataclass(frozen=True)
class ActivitySection:
    answers: list[ActivityFeedback]
    summary: rules.Summary


async def for_activity(actor: Actor, activity: Activity) -> ActivitySection | None:
    """Everyone's answers on one activity, with names, for leads only (None for anyone else)."""
    if not is_lead(actor) or activity.organisation_id != actor.organisation_id:
        return None
    answers = (
        await ActivityFeedback.filter(activity_id=activity.id)
        .prefetch_related("representative", "entered_by")
        .order_by("submitted_at", "id")
    )
    return ActivitySection(
        answers,
        rules.summarise(
            (a.rating, a.listened_to.value, a.access_met.value if a.access_met else None)
            for a in answers
        ),
    )


def to_follow_up_query(actor: Actor) -> Any:
    """Answers not yet followed up where someone did not feel fully listened to or their access
    needs were not fully met (domain rule `follow_up`): a query, so pages can page it."""
    require_lead(actor)
    short = [Agreement.NO, Agreement.PARTLY]
    return (
        ActivityFeedback.filter(organisation_id=actor.organisation_id, reviewed_at__isnull=True)
        .filter(Q(listened_to__in=short) | Q(access_met__in=short))
        .prefetch_related("representative", "activity")
        .order_by("submitted_at", "id")
    )


def listing(
    actor: Actor,
    *,
    activity_id: int | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Any:
    """The organisation's feedback, newest first, optionally for one activity or given within
    London dates: a query the caller pages."""
    require_lead(actor)
    query = ActivityFeedback.filter(organisation_id=actor.organisation_id)
    if activity_id is not None:
        query = query.filter(activity_id=activity_id)
    if start is not None:
        query = query.filter(submitted_at__gte=london_midnight(start))
    if end is not None:
        query = query.filter(submitted_at__lt=london_midnight(end + dt.timedelta(days=1)))
    return query.prefetch_related("representative", "activity", "entered_by").order_by(
        "-submitted_at", "-id"
    )
