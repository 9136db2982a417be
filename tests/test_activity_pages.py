"""Activity and booking pages: organisation walls, secret links, refusals shown on the page."""

from __future__ import annotations

import datetime as dt

from coprod import clock
from coprod.models import (
    AccessArrangement,
    AuditEvent,
    Booking,
    BookingStatus,
    Representative,
    Role,
    User,
)
from coprod.services import (
    activities,
    arrangements,
    auth,
    bookings,
    calendar_feed,
    contracts,
    polls,
    reminders,
    representatives,
)
from tests.conftest import sign_in

SOON = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=20)


async def setup(world, org_name="Northshire NHS Trust", lead_email="lead@trust.example"):
    org = await world.org(org_name)
    user = await world.user(org, lead_email, Role.INVOLVEMENT_LEAD)
    lead = await auth.actor_for(user, org.id)
    rep = await representatives.create(
        lead,
        {
            "full_name": "Alex Morgan",
            "representative_type": "patient",
            "email": f"alex@{org.slug}.example",
            "contact_channels": ["email"],
        },
    )
    await contracts.create(
        lead,
        rep,
        {"role_title": "Patient representative", "starts_on": clock.today().isoformat()},
    )
    activity = await activities.create_activity(
        lead,
        {
            "title": "Interview panel",
            "kind": "interview_panel",
            "category": "co_decision",
            "duration_minutes": "120",
            "capacity": "1",
            "phone": "yes",
            "dial_in": "0300 123 4567",
            "starts_at": SOON.isoformat(),
        },
    )
    return org, lead, rep, activity


async def test_another_organisations_activities_and_bookings_are_404(client, world):
    _, their_lead, their_rep, their_activity = await setup(world, "Theirs", "them@trust.example")
    booking = await bookings.book(their_lead, their_activity, their_rep, "phone")
    await setup(world, "Mine", "lead@trust.example")
    await sign_in(client, "lead@trust.example")
    for path in (f"/activities/{their_activity.id}", f"/bookings/{booking.id}"):
        assert (await client.get(path)).status_code == 404, path
    refused = await client.post_form(f"/bookings/{booking.id}/cancel", {}, token_from="/activities")
    assert refused.status_code == 404
    await booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert f'href="/activities/{their_activity.id}"' not in (await client.get("/activities")).text


async def test_a_refused_booking_says_which_rule_on_the_page(client, world):
    _, lead, rep, activity = await setup(world)
    await bookings.book(lead, activity, rep, "phone")
    other = await representatives.create(
        lead,
        {
            "full_name": "Sam Okafor",
            "representative_type": "carer",
            "phone": "01632 960 001",
            "contact_channels": ["phone"],
        },
    )
    await sign_in(client, "lead@trust.example")
    page = f"/activities/{activity.id}"
    response = await client.post_form(
        f"{page}/book", {"representative_id": other.id, "mode": "phone"}, token_from=page
    )
    assert response.status_code == 409
    assert "This activity is full" in response.text
    assert "They do not have a contract that covers the date of this activity" in response.text
    assert await Booking.filter(representative=other).count() == 0


async def test_answering_by_the_emailed_link_needs_no_sign_in_but_the_right_secret(
    client, world, mailbox
):
    _, lead, rep, _ = await setup(world)
    poll = await activities.create_activity(
        lead,
        {
            "title": "Leaflet review",
            "kind": "meeting",
            "category": "co_evaluation",
            "duration_minutes": "60",
            "capacity": "5",
            "phone": "yes",
            "dial_in": "0300 123 4567",
        },
    )
    await activities.add_options(
        lead, poll, {"options": [(SOON + dt.timedelta(days=d)).isoformat() for d in (1, 2)]}
    )
    [invited] = await polls.invite(lead, poll, [rep.id])
    path = invited.link.replace("http://testserver", "")
    assert (await client.get("/answer/not-the-secret")).status_code == 404
    form = await client.get(path)
    assert form.status_code == 200 and "When can you make it?" in form.text
    options = await poll.options.all()
    answered = await client.post_form(
        path, {f"answer_{options[0].id}": "yes", f"answer_{options[1].id}": "no", "mode": "phone"}
    )
    assert answered.status_code == 303
    assert "Thank you" in (await client.get(answered.headers["location"])).text
    missing = await client.post_form(path, {f"answer_{options[0].id}": "yes"})
    assert missing.status_code == 422
    assert (
        "Say if you can come on" in missing.text
        and "Select how you would like to take part" in missing.text
    )


async def test_the_calendar_feed_and_tech_test_links_open_only_with_their_secret(
    client, world, mailbox
):
    _, lead, rep, activity = await setup(world)
    await activities.update_activity(
        lead, activity, {"video": "yes", "video_link": "https://meet.example/x"}
    )
    booking = await bookings.book(lead, activity, rep, "video")
    token = await calendar_feed.reset_calendar_token(lead, rep)
    feed = await client.get(f"/calendar/{token}.ics")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert booking.uid in feed.text
    assert (await client.get("/calendar/wrong.ics")).status_code == 404
    assert (await client.get(f"/tech-test/{booking.id}.forged")).status_code == 404
    good = f"/tech-test/{reminders.tech_test_token(booking)}"
    assert (await client.get(good)).status_code == 200
    assert (await client.post_form(good, {})).status_code == 200
    assert await AuditEvent.filter(action="booking.tech_test_request").exists()


