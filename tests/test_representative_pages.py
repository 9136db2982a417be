"""The representatives pages: organisation walls, roles, acting on someone's behalf, errors."""

from __future__ import annotations

import datetime as dt
import re

from coprod import clock
from coprod.models import (
    AcuteEpisode,
    AuditEvent,
    BookingStatus,
    Contract,
    Representative,
    Role,
    User,
)
from coprod.services import (
    activities,
    auth,
    bookings,
    claims,
    contracts,
    polls,
    reminders,
    representatives,
    wellbeing,
)
from tests.conftest import deliver_mail, sign_in

PHONE_ONLY = {
    "full_name": "Maureen Fisher",
    "representative_type": "carer",
    "phone": "01632 960 001",
    "contact_channels": ["phone"],
}


async def lead_of(world, org, email="lead@trust.example"):
    user = await world.user(org, email, Role.INVOLVEMENT_LEAD)
    return user, await auth.actor_for(user, org.id)


async def test_a_lead_of_another_organisation_gets_404_everywhere(client, world):
    theirs = await world.org("Theirs")
    _, their_lead = await lead_of(world, theirs, "them@trust.example")
    rep = await representatives.create(their_lead, PHONE_ONLY)
    contract = await contracts.create(
        their_lead, rep, {"role_title": "Carer representative", "starts_on": "2026-01-01"}
    )
    mine = await world.org("Mine")
    await lead_of(world, mine)
    await sign_in(client, "lead@trust.example")
    for path in (
        f"/representatives/{rep.id}",
        f"/representatives/{rep.id}/edit",
        f"/representatives/{rep.id}/break",
        f"/representatives/{rep.id}/health",
        f"/representatives/{rep.id}/equality",
        f"/representatives/{rep.id}/contracts/new",
        f"/contracts/{contract.id}/renew",
        f"/contracts/{contract.id}/end",
        f"/contracts/{contract.id}/catch-ups",
    ):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "Maureen" not in response.text
    archive = await client.post_form(
        f"/representatives/{rep.id}/archive", {}, token_from="/representatives"
    )
    assert archive.status_code == 404
    await rep.refresh_from_db()
    assert rep.archived_at is None
    assert "Maureen" not in (await client.get("/representatives")).text


async def test_representatives_see_only_their_own_record(client, world):
    org = await world.org()
    _, lead = await lead_of(world, org)
    mine = await representatives.create(
        lead,
        {
            "full_name": "Alex Morgan",
            "representative_type": "patient",
            "email": "alex@people.example",
            "contact_channels": ["email"],
        },
    )
    other = await representatives.create(lead, PHONE_ONLY)
    # Representatives have no password: start the session a link would start.
    user = await User.get(email="alex@people.example")
    client.http.cookies.set("coprod_session", await auth.start_session(user))
    profile = await client.get("/my/profile")
    assert profile.status_code == 200
    assert "<h1>My profile</h1>" in profile.text and "alex@people.example" in profile.text
    assert "Maureen" not in profile.text
    assert (await client.get(f"/representatives/{other.id}")).status_code == 403
    assert (await client.get(f"/representatives/{mine.id}")).status_code == 403
    assert (await client.get("/representatives")).status_code == 403
    assert "Maureen" not in (await client.get("/my/profile/health")).text


async def test_a_reporter_cannot_read_health_data(client, world):
    org = await world.org()
    _, lead = await lead_of(world, org)
    rep = await representatives.create(lead, PHONE_ONLY)
    await wellbeing.give_consent(lead, rep, {"purpose": "health"})
    await wellbeing.record_episode(
        lead, rep, {"started_on": "2026-01-01", "under_crisis_team": "yes", "note": "secret"}
    )
    await world.user(org, "reporter@trust.example", Role.REPORTER, Role.ORG_ADMIN)
    await sign_in(client, "reporter@trust.example")
    response = await client.get(f"/representatives/{rep.id}/health")
    assert response.status_code == 403
    assert "secret" not in response.text
    assert not await AuditEvent.filter(action="health.view").exists()
    # Nor can they find it in the audit log, which they can read as an admin.
    log = await client.get("/admin/audit")
    assert "secret" not in log.text and "2026-01-01" not in log.text


