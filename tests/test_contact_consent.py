"""Contact needs consent: someone whose consent to be contacted about involvement is not in force
(never given, withdrawn, or past its review date) is sent nothing, the lead is told who and why,
and they are on the call list. Real database, real SMTP server, the app in-process."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from coprod import clock, worker
from coprod.config import get_settings
from coprod.domain.consent import NotInForce, Record, why_not
from coprod.models import ConsentPurpose, Invitation, Representative, Role
from coprod.services import activities, bookings, contact, contracts, polls, reminders, wellbeing
from coprod.services.actor import Actor
from coprod.services.auth import actor_for
from coprod.templating import long_date
from coprod.validation import ValidationFailed
from coprod.web.pages import activities as activity_pages
from tests.conftest import Mailbox, deliver_mail
from tests.test_activities_api import at, create_activity, with_email
from tests.test_bookings import LEAD_EMAIL, Scene, activity, local_iso, person, phone_person
from tests.test_representatives_api import create_contract, create_rep, lead_of

D = dt.date(2026, 5, 3)
DAY = dt.timedelta(days=1)
REVIEW_DAYS = get_settings().consent_review_after_days
LAPSED_GIVEN = clock.today() - dt.timedelta(days=REVIEW_DAYS + 1)
LAPSED_REVIEW = LAPSED_GIVEN + dt.timedelta(days=REVIEW_DAYS)

NEVER = "has not agreed to be contacted"


def withdrew() -> str:
    return f"withdrew consent to be contacted on {long_date(clock.today())}"


LAPSED = f"consent to be contacted was due for review on {long_date(LAPSED_REVIEW)}"
ANN = "ann.able@people.example"
EVERYONE_ELSE = (
    "nev.never@people.example",
    "wil.withdrew@people.example",
    "rev.review@people.example",
)


# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    ("records", "day", "expected"),
    [
        ([], D, NotInForce()),
        ([Record(D, D + 365 * DAY)], D, None),  # in force from the day it is given
        ([Record(D, D + 365 * DAY)], D - DAY, NotInForce()),  # not yet given
        ([Record(D - 365 * DAY, D)], D, None),  # the review day itself still counts
        ([Record(D - 366 * DAY, D - DAY)], D, NotInForce(review_was_due=D - DAY)),
        (
            [Record(D - 9 * DAY, D + 356 * DAY, D - 2 * DAY)],
            D,
            NotInForce(withdrawn_on=D - 2 * DAY),
        ),
        ([Record(D - 9 * DAY, D + 356 * DAY, D)], D, NotInForce(withdrawn_on=D)),
        ([Record(D - 9 * DAY, D + 356 * DAY, D + DAY)], D, None),  # withdrawn only tomorrow
        # A renewal withdraws the record it replaces: the new one decides.
        (
            [
                Record(D - 400 * DAY, D - 35 * DAY, D - 30 * DAY),
                Record(D - 30 * DAY, D + 335 * DAY),
            ],
            D,
            None,
        ),
        (
            [
                Record(D - 800 * DAY, D - 435 * DAY, D - 430 * DAY),
                Record(D - 430 * DAY, D - 65 * DAY),
            ],
            D,
            NotInForce(review_was_due=D - 65 * DAY),
        ),
        # Withdrawn twice over the years: the latest withdrawal is the one to say.
        (
            [
                Record(D - 90 * DAY, D + 275 * DAY, D - 60 * DAY),
                Record(D - 50 * DAY, D + 315 * DAY, D - 5 * DAY),
            ],
            D,
            NotInForce(withdrawn_on=D - 5 * DAY),
        ),
    ],
)
def test_whether_consent_is_in_force_on_a_day_and_why_not(
    records: list[Record], day: dt.date, expected: NotInForce | None
) -> None:
    assert why_not(records, day) == expected


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        (NotInForce(), "has not agreed to be contacted"),
        (NotInForce(withdrawn_on=D), "withdrew consent to be contacted on 3 May 2026"),
        (NotInForce(review_was_due=D), "consent to be contacted was due for review on 3 May 2026"),
    ],
)
def test_each_reason_is_said_in_plain_english(reason: NotInForce, text: str) -> None:
    assert contact.describe(reason) == text


# --------------------------------------------------------------------------- the people


@pytest.fixture
async def scene(world: Any) -> Scene:
    org = await world.org()
    user = await world.user(org, LEAD_EMAIL, Role.INVOLVEMENT_LEAD)
    return Scene(org, await actor_for(user, org.id))


async def four_people(lead: Actor, **changes: Any) -> dict[str, Representative]:
    """Ann agreed to be contacted; Nev never did; Wil withdrew today; Rev's consent is past its
    review date. All are on email, with a contract."""
    ann = await person(lead, "Ann Able", **changes)
    nev = await person(lead, "Nev Never", agrees=False, **changes)
    wil = await person(lead, "Wil Withdrew", **changes)
    await wellbeing.withdraw_consent(lead, wil, "contact")
    rev = await person(lead, "Rev Review", agrees=False, **changes)
    await wellbeing.give_consent(
        lead, rev, {"purpose": "contact", "given_on": LAPSED_GIVEN.isoformat()}
    )
    return {"ann": ann, "nev": nev, "wil": wil, "rev": rev}


async def only_ann_is_sent(mailbox: Mailbox, count: int = 1) -> None:
    await deliver_mail()
    assert [m["To"] for m in mailbox.messages] == [ANN] * count
    for address in EVERYONE_ELSE:
        assert mailbox.to(address) == []
    mailbox.messages.clear()


def reasons_of(found: list[contact.NotContacted]) -> dict[str, str]:
    return {n.representative.full_name: n.reason for n in found}


def expected() -> dict[str, str]:
    return {"Nev Never": NEVER, "Wil Withdrew": withdrew(), "Rev Review": LAPSED}


async def test_why_not_contactable_names_each_reason(scene):
    people = await four_people(scene.lead)
    assert reasons_of(await contact.not_contacted(people.values())) == expected()
    no_email = await phone_person(scene.lead, "Pat Phone")
    assert await contact.why_not_contactable(no_email) == "asked to be phoned"
    # Renewing brings Rev back into force.
    await wellbeing.give_consent(scene.lead, people["rev"], {"purpose": "contact"})
    assert await contact.why_not_contactable(people["rev"]) is None


async def test_consent_past_its_review_date_no_longer_allows_health_records(scene):
    rep = await person(scene.lead, "Hal Health")
    await wellbeing.give_consent(
        scene.lead, rep, {"purpose": "health", "given_on": LAPSED_GIVEN.isoformat()}
    )
    assert not await wellbeing.has_consent(rep, ConsentPurpose.HEALTH)
    with pytest.raises(ValidationFailed):
        await wellbeing.record_episode(
            scene.lead,
            rep,
            {"started_on": clock.today().isoformat(), "under_crisis_team": "no", "note": ""},
        )
    # It is still the record a renewal replaces, and the one the lead sees to review.
    assert await wellbeing.current_consent(rep, ConsentPurpose.HEALTH) is not None
    assert [c.representative_id for c in await wellbeing.consents_due_for_review(scene.lead)] == [
        rep.id
    ]


# --------------------------------------------------------------------------- each message


async def test_only_those_whose_consent_is_in_force_are_invited_booked_told_of_changes_or_cancelled(
    scene, mailbox
):
    lead = scene.lead
    people = await four_people(lead)
    everyone = [r.id for r in people.values()]

    poll = await activity(lead, None, "video", "phone", title="Finding a time")
    await activities.add_options(
        lead,
        poll,
        {"options": [local_iso(clock.today() + 20 * DAY), local_iso(clock.today() + 21 * DAY)]},
    )
    invited = await polls.invite(lead, poll, everyone)
    assert len(invited) == 4  # everyone is invited: the lead phones those we may not email
    await only_ann_is_sent(mailbox)

    session = await activity(lead, local_iso(clock.today() + 10 * DAY), "video", "phone")
    made = {key: await bookings.book(lead, session, rep, "video") for key, rep in people.items()}
    await only_ann_is_sent(mailbox)

    for booking in made.values():
        await bookings.change_mode(lead, booking, "phone")
    await only_ann_is_sent(mailbox)

    await bookings.reschedule(lead, session, {"starts_at": local_iso(clock.today() + 11 * DAY)})
    await only_ann_is_sent(mailbox)

    for booking in made.values():
        await bookings.cancel(lead, booking)
    await only_ann_is_sent(mailbox)

    # A catch-up is a booking too.
    for rep in people.values():
        [contract] = await rep.contracts.all()
        await bookings.book_catch_up(
            lead,
            contract,
            {
                "mode": "phone",
                "dial_in": "0300 123 4567",
                "starts_at": local_iso(clock.today() + 30 * DAY),
            },
        )
    await only_ann_is_sent(mailbox)


async def test_the_reminder_job_skips_them_and_they_are_on_the_call_list(scene, mailbox):
    lead = scene.lead
    people = await four_people(lead)
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    starts = (now + dt.timedelta(hours=24)).astimezone(dt.UTC)
    session = await activity(lead, starts.isoformat(), "video", title="Reminder test", minutes=60)
    for rep in people.values():
        await bookings.book(lead, session, rep, "video")
    await only_ann_is_sent(mailbox)

    await worker.run_periodic_jobs(now)
    await only_ann_is_sent(mailbox)

    calls = await reminders.call_list(lead)
    assert {c.representative.full_name: c.reason for c in calls} == expected()
    assert {c.booking.activity_id for c in calls if c.booking} == {session.id}


async def test_open_invitations_of_people_we_may_not_email_are_on_the_call_list(scene, mailbox):
    lead = scene.lead
    people = await four_people(lead)
    poll = await activity(lead, None, "video", title="Open poll")
    await activities.add_options(
        lead,
        poll,
        {"options": [local_iso(clock.today() + 40 * DAY), local_iso(clock.today() + 41 * DAY)]},
    )
    await polls.invite(lead, poll, [r.id for r in people.values()])
    calls = await reminders.call_list(lead)
    assert {c.representative.full_name: c.reason for c in calls} == expected()
    assert all(c.invitation is not None and c.booking is None for c in calls)

    # Once the lead has phoned Nev and filled in his answers, he is off the list.
    invitation = await Invitation.get(activity=poll, representative=people["nev"])
    answers = {str(o.id): "yes" for o in await poll.options.all()}
    await polls.record_answers(lead, invitation, {"answers": answers, "mode": "video"})
    assert {c.representative.full_name for c in await reminders.call_list(lead)} == {
        "Wil Withdrew",
        "Rev Review",
    }


async def test_contract_expiry_is_sent_to_the_lead_and_not_to_someone_who_withdrew(scene, mailbox):
    lead = scene.lead
    ends = clock.today() + dt.timedelta(days=90)
    rep = await person(lead, "Wil Withdrew", contract=(clock.today() - 30 * DAY, ends))
    await wellbeing.withdraw_consent(lead, rep, "contact")
    now = dt.datetime.combine(clock.today(), dt.time(9), tzinfo=dt.UTC)
    assert await contracts.send_expiry_reminders(now) == 1
    await deliver_mail()
    [message] = mailbox.messages
    assert message["To"] == LEAD_EMAIL
    assert (
        f"We have not written to them: Wil Withdrew {withdrew()}. Please phone them"
        in mailbox.text(message)
    )


# --------------------------------------------------------------------------- pages and API


async def api_people(client: Any) -> dict[str, dict[str, Any]]:
    """Ann agreed to be contacted; Nev never did; Wil withdrew. Made through the API."""
    ann = await with_email(client, "Ann Able", ANN)
    nev = await create_rep(
        client, full_name="Nev Never", email="nev@people.example", contact_channels=["email"]
    )
    await create_contract(client, nev["id"], starts_on=clock.today().isoformat())
    wil = await with_email(client, "Wil Withdrew", "wil@people.example")
    withdrawn = await client.api(
        "POST", f"/api/v1/representatives/{wil['id']}/consents/withdraw", {"purpose": "contact"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    return {"ann": ann, "nev": nev, "wil": wil}


async def test_the_api_says_who_was_not_contacted_and_why_and_lists_them_to_call(
    client, world, mailbox
):
    await lead_of(world, client)
    people = await api_people(client)
    consents = await client.get(f"/api/v1/representatives/{people['wil']['id']}/consents")
    [record] = consents.json()["items"]
    assert record["purpose"] == "contact" and record["withdrawn_on"] == clock.today().isoformat()
    assert record["in_force"] is False

    poll = await create_activity(client)
    await client.api(
        "POST", f"/api/v1/activities/{poll['id']}/options", {"options": [at(20), at(21)]}
    )
    invited = await client.api(
        "POST",
        f"/api/v1/activities/{poll['id']}/invitations",
        {"representative_ids": [p["id"] for p in people.values()]},
    )
    assert invited.status_code == 201, invited.text
    expected = [
        {"representative_id": people["nev"]["id"], "name": "Nev Never", "reason": NEVER},
        {"representative_id": people["wil"]["id"], "name": "Wil Withdrew", "reason": withdrew()},
    ]
    assert sorted(invited.json()["not_contacted"], key=lambda n: n["name"]) == expected
    await deliver_mail()
    assert [m["To"] for m in mailbox.messages] == [ANN]

    listed = (await client.get("/api/v1/call-list")).json()["items"]
    assert {(i["name"], i["reason"], i["invitation_id"] is not None) for i in listed} == {
        ("Nev Never", NEVER, True),
        ("Wil Withdrew", withdrew(), True),
    }

    options = (await client.get(f"/api/v1/activities/{poll['id']}/options")).json()["items"]
    finalised = await client.api(
        "POST",
        f"/api/v1/activities/{poll['id']}/finalise",
        {"option_id": options[0]["id"], "representative_ids": [p["id"] for p in people.values()]},
    )
    assert finalised.status_code == 200, finalised.text
    booked_ids = {i["representative_id"] for i in finalised.json()["items"] if i["booking_id"]}
    assert sorted(finalised.json()["not_contacted"], key=lambda n: n["name"]) == [
        n for n in expected if n["representative_id"] in booked_ids
    ]
    assert booked_ids >= {people["nev"]["id"]}
    mailbox.messages.clear()
    await deliver_mail()
    assert {m["To"] for m in mailbox.messages} <= {ANN}

    session = await create_activity(client, title="Fixed time", starts_at=at(5))
    booked = await client.api(
        "POST",
        f"/api/v1/activities/{session['id']}/bookings",
        {"representative_id": people["nev"]["id"], "mode": "video"},
    )
    assert booked.status_code == 201, booked.text
    assert booked.json()["not_contacted"] == [expected[0]]
    changed = await client.api(
        "PATCH", f"/api/v1/bookings/{booked.json()['id']}", {"mode": "phone"}
    )
    assert changed.json()["not_contacted"] == [expected[0]]
    moved = await client.api("PATCH", f"/api/v1/activities/{session['id']}", {"starts_at": at(6)})
    assert moved.status_code == 200, moved.text
    assert moved.json()["not_contacted"] == [expected[0]]
    cancelled = await client.api("POST", f"/api/v1/bookings/{booked.json()['id']}/cancel", {})
    assert cancelled.json()["not_contacted"] == [expected[0]]

    ann_booked = await client.api(
        "POST",
        f"/api/v1/activities/{session['id']}/bookings",
        {"representative_id": people["ann"]["id"], "mode": "video"},
    )
    assert ann_booked.json()["not_contacted"] == []
    mailbox.messages.clear()
    await deliver_mail()
    assert [m["To"] for m in mailbox.messages] == [ANN]


async def test_the_pages_say_who_was_not_contacted_and_why_and_the_call_list_shows_them(
    client, world, mailbox
):
    await lead_of(world, client)
    people = await api_people(client)
    poll = await create_activity(client)
    await client.api(
        "POST", f"/api/v1/activities/{poll['id']}/options", {"options": [at(20), at(21)]}
    )
    response = await client.post_form(
        f"/activities/{poll['id']}/invite",
        {"representative_ids": [str(p["id"]) for p in people.values()]},
        token_from=f"/activities/{poll['id']}",
    )
    assert response.status_code == 303, response.text
    page = await client.get(response.headers["location"])
    assert "Not contacted" in page.text
    assert f"Nev Never {NEVER}." in page.text
    assert f"Wil Withdrew {withdrew()}." in page.text
    assert "Ann Able has" not in page.text and "Ann Able withdrew" not in page.text

    calls = await client.get("/call-list")
    assert calls.status_code == 200
    assert f"Nev Never {NEVER}" in calls.text
    assert f"Wil Withdrew {withdrew()}" in calls.text
    assert "Ann Able" not in calls.text

    home = await client.get("/")
    assert "2 calls to make: messages that did not arrive, and people we may not write to" in (
        home.text
    )


async def test_a_lead_sees_consent_past_its_review_date_and_records_it_again(client, world):
    await lead_of(world, client)
    rep = await create_rep(
        client, full_name="Rev Review", email="rev@people.example", contact_channels=["email"]
    )
    given = await client.api(
        "POST",
        f"/api/v1/representatives/{rep['id']}/consents",
        {"purpose": "contact", "given_on": LAPSED_GIVEN.isoformat()},
    )
    assert given.status_code == 201, given.text
    assert given.json()["in_force"] is False
    page = await client.get(f"/representatives/{rep['id']}")
    assert f"the review was due on {long_date(LAPSED_REVIEW)}" in page.text

    renewed = await client.post_form(
        f"/representatives/{rep['id']}/consents",
        {"purpose": "contact"},
        token_from=f"/representatives/{rep['id']}",
    )
    assert renewed.status_code == 303, renewed.text
    listed = (await client.get(f"/api/v1/representatives/{rep['id']}/consents")).json()["items"]
    assert [(c["given_on"], c["in_force"]) for c in listed] == [
        (clock.today().isoformat(), True),
        (LAPSED_GIVEN.isoformat(), False),
    ]
    assert "the review was due on" not in (await client.get(f"/representatives/{rep['id']}")).text


async def test_consent_dates_and_purposes_are_checked_on_the_api(client, world):
    await lead_of(world, client)
    rep = await create_rep(client, full_name="Ann Able")
    url = f"/api/v1/representatives/{rep['id']}/consents"
    future = (clock.today() + DAY).isoformat()
    for body in ({"purpose": "contact", "given_on": future}, {"purpose": "x"}, {}):
        response = await client.api("POST", url, body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"][0]["message"]
    nothing = await client.api("POST", f"{url}/withdraw", {"purpose": "contact"})
    assert nothing.status_code == 422
    assert nothing.json()["errors"] == [
        {"field": "purpose", "message": "There is no consent for this to withdraw"}
    ]
    assert (await client.get(url)).json()["items"] == []


async def test_an_activity_with_many_booked_lists_a_few_it_may_not_write_to_and_says_there_are_more(
    client, world, monkeypatch
):
    await lead_of(world, client)
    people = await api_people(client)
    session = await create_activity(client, title="Fixed time", starts_at=at(5))
    for name in ("nev", "wil", "ann"):
        booked = await client.api(
            "POST",
            f"/api/v1/activities/{session['id']}/bookings",
            {"representative_id": people[name]["id"], "mode": "video"},
        )
        assert booked.status_code == 201, booked.text

    page = await client.get(f"/activities/{session['id']}")
    assert f"Nev Never {NEVER}." in page.text and f"Wil Withdrew {withdrew()}." in page.text
    assert "Ann Able has" not in page.text
    assert "More people booked cannot be written to" not in page.text

    # A big activity lists the first few, found in the database, and points to the call list.
    monkeypatch.setattr(activity_pages, "NOT_CONTACTED_SHOWN", 1)
    page = await client.get(f"/activities/{session['id']}")
    assert f"Nev Never {NEVER}." in page.text  # booked first
    assert f"Wil Withdrew {withdrew()}." not in page.text
    assert "More people booked cannot be written to: these are the first 1." in page.text
