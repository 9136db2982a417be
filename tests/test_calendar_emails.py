"""Booking emails as mail clients see them: read from the real SMTP server with Python's email
package, and the calendar with vobject (not icalendar, which writes it)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from typing import Any

import pytest
import vobject

from coprod.models import Role
from coprod.services import bookings
from coprod.services.auth import actor_for
from tests.conftest import Mailbox, deliver_mail
from tests.test_bookings import activity, only_message, person

UTC = dt.UTC
ADA = "ada.lovelace@people.example"


@pytest.fixture
async def lead(world: Any) -> Any:
    org = await world.org()
    user = await world.user(org, "lena.lead@trust.example", Role.INVOLVEMENT_LEAD)
    return await actor_for(user, org.id)


def calendar_parts(message: EmailMessage, method: str) -> bytes:
    """Check the MIME tree a calendar email must have, and return the .ics it carries.

    multipart/mixed
      multipart/alternative: text/plain, text/html, text/calendar; method=...
      text/calendar; method=... (attachment, invite.ics)
    """
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html, inline = alternative.iter_parts()  # type: ignore[attr-defined]
    assert plain.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert inline.get_content_type() == "text/calendar"
    assert inline.get_param("method") == method
    assert inline.get_param("charset") == "utf-8"
    assert inline.get_content_disposition() is None

    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == method
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invite.ics"

    ics = inline.get_payload(decode=True)
    assert isinstance(ics, bytes)
    assert attachment.get_payload(decode=True) == ics
    # RFC 5545 lines end in CRLF; the parts are base64 so nothing on the way rewrites them.
    assert ics.endswith(b"END:VCALENDAR\r\n") and b"\n" not in ics.replace(b"\r\n", b"")
    return ics


def assert_london_clock_changes(cal: Any) -> None:
    """The VTIMEZONE in the file, on its own, moves the clocks at the right instants in 2049:
    forward at 01:00 UTC on 28 March, back at 01:00 UTC on 31 October."""
    zone = cal.vtimezone
    assert zone.tzid.value == "Europe/London"
    spring, autumn = zone.daylight, zone.standard
    assert spring.dtstart.value == dt.datetime(1996, 3, 31, 1, 0)  # 01:00 GMT, a Sunday
    assert spring.rrule.value == "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3"
    assert (spring.tzoffsetfrom.value, spring.tzoffsetto.value) == ("+0000", "+0100")
    assert autumn.dtstart.value == dt.datetime(1996, 10, 27, 2, 0)  # 02:00 BST, a Sunday
    assert autumn.rrule.value == "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"
    assert (autumn.tzoffsetfrom.value, autumn.tzoffsetto.value) == ("+0100", "+0000")

    london = zone.gettzinfo()
    hour = dt.timedelta(hours=1)
    for instant, offset in [
        (dt.datetime(2049, 3, 28, 0, 59, tzinfo=UTC), dt.timedelta(0)),
        (dt.datetime(2049, 3, 28, 1, 0, tzinfo=UTC), hour),
        (dt.datetime(2049, 10, 31, 0, 59, tzinfo=UTC), hour),
        (dt.datetime(2049, 10, 31, 1, 0, tzinfo=UTC), dt.timedelta(0)),
    ]:
        assert instant.astimezone(london).utcoffset() == offset, instant
    for wall_clock, instant in [
        (dt.datetime(2049, 3, 26, 9, 0), dt.datetime(2049, 3, 26, 9, 0, tzinfo=UTC)),
        (dt.datetime(2049, 3, 29, 9, 0), dt.datetime(2049, 3, 29, 8, 0, tzinfo=UTC)),
        (dt.datetime(2049, 10, 29, 9, 0), dt.datetime(2049, 10, 29, 8, 0, tzinfo=UTC)),
        (dt.datetime(2049, 11, 1, 9, 0), dt.datetime(2049, 11, 1, 9, 0, tzinfo=UTC)),
    ]:
        assert wall_clock.replace(tzinfo=london).astimezone(UTC) == instant, wall_clock


def delivered(mailbox: Mailbox, method: str) -> Any:
    message = only_message(mailbox, ADA)
    mailbox.messages.clear()
    cal = vobject.readOne(calendar_parts(message, method).decode("utf-8"))
    assert cal.method.value == method
    assert_london_clock_changes(cal)
    return cal.vevent


def starts(event: Any) -> dt.datetime:
    value = event.dtstart.value
    assert event.dtstart.params.get("X-VOBJ-ORIGINAL-TZID", event.dtstart.params.get("TZID")) == [
        "Europe/London"
    ]
    return value.astimezone(UTC)


async def test_booking_change_and_cancellation_arrive_as_one_meeting(lead, mailbox):
    ada = await person(lead, "Ada Lovelace")
    # 09:00 in London on 29 March 2049, the day after the clocks go forward: 08:00 UTC.
    workshop = await activity(lead, "2049-03-29T09:00", minutes=120)
    booking = await bookings.book(lead, workshop, ada, "in_person")
    assert await deliver_mail() == 1
    new = delivered(mailbox, "REQUEST")
    assert new.uid.value == booking.uid
    assert new.sequence.value == "0"
    assert new.status.value == "CONFIRMED"
    assert starts(new) == dt.datetime(2049, 3, 29, 8, 0, tzinfo=UTC)
    assert new.dtstart.value.replace(tzinfo=None) == dt.datetime(2049, 3, 29, 9, 0)

    # Moved past the autumn change: 09:00 on 1 November is 09:00 UTC.
    await bookings.reschedule(lead, workshop, {"starts_at": "2049-11-01T09:00"})
    assert await deliver_mail() == 1
    moved = delivered(mailbox, "REQUEST")
    assert moved.uid.value == booking.uid
    assert moved.sequence.value == "1"
    assert starts(moved) == dt.datetime(2049, 11, 1, 9, 0, tzinfo=UTC)
    assert moved.dtend.value.astimezone(UTC) == dt.datetime(2049, 11, 1, 11, 0, tzinfo=UTC)

    await booking.refresh_from_db()
    await bookings.cancel(lead, booking)
    assert await deliver_mail() == 1
    cancelled = delivered(mailbox, "CANCEL")
    assert cancelled.uid.value == booking.uid
    assert cancelled.sequence.value == "2"
    assert cancelled.status.value == "CANCELLED"
    assert starts(cancelled) == dt.datetime(2049, 11, 1, 9, 0, tzinfo=UTC)