async def test_a_representative_withdraws_with_no_reason_asked(client, world, mailbox):
    _, lead, rep, activity = await setup(world)
    booking = await bookings.book(lead, activity, rep, "phone")
    user = await User.get(email=rep.email)
    client.http.cookies.set("coprod_session", await auth.start_session(user))
    mine = await client.get("/my/bookings")
    assert "Interview panel" in mine.text
    detail = await client.get(f"/bookings/{booking.id}")
    assert "Nobody will ask why" in detail.text and "Access arrangements" not in detail.text
    withdrawn = await client.post_form(
        f"/bookings/{booking.id}/cancel", {}, token_from="/my/bookings"
    )
    assert (
        withdrawn.status_code == 303 and withdrawn.headers["location"] == "/my/bookings?done=cancel"
    )
    await booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert (await AuditEvent.get(action="booking.withdraw")).on_behalf_of is None
    calendar = await client.get("/my/calendar")
    assert "/calendar/" in calendar.text


async def test_cancelling_asks_first_then_closes_the_open_access_arrangements(client, world):
    _, lead, rep, activity = await setup(world)
    rep = await representatives.update(
        lead, rep, {"formats": ["braille", "large_print"]}, partial=True
    )
    booking = await bookings.book(lead, activity, rep, "phone")
    braille, large_print = await AccessArrangement.filter(booking=booking).order_by("kind")
    await arrangements.tick(lead, large_print, True)
    await sign_in(client, "lead@trust.example")

    detail = await client.get(f"/bookings/{booking.id}")
    assert f'href="/bookings/{booking.id}/cancel"' in detail.text
    assert f'action="/bookings/{booking.id}/cancel"' not in detail.text
    confirm = await client.get(f"/bookings/{booking.id}/cancel")
    assert confirm.status_code == 200 and "Cancel this booking?" in confirm.text
    assert "Braille papers posted" in confirm.text
    await booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED  # looking at the question changes nothing

    done = await client.post_form(
        f"/bookings/{booking.id}/cancel", {}, token_from=f"/bookings/{booking.id}/cancel"
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?done=cancel")
    await booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    # The open task is closed; the one already done stays as a record of the work.
    assert [a.kind for a in await AccessArrangement.filter(booking=booking)] == [large_print.kind]
    assert braille.kind == "braille"
    event = await AuditEvent.get(action="booking.cancel")
    assert event.after["arrangements_closed"] == ["Braille papers posted"]
    assert "Braille papers posted" not in (await client.get("/arrangements/overdue")).text
    again = await client.post_form(
        f"/bookings/{booking.id}/cancel", {}, token_from=f"/bookings/{booking.id}"
    )
    assert again.status_code == 409 and "already cancelled" in again.text


async def test_people_to_book_are_listed_a_page_at_a_time_and_found_by_name(client, world):
    _, lead, alex, activity = await setup(world)
    activity = await activities.update_activity(lead, activity, {"capacity": "2"})
    # Alex, plus 29 more: more than a page of the 25 shown at once.
    for i in range(29):
        await representatives.create(
            lead,
            {
                "full_name": f"Person {i:02d}",
                "representative_type": "carer",
                "phone": "01632 960 003",
                "contact_channels": ["phone"],
            },
        )
    await bookings.book(lead, activity, alex, "phone")
    await sign_in(client, "lead@trust.example")

    first = await client.get(f"/activities/{activity.id}")
    offered = first.text.count('name="representative_id"')
    assert offered == 25 and f"/activities/{activity.id}?people=2" in first.text
    second = await client.get(f"/activities/{activity.id}?people=2")
    # Alex is booked already, so is not offered again: 29 people, 25 then 4.
    assert second.text.count('name="representative_id"') == 4
    assert "Alex Morgan</label>" not in first.text + second.text

    found = await client.get(f"/activities/{activity.id}?find=person 1")
    assert found.text.count('name="representative_id"') == 10  # Person 10 to Person 19
    assert "Person 12" in found.text and "Person 02" not in found.text
    nobody = await client.get(f"/activities/{activity.id}?find=zebedee")
    assert "Nobody else matches" in nobody.text and 'name="representative_id"' not in nobody.text

    # Booking from the list books the person chosen.
    chosen = await Representative.get(full_name="Person 07")
    await contracts.create(
        lead, chosen, {"role_title": "Carer representative", "starts_on": clock.today().isoformat()}
    )
    booked = await client.post_form(
        f"/activities/{activity.id}/book", {"representative_id": str(chosen.id), "mode": "phone"}
    )
    assert booked.status_code == 303
    assert await Booking.filter(activity=activity, representative=chosen).exists()