async def test_a_lead_acting_for_a_phone_only_person_is_recorded_as_on_their_behalf(client, world):
    org = await world.org()
    await lead_of(world, org)
    await sign_in(client, "lead@trust.example")
    created = await client.post_form(
        "/representatives/new",
        {
            "full_name": "Maureen Fisher",
            "representative_type": "carer",
            "phone": "01632 960 001",
            "contact_channel_1": "phone",
            "formats": "large_print",
            "preferred_modes": "phone",
            "payment_preference": "paid",
        },
    )
    assert created.status_code == 303, created.text
    rep = await Representative.get()
    assert rep.phone_only and rep.user_id is None
    detail = await client.get(created.headers["location"])
    assert "They do not use email. You act for them" in detail.text

    token_page = f"/representatives/{rep.id}"
    took_break = await client.post_form(
        f"/representatives/{rep.id}/break",
        {"break_until[day]": "1", "break_until[month]": "1", "break_until[year]": "2099"},
    )
    assert took_break.status_code == 303
    event = await AuditEvent.get(action="representative.update")
    assert event.on_behalf_of == "Maureen Fisher"
    assert event.after == {"break_until": "2099-01-01"}
    consent = await client.post_form(
        f"/representatives/{rep.id}/consents", {"purpose": "contact"}, token_from=token_page
    )
    assert consent.status_code == 303
    assert (await AuditEvent.get(action="consent.give")).on_behalf_of == "Maureen Fisher"
    log = await client.get("/admin/audit")
    assert log.status_code == 403  # leads are not org admins here


async def test_form_errors_are_shown_field_by_field_and_nothing_is_saved(client, world):
    org = await world.org()
    await lead_of(world, org)
    await sign_in(client, "lead@trust.example")
    response = await client.post_form(
        "/representatives/new",
        {
            "full_name": "",
            "contact_channel_1": "post",
            "formats": "translated",
            "payment_preference": "paid",
        },
    )
    assert response.status_code == 422
    for message in (
        "Enter their full name",
        "Select whether they are a patient, a carer or both",
        "Enter a postal address, or choose a different way to contact them",
        "Enter the language for translated papers",
    ):
        assert message in response.text
    assert 'href="#postal_address"' in response.text
    assert await Representative.all().count() == 0


async def test_contract_pages_enforce_the_rules(client, world):
    org = await world.org()
    _, lead = await lead_of(world, org)
    rep = await representatives.create(lead, PHONE_ONLY)
    await sign_in(client, "lead@trust.example")
    new = f"/representatives/{rep.id}/contracts/new"
    first = await client.post_form(
        new,
        {
            "role_title": "Carer representative",
            "starts_on[day]": "1",
            "starts_on[month]": "4",
            "starts_on[year]": "2026",
        },
    )
    assert first.status_code == 303
    contract = await Contract.get()
    assert contract.ends_on == dt.date(2029, 3, 31)
    overlap = await client.post_form(
        new,
        {
            "role_title": "Carer representative",
            "starts_on[day]": "1",
            "starts_on[month]": "1",
            "starts_on[year]": "2027",
        },
    )
    assert overlap.status_code == 422
    assert "These dates overlap their contract from 1 April 2026 to 31 March 2029" in overlap.text
    backwards = await client.post_form(
        new,
        {
            "role_title": "x",
            "starts_on[day]": "1",
            "starts_on[month]": "1",
            "starts_on[year]": "2030",
            "ends_on[day]": "1",
            "ends_on[month]": "1",
            "ends_on[year]": "2029",
        },
    )
    assert (
        backwards.status_code == 422
        and "The end date must be after the start date" in backwards.text
    )
    no_reason = await client.post_form(f"/contracts/{contract.id}/end", {"reason": ""})
    assert no_reason.status_code == 422 and "Enter the reason it is ending early" in no_reason.text
    renewed = await client.post_form(
        f"/contracts/{contract.id}/renew", {"role_title": "Carer representative"}
    )
    assert renewed.status_code == 303
    successor = await Contract.get(predecessor_id=contract.id)
    assert successor.starts_on == dt.date(2029, 4, 1)
    assert await Contract.all().count() == 2


