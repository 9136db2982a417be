"""Reminders before an activity, tech-test requests, and the call list of people to phone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.queryset import CountQuery, QuerySet
from tortoise.transactions import in_transaction

from coprod import db
from coprod.config import get_settings
from coprod.domain.phone_numbers import normalise_mobile
from coprod.domain.scheduling import london_date
from coprod.errors import Forbidden, NotFound
from coprod.models import (
    HOLDING,
    MONEY_TROUBLE,
    NEEDS_A_CALL,
    Activity,
    ActivityStatus,
    Booking,
    BookingStatus,
    Claim,
    Invitation,
    OutboxMessage,
    ReceivedText,
    Representative,
    User,
)
from coprod.security import sign, signatures_match
from coprod.services import audit, contact, messages, outbox, text_replies
from coprod.services.access import is_lead
from coprod.services.activities import how_to_join
from coprod.services.actor import Actor
from coprod.templating import london


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def tech_test_token(booking: Booking) -> str:
    return f"{booking.id}.{sign(get_settings().secret_key, 'tech-test', booking.uid)}"


async def booking_for_tech_test(token: str) -> Booking:
    booking_id, _, signature = token.partition(".")
    # isascii: str.isdigit() also accepts digits such as "²", which int() rejects; and an id
    # beyond the column's range fails in the database rather than being not found.
    pk = int(booking_id) if booking_id.isascii() and booking_id.isdigit() else 0
    booking = await Booking.get_or_none(id=pk) if 0 < pk < 2**31 else None
    if booking is None or not signatures_match(
        sign(get_settings().secret_key, "tech-test", booking.uid), signature
    ):
        raise NotFound
    return booking


async def request_tech_test(booking: Booking) -> None:
    activity = await booking.activity
    rep = await booking.representative
    lead = await User.get_or_none(id=activity.lead_id) if activity.lead_id else None
    async with in_transaction():
        if lead is not None:
            await outbox.enqueue_email(
                dedupe_key=f"booking:{booking.id}:tech-test:{booking.sequence}",
                to=lead.work_email,
                template="tech_test_request",
                context={
                    "name": lead.full_name,
                    "representative": rep.full_name,
                    "title": activity.title,
                    "when": london(booking.starts_at),
                    "phone": rep.phone or rep.mobile or "",
                    "email": rep.email or "",
                },
                organisation_id=activity.organisation_id,
            )
        await audit.record(
            Actor(user=None, organisation_id=activity.organisation_id, via="link"),
            "booking.tech_test_request",
            booking,
            on_behalf_of=rep.full_name,
        )


async def send_reminders(now: dt.datetime) -> int:
    """Periodic job: a reminder a set time before, once per booking and start time."""
    hours = get_settings().reminder_hours_before
    due = await Booking.filter(
        status=BookingStatus.CONFIRMED,
        starts_at__gt=now,
        starts_at__lte=now + dt.timedelta(hours=hours),
    ).prefetch_related("activity", "representative")
    queued = 0
    settings = get_settings()
    for booking in due:
        rep, activity = booking.representative, booking.activity
        # Anyone we may not write to is on the lead's call list instead.
        sent = await contact.notify(
            rep,
            dedupe_key=f"booking:{booking.id}:reminder:{booking.starts_at.isoformat()}",
            kind="booking_reminder",
            context={
                "name": rep.full_name,
                "title": activity.title,
                "mode": booking.mode,
                "when": london(booking.starts_at, "%A %-d %B %Y at %-I:%M%p"),
                "how": how_to_join(activity, booking.mode),
                "tech_test_url": f"{settings.base_url}/tech-test/{tech_test_token(booking)}",
                "dial_in": activity.dial_in,
                "pin": activity.dial_in_pin,
            },
            organisation_id=activity.organisation_id,
        )
        queued += sent.message is not None
    return queued


@dataclass(frozen=True)
class ToCall:
    """Someone the lead needs to phone, because we may not write to them, and what about: an
    activity (a coming booking, or an invitation not yet answered), their money (a claim's
    payment held, returned by their bank, or reversed), or a message of ours that did not
    reach them. Or a text someone sent that could not be recorded as their answer: then the
    person is None when the number is shared, and `sharers` are the people here who share it."""

    representative: Representative | None
    # Why we do not write to them, e.g. "has not agreed to be contacted"; for a message, what
    # failed, e.g. "Text to 07700 900123 not delivered: the number may be wrong".
    reason: str
    activity: Activity | None = None
    booking: Booking | None = None  # a coming booking, or else
    invitation: Invitation | None = None  # an invitation to say when they can come
    claim: Claim | None = None  # a claim whose money needs them, or news of it
    text: ReceivedText | None = None  # a text they sent, shown with why it needs a call
    sharers: tuple[Representative, ...] = ()
    message: OutboxMessage | None = None  # a message of ours that did not arrive

    @property
    def name(self) -> str:
        if self.representative is not None:
            return self.representative.full_name
        return " or ".join(r.full_name for r in self.sharers) or "Someone we do not know"

    @property
    def when(self) -> dt.datetime | None:
        if self.text:
            return self.text.received_at
        if self.booking:
            return self.booking.starts_at
        return self.activity.poll_deadline if self.activity else None


def _unpaid(actor: Actor) -> QuerySet[Claim]:
    """Claims whose money did not reach the person, or cannot yet: they need to know."""
    return Claim.filter(
        organisation_id=actor.organisation_id,
        money__in=list(MONEY_TROUBLE),
        representative__archived_at__isnull=True,
    )


def _texts(actor: Actor) -> QuerySet[ReceivedText]:
    """Texts people sent that could not be recorded, until the lead has phoned about them."""
    return ReceivedText.filter(
        organisation_id=actor.organisation_id,
        outcome__in=list(NEEDS_A_CALL),
        dealt_with_at__isnull=True,
    )


async def _texts_to_call(actor: Actor) -> list[ToCall]:
    texts = (
        await _texts(actor)
        .order_by("received_at", "id")
        .prefetch_related("representative", "invitation__activity")
    )
    shared = {normalise_mobile(t.from_number) for t in texts if t.representative is None}
    sharers = (
        await Representative.filter(
            organisation_id=actor.organisation_id,
            mobile_normalised__in=[n for n in shared if n],
            archived_at__isnull=True,
        ).order_by("full_name", "id")
        if shared
        else []
    )
    found = []
    for t in texts:
        number = normalise_mobile(t.from_number)
        these = tuple(
            r for r in sharers if t.representative is None and r.mobile_normalised == number
        )
        found.append(
            ToCall(
                t.representative,
                text_replies.describe(t, list(these)),
                t.invitation.activity if t.invitation else None,
                invitation=t.invitation,
                text=t,
                sharers=these,
            )
        )
    return found


async def call_list(actor: Actor, days: int = 14) -> list[ToCall]:
    """Coming bookings, open invitations not yet answered, and payments held or returned, of
    people we may not write to (no consent to be contacted in force, or they asked to be phoned
    or gave no address for the ways they chose): the lead rings them instead. And, first,
    texts people sent that could not be recorded as their answer and messages of ours that did
    not reach someone (oldest first), until the lead has phoned."""
    if not is_lead(actor):
        raise Forbidden
    now = _now()
    booked = await Booking.filter(
        activity__organisation_id=actor.organisation_id,
        status__in=HOLDING,
        starts_at__gt=now,
        starts_at__lte=now + dt.timedelta(days=days),
    ).prefetch_related("representative", "activity")
    invited = await (
        Invitation.filter(
            activity__organisation_id=actor.organisation_id,
            activity__status=ActivityStatus.PLANNING,
            answered_at__isnull=True,
            representative__archived_at__isnull=True,
        )
        .filter(Q(activity__poll_deadline__isnull=True) | Q(activity__poll_deadline__gt=now))
        .prefetch_related("representative", "activity")
    )
    unpaid = await _unpaid(actor).order_by("id").prefetch_related("representative")
    reps = (
        {b.representative.id: b.representative for b in booked}
        | {i.representative.id: i.representative for i in invited}
        | {c.representative.id: c.representative for c in unpaid}
    )
    reasons = {n.representative.id: n.reason for n in await contact.not_contacted(reps.values())}
    found = (
        [
            ToCall(b.representative, reasons[b.representative.id], b.activity, booking=b)
            for b in booked
            if b.representative.id in reasons
        ]
        + [
            ToCall(i.representative, reasons[i.representative.id], i.activity, invitation=i)
            for i in invited
            if i.representative.id in reasons
        ]
        + [
            ToCall(c.representative, reasons[c.representative.id], claim=c)
            for c in unpaid
            if c.representative.id in reasons
        ]
    )
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    failed = await (
        messages.to_follow_up(actor).order_by("created_at", "id").prefetch_related("representative")
    )
    return (
        await _texts_to_call(actor)
        + [ToCall(m.representative, messages.failure(m), message=m) for m in failed]
        + sorted(found, key=lambda c: (c.when or far, c.name))
    )


async def call_count(actor: Actor, days: int = 14) -> int:
    """How many `call_list` lists, counted in the database."""
    return sum((await db.counts(**call_counts(actor, days))).values())


def call_counts(actor: Actor, days: int = 14) -> dict[str, CountQuery]:
    """`call_count` in parts, for counting with other figures in one statement: the same
    bookings, invitations and claims as the call list, of people whose consent to be
    contacted is not in force today or whom no channel they chose reaches
    (Representative.usual_channel), the texts to phone about, and the messages that did not
    arrive."""
    if not is_lead(actor):
        raise Forbidden
    now = _now()
    unreachable = contact.cannot_be_written_to(london_date(now))
    booked = (
        Booking.filter(
            activity__organisation_id=actor.organisation_id,
            status__in=HOLDING,
            starts_at__gt=now,
            starts_at__lte=now + dt.timedelta(days=days),
        )
        .filter(unreachable)
        .count()
    )
    invited = (
        Invitation.filter(
            activity__organisation_id=actor.organisation_id,
            activity__status=ActivityStatus.PLANNING,
            answered_at__isnull=True,
            representative__archived_at__isnull=True,
        )
        .filter(Q(activity__poll_deadline__isnull=True) | Q(activity__poll_deadline__gt=now))
        .filter(unreachable)
        .count()
    )
    return {
        "calls_booked": booked,
        "calls_invited": invited,
        "calls_unpaid": _unpaid(actor).filter(unreachable).count(),
        "calls_texts": _texts(actor).count(),
        "calls_failed": messages.to_follow_up(actor).count(),
    }
