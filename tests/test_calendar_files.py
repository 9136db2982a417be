"""Calendar files for bookings, read back with vobject (a parser independent of icalendar)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import vobject

from coprod.integrations.calendar import CalendarEvent, feed, invite

UTC = dt.UTC


def make_event(**changes: Any) -> CalendarEvent:
    starts_at = changes.pop("starts_at", dt.datetime(2026, 5, 12, 13, 0, tzinfo=UTC))
    base = CalendarEvent(
        uid="booking-12-3f0c8a52-8d1e-4b7a-9a44-2b1d0c9e7f10@coprod",
        sequence=0,
        summary="Service design workshop",
        description="Bring your expenses form.",
        location="Trust HQ, 1 Park Row, Leeds LS1 5HD",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        organizer_email="coproduction@trust.nhs.uk",
        organizer_name="Co-production team",
        attendee_email="sam@example.org",
        attendee_name="Sam Jones",
    )
    return dataclasses.replace(base, **changes)


def parse(data: bytes) -> Any:
    assert isinstance(data, bytes)
    return vobject.readOne(data.decode("utf-8"))


def shipped_zone(cal: Any) -> dt.tzinfo:
    """The tzinfo built from the VTIMEZONE in the file alone, as a client without tzdata would."""
    return cal.vtimezone.gettzinfo()


def assert_london(prop: Any, cal: Any, expected_utc: dt.datetime) -> None:
    value = prop.value
    assert value.astimezone(UTC) == expected_utc
    tzid = prop.params.get("X-VOBJ-ORIGINAL-TZID") or prop.params.get("TZID")
    assert tzid == ["Europe/London"]
    # The shipped VTIMEZONE must give the same instant for the written wall-clock time.
    local = value.replace(tzinfo=None).replace(tzinfo=shipped_zone(cal))
    assert local.astimezone(UTC) == expected_utc


def test_request_carries_method_identity_people_and_times() -> None:
    event = make_event(sequence=2, url="https://coprod.example/bookings/12")
    cal = parse(invite(event))

    assert cal.method.value == "REQUEST"
    assert cal.version.value == "2.0"
    assert cal.prodid.value == "-//Coprod//Coprod//EN"
    vevent = cal.vevent
    assert vevent.uid.value == event.uid
    assert vevent.sequence.value == "2"
    assert vevent.summary.value == "Service design workshop"
    assert vevent.description.value == "Bring your expenses form."
    assert vevent.location.value == "Trust HQ, 1 Park Row, Leeds LS1 5HD"
    assert vevent.url.value == "https://coprod.example/bookings/12"
    assert vevent.status.value == "CONFIRMED"

    assert vevent.organizer.value.lower() == "mailto:coproduction@trust.nhs.uk"
    assert vevent.organizer.params["CN"] == ["Co-production team"]
    attendee = vevent.attendee
    assert attendee.value.lower() == "mailto:sam@example.org"
    assert attendee.params["CN"] == ["Sam Jones"]
    assert attendee.params["ROLE"] == ["REQ-PARTICIPANT"]
    assert attendee.params["PARTSTAT"] == ["NEEDS-ACTION"]
    assert attendee.params["RSVP"] == ["FALSE"]

    # 13:00 UTC in May is 14:00 BST.
    assert_london(vevent.dtstart, cal, dt.datetime(2026, 5, 12, 13, 0, tzinfo=UTC))
    assert_london(vevent.dtend, cal, dt.datetime(2026, 5, 12, 15, 0, tzinfo=UTC))
    assert vevent.dtstart.value.replace(tzinfo=None) == dt.datetime(2026, 5, 12, 14, 0)

    assert vevent.dtstamp.value.utcoffset() == dt.timedelta(0)
    data = invite(event)
    assert re.search(rb"\r\nDTSTAMP:\d{8}T\d{6}Z\r\n", data)
    assert b"PUBLISH" not in data


def test_any_timezone_in_is_written_as_london_time() -> None:
    new_york = dt.timezone(dt.timedelta(hours=-4))
    starts_at = dt.datetime(2026, 5, 12, 9, 0, tzinfo=new_york)  # 13:00 UTC, 14:00 BST
    data = invite(make_event(starts_at=starts_at))
    assert b"DTSTART;TZID=Europe/London:20260512T140000" in data


@pytest.mark.parametrize(
    ("utc_start", "london_wall_clock"),
    [
        # Spring forward on 29 March 2026.
        (dt.datetime(2026, 3, 28, 10, 0, tzinfo=UTC), "20260328T100000"),  # GMT
        (dt.datetime(2026, 3, 30, 9, 0, tzinfo=UTC), "20260330T100000"),  # BST
        # Fall back on 25 October 2026.
        (dt.datetime(2026, 10, 24, 9, 0, tzinfo=UTC), "20261024T100000"),  # BST
        (dt.datetime(2026, 10, 26, 10, 0, tzinfo=UTC), "20261026T100000"),  # GMT
    ],
)
def test_ten_oclock_london_either_side_of_a_clock_change(
    utc_start: dt.datetime, london_wall_clock: str
) -> None:
    data = invite(make_event(starts_at=utc_start))
    assert f"DTSTART;TZID=Europe/London:{london_wall_clock}".encode() in data
    cal = parse(data)
    assert_london(cal.vevent.dtstart, cal, utc_start)
    assert_london(cal.vevent.dtend, cal, utc_start + dt.timedelta(hours=2))


def test_a_feed_spanning_both_changes_keeps_each_event_right() -> None:
    starts = [
        dt.datetime(2026, 3, 28, 10, 0, tzinfo=UTC),
        dt.datetime(2026, 3, 30, 9, 0, tzinfo=UTC),
        dt.datetime(2026, 10, 24, 9, 0, tzinfo=UTC),
        dt.datetime(2026, 10, 26, 10, 0, tzinfo=UTC),
    ]
    events = [make_event(uid=f"booking-{i}@coprod", starts_at=s) for i, s in enumerate(starts)]
    cal = parse(feed(events, "My Coprod bookings"))
    by_uid = {v.uid.value: v for v in cal.vevent_list}
    for i, start in enumerate(starts):
        vevent = by_uid[f"booking-{i}@coprod"]
        assert vevent.dtstart.value.replace(tzinfo=None).hour == 10
        assert_london(vevent.dtstart, cal, start)


def test_cancel_keeps_uid_and_uses_the_sequence_passed() -> None:
    request = make_event(sequence=1)
    cancel = dataclasses.replace(request, sequence=2, cancelled=True)
    first, second = parse(invite(request)), parse(invite(cancel))

    assert second.method.value == "CANCEL"
    assert second.vevent.uid.value == first.vevent.uid.value == request.uid
    assert second.vevent.status.value == "CANCELLED"
    assert second.vevent.sequence.value == "2"
    assert second.vevent.attendee.value.lower() == "mailto:sam@example.org"


def test_invite_needs_an_attendee_email() -> None:
    with pytest.raises(ValueError, match="attendee email"):
        invite(make_event(attendee_email=None))


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_event(starts_at=dt.datetime(2026, 5, 12, 13, 0))


def test_feed_has_no_method_a_name_and_cancelled_events_kept() -> None:
    live = make_event(uid="booking-1@coprod")
    gone = make_event(
        uid="booking-2@coprod",
        sequence=3,
        cancelled=True,
        attendee_email=None,
        starts_at=dt.datetime(2026, 6, 1, 9, 0, tzinfo=UTC),
    )
    data = feed([live, gone], "Sam's Coprod bookings")
    assert b"METHOD" not in data
    cal = parse(data)

    assert cal.x_wr_calname.value == "Sam's Coprod bookings"
    assert not hasattr(cal, "method")
    by_uid = {v.uid.value: v for v in cal.vevent_list}
    assert set(by_uid) == {"booking-1@coprod", "booking-2@coprod"}
    assert by_uid["booking-1@coprod"].status.value == "CONFIRMED"
    assert by_uid["booking-2@coprod"].status.value == "CANCELLED"
    assert by_uid["booking-2@coprod"].sequence.value == "3"
    # Without an email there is no one to address, so no ATTENDEE line.
    assert not hasattr(by_uid["booking-2@coprod"], "attendee")


def test_vtimezone_appears_once_in_a_feed_of_several_events() -> None:
    events = [
        make_event(uid=f"booking-{i}@coprod", starts_at=dt.datetime(2026, m, 3, 9, tzinfo=UTC))
        for i, m in enumerate([1, 4, 7, 11, 12])
    ] + [make_event(uid="next-year@coprod", starts_at=dt.datetime(2027, 2, 1, 9, tzinfo=UTC))]
    data = feed(events, "Bookings")
    assert data.count(b"BEGIN:VTIMEZONE") == 1
    assert data.count(b"TZID:Europe/London") == 1
    cal = parse(data)
    assert len(cal.vtimezone_list) == 1
    assert len(cal.vevent_list) == 6


def test_an_empty_feed_is_still_a_calendar() -> None:
    cal = parse(feed([], "Nothing yet"))
    assert cal.x_wr_calname.value == "Nothing yet"
    assert not hasattr(cal, "vevent")


def test_special_characters_survive_a_round_trip() -> None:
    summary = "Café \u2013 Room 2; planning, review\nand lunch"
    location = "Ward 3, St Mary's; Léeds\nPhone: 0300 123 4567, PIN 1234"
    description = 'Line one\nLine two: "quoted", back\\slash; done 😀'
    event = make_event(
        summary=summary,
        location=location,
        description=description,
        attendee_name="Zoë O'Brien, MSc",
        organizer_name="Équipe; Co-production",
    )
    for data in (invite(event), feed([event], "Café \u2013 bookings")):
        assert all(len(line) <= 75 for line in data.split(b"\r\n"))
        cal = parse(data)
        assert cal.vevent.summary.value == summary
        assert cal.vevent.location.value == location
        assert cal.vevent.description.value == description
        assert cal.vevent.attendee.params["CN"] == ["Zoë O'Brien, MSc"]
        assert cal.vevent.organizer.params["CN"] == ["Équipe; Co-production"]


def test_the_shipped_timezone_agrees_with_the_tz_database_at_every_change_to_2040() -> None:
    """vobject reads the VTIMEZONE alone; every half hour either side of each change must give
    the offset that Python's own Europe/London gives."""
    london = ZoneInfo("Europe/London")
    zone = shipped_zone(parse(invite(make_event())))
    half_hour = dt.timedelta(minutes=30)
    for year in range(2026, 2041):
        for month in (3, 10):
            last_sunday = max(
                dt.date(year, month, d)
                for d in range(25, 32)
                if dt.date(year, month, d).weekday() == 6
            )
            change = dt.datetime.combine(last_sunday, dt.time(1, 0), UTC)
            for step in range(-4, 5):
                instant = change + step * half_hour
                assert (
                    instant.astimezone(zone).utcoffset() == instant.astimezone(london).utcoffset()
                ), instant
                # And back: a wall-clock time written in a file means that instant (except in
                # October's repeated hour, where the wall-clock time alone is ambiguous).
                wall_clock = instant.astimezone(london).replace(tzinfo=None)
                first, second = (wall_clock.replace(tzinfo=london, fold=f) for f in (0, 1))
                if first.utcoffset() == second.utcoffset():
                    assert wall_clock.replace(tzinfo=zone).astimezone(UTC) == instant, instant