async def test_withdrawing_health_consent_on_the_page_deletes_episodes(client, world):
    org = await world.org()
    _, lead = await lead_of(world, org)
    rep = await representatives.create(lead, PHONE_ONLY)
    await sign_in(client, "lead@trust.example")
    page = f"/representatives/{rep.id}"
    await client.post_form(f"{page}/consents", {"purpose": "health"}, token_from=page)
    recorded = await client.post_form(
        f"{page}/health",
        {
            "started_on[day]": "1",
            "started_on[month]": "2",
            "started_on[year]": "2026",
            "under_crisis_team": "yes",
            "note": "home treatment",
        },
    )
    assert recorded.status_code == 303
    assert await AcuteEpisode.all().count() == 1
    listing = await client.get(f"{page}/health")
    assert "home treatment" in listing.text and "1 February 2026" in listing.text
    withdrawn = await client.post_form(
        f"{page}/consents", {"purpose": "health", "action": "withdraw"}, token_from=page
    )
    assert withdrawn.status_code == 303
    assert await AcuteEpisode.all().count() == 0
    assert await AuditEvent.filter(action="health.delete_all").exists()


ABOUT_THEM = re.compile(r"\b(they|their|theirs|them|themselves|the representative)\b", re.I)


def main_text(html: str) -> str:
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", main.split(">", 1)[1]).split())


async def test_pages_a_representative_sees_speak_to_them(client, world, mailbox):
    org = await world.org()
    _, lead = await lead_of(world, org)
    rep = await representatives.create(
        lead,
        {
            "full_name": "Alex Morgan",
            "representative_type": "patient",
            "email": "alex@people.example",
            "contact_channels": ["email"],
        },
    )
    await contracts.create(
        lead,
        rep,
        {
            "role_title": "Patient representative",
            "starts_on": (clock.today() - dt.timedelta(days=60)).isoformat(),
        },
    )
    for purpose in ("contact", "health"):
        await wellbeing.give_consent(lead, rep, {"purpose": purpose})
    # Unwell until last week: a booking soon waits for a wellbeing conversation.
    await wellbeing.record_episode(
        lead,
        rep,
        {
            "started_on": (clock.today() - dt.timedelta(days=30)).isoformat(),
            "ended_on": (clock.today() - dt.timedelta(days=7)).isoformat(),
            "under_crisis_team": "yes",
        },
    )
    [episode] = await wellbeing.episodes(lead, rep)
    soon = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=10)
    poll = await activities.plan(
        lead,
        {
            "title": "Leaflet review",
            "kind": "meeting",
            "category": "co_evaluation",
            "duration_minutes": "60",
            "capacity": "4",
            "phone": "yes",
            "dial_in": "0300 123 4567",
            "video": "yes",
            "video_link": "https://meet.example/x",
            "option_1": soon.isoformat(),
            "option_2": (soon + dt.timedelta(days=1)).isoformat(),
        },
    )
    await polls.invite(lead, poll, [rep.id])
    await deliver_mail()
    answer = mailbox.link(mailbox.to(rep.email)[-1], r"http://testserver(/answer/\S+)")
    fixed = await activities.create_activity(
        lead,
        {
            "title": "Training plan",
            "kind": "meeting",
            "category": "co_design",
            "duration_minutes": "60",
            "capacity": "4",
            "video": "yes",
            "video_link": "https://meet.example/y",
            "starts_at": (soon + dt.timedelta(days=3)).isoformat(),
        },
    )
    booking = await bookings.book(lead, fixed, rep, "video")
    assert booking.status == BookingStatus.NEEDS_WELLBEING_CHECK
    claim = await claims.generate_draft(
        lead,
        rep,
        {"period_start": clock.today().isoformat(), "period_end": clock.today().isoformat()},
    )
    client.http.cookies.set(
        "coprod_session", await auth.start_session(await User.get(email=rep.email))
    )
    for path in (
        "/",
        "/my/profile",
        "/my/profile/edit",
        "/my/profile/break",
        "/my/profile/health",
        f"/my/profile/health/{episode.id}",
        "/my/profile/equality",
        "/my/bookings",
        f"/bookings/{booking.id}",
        f"/bookings/{booking.id}/cancel",
        "/my/calendar",
        "/my/claims",
        f"/my/claims/{claim.id}",
        "/my/payments",
        "/my/statement",
        f"/tech-test/{reminders.tech_test_token(booking)}",
        answer,
    ):
        response = await client.get(path)
        assert response.status_code == 200, path
        text = main_text(response.text)
        assert not ABOUT_THEM.search(text), f"{path} speaks about the person: {text}"
    booking_page = main_text((await client.get(f"/bookings/{booking.id}")).text)
    assert "your involvement lead will talk with you" in booking_page
    payments = main_text((await client.get("/my/profile/edit")).text)
    assert "You can choose not to be paid for your time" in payments
