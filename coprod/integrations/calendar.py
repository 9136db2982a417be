"""RFC 5545 / RFC 5546 calendar files for bookings: emailed invites and a subscribable feed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from icalendar import (
    PARTSTAT,
    ROLE,
    STATUS,
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vDuration,
    vRecur,
)

LONDON = ZoneInfo("Europe/London")
PRODID = "-//Coprod//Coprod//EN"
# Subscribing clients that honour these re-fetch hourly instead of their (often daily) default.
FEED_REFRESH = dt.timedelta(hours=1)


@dataclass(frozen=True)
class CalendarEvent:
    uid: str  # stable per booking, e.g. "booking-12-<uuid>@coprod"
    sequence: int  # 0 for the first invite, raised on each change
    summary: str
    description: str
    location: str  # venue address, or "Phone: 0300 ... PIN 1234", or the video link
    starts_at: dt.datetime  # timezone-aware (stored as UTC by the app)
    ends_at: dt.datetime
    organizer_email: str
    organizer_name: str
    attendee_email: str | None  # None for someone without email (feed only)
    attendee_name: str
    cancelled: bool = False
    url: str | None = None

    def __post_init__(self) -> None:
        # A naive time would be read as floating local time by clients, i.e. wrong for someone.
        if self.starts_at.utcoffset() is None or self.ends_at.utcoffset() is None:
            raise ValueError("starts_at and ends_at must be timezone-aware")
        if self.ends_at < self.starts_at:
            raise ValueError("ends_at is before starts_at")
        if self.sequence < 0:
            raise ValueError("sequence must not be negative")


def invite(event: CalendarEvent) -> bytes:
    """METHOD:REQUEST, or METHOD:CANCEL with STATUS:CANCELLED when event.cancelled."""
    if event.attendee_email is None:
        # RFC 5546 scheduling messages need an ATTENDEE; people without email get the feed.
        raise ValueError("an invite needs an attendee email")
    calendar = _calendar(method="CANCEL" if event.cancelled else "REQUEST")
    calendar.add_component(_vevent(event, _utc_now()))
    return _serialise(calendar, [event])


def feed(events: Iterable[CalendarEvent], name: str) -> bytes:
    """A subscribable calendar (no METHOD), X-WR-CALNAME = name; cancelled events keep their
    UID with STATUS:CANCELLED."""
    events = list(events)
    # No METHOD: with one, clients treat the file as a scheduling message, not a calendar.
    calendar = _calendar(method=None)
    calendar.calendar_name = name  # writes both NAME (RFC 7986) and X-WR-CALNAME
    # RFC 7986 makes VALUE=DURATION mandatory here; X-PUBLISHED-TTL is Outlook's older spelling.
    calendar.add("REFRESH-INTERVAL", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", vDuration(FEED_REFRESH))
    now = _utc_now()
    for event in events:
        calendar.add_component(_vevent(event, now))
    return _serialise(calendar, events)


def _calendar(method: str | None) -> Calendar:
    calendar = Calendar()
    calendar.prodid = PRODID
    calendar.version = "2.0"
    if method is not None:
        calendar.method = method
    return calendar


def _vevent(event: CalendarEvent, stamp: dt.datetime) -> Event:
    vevent = Event.new(
        uid=event.uid,
        sequence=event.sequence,
        stamp=stamp,
        # Local London time with TZID, so clients apply BST/GMT from the VTIMEZONE we ship.
        start=event.starts_at.astimezone(LONDON),
        end=event.ends_at.astimezone(LONDON),
        summary=event.summary,
        # Omitted rather than empty, which some clients show as a blank field.
        description=event.description or None,
        location=event.location or None,
        url=event.url,
        status=STATUS.CANCELLED if event.cancelled else STATUS.CONFIRMED,
        organizer=vCalAddress.new(event.organizer_email, cn=event.organizer_name),
    )
    if event.attendee_email is not None:
        vevent.add(
            "ATTENDEE",
            vCalAddress.new(
                event.attendee_email,
                cn=event.attendee_name,
                role=ROLE.REQ_PARTICIPANT,
                partstat=PARTSTAT.NEEDS_ACTION,
                # Replies would go to the organizer's mailbox; bookings change through the app.
                rsvp=False,
            ),
        )
    return vevent


def london_vtimezone() -> Timezone:
    """Europe/London as the UK has kept it since 1996: BST from 01:00 UTC on the last Sunday of
    March to 01:00 UTC on the last Sunday of October. Written by hand as yearly rules, so one
    block serves every year; each DTSTART is the local time just before the change, as RFC 5545
    says (01:00 GMT going forward, 02:00 BST going back)."""
    zone = Timezone()
    zone.add("TZID", "Europe/London")
    for component, start, month, before, after, name in (
        (TimezoneDaylight(), dt.datetime(1996, 3, 31, 1, 0), 3, 0, 1, "BST"),
        (TimezoneStandard(), dt.datetime(1996, 10, 27, 2, 0), 10, 1, 0, "GMT"),
    ):
        component.add("DTSTART", start)
        component.add("RRULE", vRecur(freq="YEARLY", bymonth=month, byday="-1SU"))
        component.add("TZOFFSETFROM", dt.timedelta(hours=before))
        component.add("TZOFFSETTO", dt.timedelta(hours=after))
        component.add("TZNAME", name)
        zone.add_component(component)
    return zone


def _serialise(calendar: Calendar, events: list[CalendarEvent]) -> bytes:
    if events:
        # Clients that do not know the TZID (and some that do) take the clock changes from here.
        calendar.subcomponents.insert(0, london_vtimezone())
    return calendar.to_ical()


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
