"""Calendar invites: the event for a booking and the email that carries it."""

from __future__ import annotations

import base64
from typing import Any

from coprod.config import get_settings
from coprod.integrations import calendar
from coprod.models import (
    Activity,
    Booking,
    BookingStatus,
    Representative,
    User,
)
from coprod.services import activities, contact, outbox
from coprod.services.activities import how_to_join, location_for
from coprod.templating import london


async def calendar_event(booking: Booking, *, cancelled: bool = False) -> calendar.CalendarEvent:
    activity = await booking.activity
    rep = await booking.representative
    lead = await User.get_or_none(id=activity.lead_id) if activity.lead_id else None
    settings = get_settings()
    return calendar.CalendarEvent(
        uid=booking.uid,
        sequence=booking.sequence,
        summary=activity.title,
        description="\n\n".join(
            p for p in (how_to_join(activity, booking.mode), activity.description) if p
        ),
        location=location_for(activity, booking.mode),
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        organizer_email=lead.work_email if lead else settings.mail_from,
        organizer_name=lead.full_name if lead else "Coprod",
        attendee_email=rep.email,
        attendee_name=rep.full_name,
        cancelled=cancelled or booking.status == BookingStatus.CANCELLED,
        url=f"{settings.base_url}/my/bookings",
    )


def invited(booking: Booking) -> bool:
    """Has the person been sent this booking's invite, so the event is in their calendar?
    A booking flagged for a wellbeing check after it was confirmed keeps its confirmed_at."""
    return booking.status == BookingStatus.CONFIRMED or booking.confirmed_at is not None


async def send_invite(booking: Booking, template: str, *, cancelled: bool = False) -> None:
    """Tell the representative about this booking the way they chose; an email carries the
    calendar file."""
    rep = await booking.representative
    activity = await booking.activity
    attachments: tuple[outbox.Attachment, ...] = ()
    if rep.email:
        event = await calendar_event(booking, cancelled=cancelled)
        attachments = (
            outbox.Attachment(
                filename="invite.ics",
                content_type="text/calendar",
                content_b64=base64.b64encode(calendar.invite(event)).decode(),
                method="CANCEL" if cancelled else "REQUEST",
            ),
        )
    await contact.notify(
        rep,
        kind=template,
        context=await booking_email(booking, activity, rep),
        organisation_id=activity.organisation_id,
        attachments=attachments,
    )


async def booking_email(
    booking: Booking, activity: Activity, rep: Representative
) -> dict[str, Any]:
    """What a booking's emails tell the person: when, where and how to join, what is paid, and
    whom to phone."""
    return {
        "name": rep.full_name,
        "title": activity.title,
        "when": london(booking.starts_at, "%A %-d %B %Y at %-I:%M%p"),
        "how": how_to_join(activity, booking.mode),
        "paid": await activities.what_is_paid(activity, rep, booking.starts_at),
        "contact": await activities.lead_contact(activity, rep),
        "url": f"{get_settings().base_url}/my/bookings",
    }
