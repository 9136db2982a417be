"""Interest in getting involved, through the pages: the public form (no JavaScript, only
contact errors, spam held and never refused), the optional equality questions after it, and a
lead taking a phone-only person through chat, welcome session, ready and closing."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import re
from typing import Any

from coprod import clock
from coprod.domain import recruitment as rules
from coprod.domain.equality import QUESTIONS
from coprod.models import (
    AuditEvent,
    Consent,
    Contract,
    EqualityResponse,
    Interest,
    InterestEquality,
    InterestStatus,
    OutboxMessage,
    Representative,
    Role,
    User,
)
from coprod.services import interests, opportunities, representatives
from coprod.services.auth import actor_for
from tests.conftest import Mailbox, deliver_mail, postgres_only, sign_in

LEAD = "lead@trust.example"
SLUG = "northshire-nhs-trust"


def stamp(seconds_ago: int = 30) -> str:
    """The signed stamp a form shown this long ago carries."""
    return interests.form_stamp(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds_ago))


def text_of(response: Any) -> str:
    return html.unescape(response.text)


async def say_interested(client: Any, **fields: str) -> Any:
    data = {
        "full_name": "Ada Lovelace",
        "contact_channel_1": "email",
        "email": "ada@example.com",
        rules.STAMP_FIELD: stamp(),
        **fields,
    }
    return await client.post_form(f"/join/{SLUG}/interest", data)


async def lead_signed_in(world: Any, client: Any, org_name: str = "Northshire NHS Trust") -> Any:
    org = await world.org(org_name)
    email = LEAD if org_name == "Northshire NHS Trust" else f"lead@{org.slug}.example"
    await world.user(org, email, Role.INVOLVEMENT_LEAD)
    await sign_in(client, email)
    return org


async def phoned_in(client: Any, **fields: str) -> Interest:
    """A lead writes down interest for someone who phoned: no email, and they want a call."""
    data = {
        "source": "phone",
        "full_name": "Bert Phoneonly",
        "contact_channel_1": "phone",
        "phone": "0113 496 0000",
        "best_time": "Mornings",
        **fields,
    }
    response = await client.post_form("/interests/new", data)
    assert response.status_code == 303, text_of(response)
    return await Interest.get(id=int(response.headers["location"].split("/")[2].split("?")[0]))


async def step(client: Any, interest: Interest, action: str, data: dict[str, str]) -> Any:
    return await client.post_form(
        f"/interests/{interest.id}/{action}", data, token_from=f"/interests/{interest.id}"
    )


def welcome_form(days: int = 7) -> dict[str, str]:
    day = clock.today() + dt.timedelta(days=days)
    return {
        "welcome_at[day]": str(day.day),
        "welcome_at[month]": str(day.month),
        "welcome_at[year]": str(day.year),
        "welcome_at[time]": "10:30",
        "welcome_mode": "phone",
    }


CHAT = {
    "notes": "Lovely chat. Keen on interview panels.",
    "representative_type": "carer",
    "formats": "large_print",
    "needs_transport": "yes",
    "consent_contact": "yes",
    "consent_equality": "yes",
    "age_band": "16_24",
    "carer_status": "yes",
}


# ---------------------------------------------------------------------------- the public form


async def test_the_public_form_works_without_javascript_and_says_everyone_is_welcome(
    client, world, mailbox: Mailbox
):
    await world.org()
    form = await client.get(f"/join/{SLUG}/interest")
    assert form.status_code == 200
    page = text_of(form)
    assert "Everyone is welcome. No one will be turned away." in page
    assert "<script" not in page.split('id="maincontent"', 1)[1].split("</main>")[0]
    assert f'name="{rules.STAMP_FIELD}"' in page and f'name="{rules.HONEYPOT_FIELD}"' in page
    assert "None" not in page

    sent = await say_interested(client, representative_type="both", best_time="Evenings")
    assert sent.status_code == 303
    assert sent.headers["location"].startswith(f"/join/{SLUG}/interest/thanks?about_you=")
    interest = await Interest.get(full_name="Ada Lovelace")
    assert interest.held_as_spam is False and interest.status is InterestStatus.NEW
    assert interest.source.value == "online" and interest.entered_by_id is None
    assert interest.representative_type.value == "both"

    thanks = await client.get(sent.headers["location"])
    assert thanks.status_code == 200 and "Answer the questions" in thanks.text

    # The acknowledgement goes through the outbox to the real SMTP server.
    assert await deliver_mail() == 1
    [mail] = mailbox.to("ada@example.com")
    assert mail["Subject"] == "Thank you for your interest in getting involved"
    assert "Everyone is welcome" in mailbox.text(mail)


async def test_someone_who_chose_texts_is_thanked_by_text(client, world, use_notify, mailbox):
    await world.org()
    sent = await say_interested(
        client, contact_channel_1="text", contact_channel_2="email", mobile="07700 900123"
    )
    assert sent.status_code == 303
    assert await deliver_mail() == 1
    [text] = use_notify.sent("sms")
    assert text.to == "447700900123"
    assert "Everyone is welcome" in text.body and "Ada Lovelace" in text.body
    assert mailbox.messages == []  # email was their second choice
    row = await OutboxMessage.get(notification="interest_received")
    assert row.representative_id is None and row.status.value == "sent"


async def test_someone_who_wants_a_call_is_phoned_by_the_lead(client, world):
    await world.org()
    await say_interested(client, contact_channel_1="phone", email="", phone="0113 496 0002")
    assert await OutboxMessage.all().count() == 0
    org = await opportunities.organisation_by_slug(SLUG)
    await world.user(org, LEAD, Role.INVOLVEMENT_LEAD)
    await sign_in(client, LEAD)
    interest = await Interest.get(full_name="Ada Lovelace")
    page = text_of(await client.get(f"/interests/{interest.id}"))
    assert "No thank-you was sent: Ada Lovelace has no address" in page
    assert "Phone Ada Lovelace on 0113 496 0002" in page


async def test_the_only_errors_are_about_getting_back_in_touch(client, world):
    await world.org()
    refused = await say_interested(
        client, full_name="", contact_channel_1="text", email="", mobile=""
    )
    assert refused.status_code == 422
    page = text_of(refused)
    assert "Enter your name" in page
    assert "Enter a mobile number for texts, or choose another way to get in touch" in page
    assert await Interest.all().count() == 0

    no_way = await say_interested(client, contact_channel_1="")
    assert no_way.status_code == 422
    assert "Choose at least one way for us to get in touch" in text_of(no_way)
    no_email = await say_interested(client, email="")
    assert "Enter an email address, or choose another way to get in touch" in text_of(no_email)
    # What they typed is kept, and the time the form was first shown: correcting one answer
    # quickly does not look like a robot.
    assert 'value="Ada Lovelace"' in no_email.text
    first_shown = stamp(seconds_ago=30)
    again = await say_interested(client, email="", **{rules.STAMP_FIELD: first_shown})
    assert f'value="{first_shown}"' in again.text
    forged = await say_interested(client, email="", **{rules.STAMP_FIELD: "1.forged"})
    assert 'value="1.forged"' not in forged.text
    assert await Interest.all().count() == 0


async def test_the_form_names_the_opportunity_they_came_from(client, world):
    org = await world.org()
    from coprod.models import Opportunity

    opp = await Opportunity.create(
        organisation=org,
        title="Interview panel member",
        involves="Sitting on panels",
        time_commitment="A day a month",
        pay="£75 a half day",
        accessibility="Step-free",
        published_at=dt.datetime.now(dt.UTC),
    )
    form = await client.get(f"/join/{SLUG}/interest?opportunity={opp.id}")
    assert "Interview panel member" in form.text
    sent = await say_interested(client, opportunity_id=str(opp.id))
    assert sent.status_code == 303
    assert (await Interest.get(full_name="Ada Lovelace")).opportunity_id == opp.id
    # A made-up or withdrawn one is left out; the person is still welcome.
    assert (await client.get(f"/join/{SLUG}/interest?opportunity=abc")).status_code == 200
    assert (await client.get("/join/no-such-trust/interest")).status_code == 404


# ---------------------------------------------------------------------------- spam


async def test_suspect_forms_are_held_not_refused_and_thanked_the_same(
    client, world, mailbox: Mailbox
):
    await world.org()
    cases = {
        "honeypot": {rules.HONEYPOT_FIELD: "http://spam.example"},
        "too fast": {rules.STAMP_FIELD: stamp(seconds_ago=0)},
        "forged": {rules.STAMP_FIELD: stamp().split(".")[0] + ".0000"},
        "missing": {rules.STAMP_FIELD: ""},
    }
    for name, fields in cases.items():
        sent = await say_interested(client, full_name=f"Suspect {name}", **fields)
        assert sent.status_code == 303, name
        assert "/interest/thanks" in sent.headers["location"]
    held = await Interest.filter(held_as_spam=True).order_by("id")
    assert [i.full_name for i in held] == [f"Suspect {name}" for name in cases]
    assert "hidden" in held[0].held_reason and "seconds" in held[1].held_reason
    assert "not one this site gave out" in held[2].held_reason
    # Nothing is sent in the name of whoever's address a program typed in.
    assert await OutboxMessage.all().count() == 0

    # A flood from one place: the sixth within the hour is held too.
    fifth = await say_interested(client, full_name="Fifth", email="fifth@example.com")
    assert fifth.status_code == 303
    assert not (await Interest.get(full_name="Fifth")).held_as_spam
    sent = await say_interested(client, full_name="One too many")
    assert sent.status_code == 303
    flooded = await Interest.get(full_name="One too many")
    assert flooded.held_as_spam and "same place" in (flooded.held_reason or "")


async def test_a_lead_releases_or_deletes_held_interest(client, world, mailbox: Mailbox):
    await world.org()
    await say_interested(client, full_name="Real person", **{rules.STAMP_FIELD: ""})
    await say_interested(
        client, full_name="Spam bot", email="bot@example.com", **{rules.HONEYPOT_FIELD: "x"}
    )
    org = await opportunities.organisation_by_slug(SLUG)
    await world.user(org, LEAD, Role.INVOLVEMENT_LEAD)
    await sign_in(client, LEAD)
    real = await Interest.get(full_name="Real person")
    bot = await Interest.get(full_name="Spam bot")

    listing = text_of(await client.get("/interests"))
    held_part = listing.split("Held as possible spam", 1)[1]
    assert "Real person" in held_part and "Spam bot" in held_part
    new_part = listing.split('id="new"', 1)[1].split('id="chatted"', 1)[0]
    assert "Real person" not in new_part

    # A held one cannot be moved on until released.
    refused = await step(client, real, "chat", CHAT)
    assert refused.status_code == 409
    assert "Release it before taking it further" in text_of(refused)

    released = await step(client, real, "release", {})
    assert released.status_code == 303
    await real.refresh_from_db()
    assert real.held_as_spam is False and real.status is InterestStatus.NEW
    assert await deliver_mail() == 1  # thanked now it is known to be real
    assert mailbox.to("ada@example.com")
    again = await step(client, real, "release", {})
    assert again.status_code == 409 and "not held as possible spam" in text_of(again)
    assert (await step(client, real, "delete", {})).status_code == 409
    assert await Interest.filter(id=real.id).exists()

    deleted = await step(client, bot, "delete", {})
    assert deleted.status_code == 303
    assert not await Interest.filter(id=bot.id).exists()
    assert await AuditEvent.filter(action="interest.delete").count() == 1


# ---------------------------------------------------------------------------- equality after


async def test_equality_questions_after_the_form_work_once_and_for_a_day(client, world):
    await world.org()
    sent = await say_interested(client)
    token = sent.headers["location"].split("about_you=")[1]
    about = f"/join/{SLUG}/interest/{token}/about-you"
    page = await client.get(about)
    assert page.status_code == 200
    assert text_of(page).count("Prefer not to say") >= len(QUESTIONS)
    bad = await client.post_form(about, {"age_band": "ancient"})
    assert bad.status_code == 422
    assert "Select one of the answers" in text_of(bad)
    assert not await InterestEquality.exists()

    done = await client.post_form(about, {"age_band": "16_24", "sex": "prefer_not_to_say"})
    assert done.status_code == 303
    interest = await Interest.get(full_name="Ada Lovelace")
    answers = await InterestEquality.get(interest_id=interest.id)
    assert (answers.age_band, answers.sex, answers.religion) == ("16_24", "prefer_not_to_say", None)
    assert interest.consent_equality_on is not None
    # Once only.
    assert (await client.get(about)).status_code == 404
    assert (
        await client.post_form(about, {"age_band": "25_34"}, token_from=f"/join/{SLUG}/interest")
    ).status_code == 404
    assert (await InterestEquality.get(interest_id=interest.id)).age_band == "16_24"

    # And only for a day.
    later = await say_interested(client, full_name="Later", email="later@example.com")
    token = later.headers["location"].split("about_you=")[1]
    await Interest.filter(full_name="Later").update(
        created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1, minutes=1)
    )
    assert (await client.get(f"/join/{SLUG}/interest/{token}/about-you")).status_code == 404
    thanks = await client.get(f"/join/{SLUG}/interest/thanks?about_you={token}")
    assert thanks.status_code == 200 and "Answer the questions" not in thanks.text


# ---------------------------------------------------------------------------- a lead, by phone


async def test_a_lead_takes_a_phone_only_person_all_the_way(client, world):
    org = await lead_signed_in(world, client)
    interest = await phoned_in(client)
    assert interest.entered_by_id is not None and interest.source.value == "phone"
    # They asked to be phoned: nothing is queued, and the lead is told to phone them.
    assert await OutboxMessage.all().count() == 0
    page = text_of(await client.get(f"/interests/{interest.id}"))
    assert "Phone them" not in page  # the lead is talking to them already
    assert "Bert Phoneonly" in page and "0113 496 0000" in page and "Mornings" in page
    assert "None" not in page

    # Steps out of order are refused with the reason.
    early = await step(client, interest, "ready", {"role_title": "Carer representative"})
    assert early.status_code == 409
    assert "Book a welcome session before making them a representative" in text_of(early)
    assert (await client.get(f"/interests/{interest.id}/welcome")).status_code == 409

    chatted = await step(client, interest, "chat", CHAT)
    assert chatted.status_code == 303, text_of(chatted)
    await interest.refresh_from_db()
    assert interest.status is InterestStatus.CHATTED
    assert interest.formats == ["large_print"] and interest.needs_transport
    assert interest.consent_contact_on == clock.today()
    assert (await InterestEquality.get(interest_id=interest.id)).carer_status == "yes"
    assert await AuditEvent.filter(action="interest.equality").count() == 1
    assert (await step(client, interest, "chat", CHAT)).status_code == 409

    past = await step(client, interest, "welcome", welcome_form(days=-2))
    assert past.status_code == 422
    assert "The welcome session must be in the future" in text_of(past)
    booked = await step(client, interest, "welcome", welcome_form())
    assert booked.status_code == 303, text_of(booked)
    await interest.refresh_from_db()
    assert interest.status is InterestStatus.WELCOME_BOOKED and interest.welcome_mode == "phone"
    assert await OutboxMessage.all().count() == 0  # phone first: the lead rings them
    assert (
        "They have not been told about their welcome session: Bert Phoneonly asked to be phoned"
        in text_of(await client.get(f"/interests/{interest.id}"))
    )

    confirm = await client.get(f"/interests/{interest.id}/ready")
    assert confirm.status_code == 200
    assert "No account: you act for them." in text_of(confirm)
    made = await step(
        client, interest, "ready", {"role_title": "Carer representative", "starts_on": ""}
    )
    assert made.status_code == 303, text_of(made)
    await interest.refresh_from_db()
    rep = await Representative.get(id=interest.representative_id)
    assert rep.organisation_id == org.id and rep.user_id is None  # phone only: no account
    assert rep.phone == "0113 496 0000" and rep.contact_channels == ["phone"]
    assert rep.formats == ["large_print"] and rep.needs_transport
    assert rep.representative_type.value == "carer"
    purposes = sorted(c.purpose.value for c in await Consent.filter(representative=rep))
    assert purposes == ["contact", "equality"]
    assert (await EqualityResponse.get(representative=rep)).carer_status == "yes"
    contract = await Contract.get(representative=rep)
    assert contract.role_title == "Carer representative"
    assert contract.starts_on == clock.today()
    assert (await step(client, interest, "ready", {"role_title": "x"})).status_code == 409
    assert (await step(client, interest, "close", {"close_reason": "other"})).status_code == 409


async def test_closing_is_kind_and_tells_the_lead_to_phone_someone_who_wants_a_call(client, world):
    await lead_signed_in(world, client)
    interest = await phoned_in(client)
    missing = await step(client, interest, "close", {"close_reason": ""})
    assert missing.status_code == 422 and "Select a reason" in text_of(missing)
    closed = await step(
        client, interest, "close", {"close_reason": "not_right_time", "close_note": "Moving house"}
    )
    assert closed.status_code == 303
    await interest.refresh_from_db()
    assert interest.status is InterestStatus.CLOSED
    assert interest.close_reason.value == "not_right_time"
    assert await OutboxMessage.all().count() == 0
    page = text_of(await client.get(f"/interests/{interest.id}"))
    assert "They have not been told it is closed: Bert Phoneonly asked to be phoned" in page
    assert (await step(client, interest, "chat", CHAT)).status_code == 409


async def test_closing_someone_who_chose_texts_sends_a_kind_text(client, world, use_notify):
    await lead_signed_in(world, client)
    interest = await phoned_in(
        client,
        full_name="Cara Texter",
        contact_channel_1="text",
        mobile="07700 900123",
        phone="",
        source="letter",
    )
    closed = await step(client, interest, "close", {"close_reason": "could_not_contact"})
    assert closed.status_code == 303
    assert await deliver_mail() == 2  # the thanks, then the kind goodbye
    texts = use_notify.sent("sms")
    assert [t.to for t in texts] == ["447700900123", "447700900123"]
    assert "welcome to get in touch again" in texts[-1].body
    row = await OutboxMessage.get(notification="interest_closed")
    assert row.representative_id is None and row.kind == "text"


# ---------------------------------------------------------------------------- rules and access


async def test_a_lead_only_sees_their_own_organisations_interest(client, world, make_client):
    await lead_signed_in(world, client)
    interest = await phoned_in(client)
    other = make_client()
    await lead_signed_in(world, other, "Southshire NHS Trust")
    assert (await other.get(f"/interests/{interest.id}")).status_code == 404
    assert (await other.get(f"/interests/{interest.id}/chat")).status_code == 404
    assert "Bert Phoneonly" not in (await other.get("/interests")).text

    org = await opportunities.organisation_by_slug(SLUG)
    await world.user(org, "rep@trust.example", Role.REPRESENTATIVE)
    someone = make_client()
    await sign_in(someone, "rep@trust.example")
    assert (await someone.get("/interests")).status_code == 403
    assert (await someone.get(f"/interests/{interest.id}")).status_code == 403


async def test_ready_links_to_someone_already_on_the_books(client, world):
    org = await lead_signed_in(world, client)
    lead = await actor_for(await User.get(email=LEAD), org.id)
    existing = await representatives.create(
        lead,
        {
            "full_name": "Ada L.",
            "representative_type": "patient",
            "email": "ada@example.com",
            "contact_channels": ["email"],
        },
    )
    interest = await phoned_in(
        client,
        full_name="Ada Lovelace",
        contact_channel_1="email",
        email="ada@example.com",
        source="email",
    )
    await step(client, interest, "chat", CHAT)
    await step(client, interest, "welcome", welcome_form())
    confirm = text_of(await client.get(f"/interests/{interest.id}/ready"))
    assert "They are already a representative" in confirm
    made = await step(client, interest, "ready", {"role_title": "Expert by experience"})
    assert made.status_code == 303, text_of(made)
    await interest.refresh_from_db()
    assert interest.representative_id == existing.id
    assert await Representative.all().count() == 1
    assert await Contract.filter(representative_id=existing.id).count() == 1


async def test_nothing_is_half_saved_when_the_contract_terms_are_wrong(client, world):
    await lead_signed_in(world, client)
    interest = await phoned_in(client)
    await step(client, interest, "chat", CHAT)
    await step(client, interest, "welcome", welcome_form())
    refused = await step(
        client,
        interest,
        "ready",
        {
            "role_title": "",
            "ends_on[day]": "1",
            "ends_on[month]": "1",
            "ends_on[year]": "2000",
        },
    )
    assert refused.status_code == 422
    assert "Enter a role title" in text_of(refused)
    assert await Representative.all().count() == 0 and await Contract.all().count() == 0
    await interest.refresh_from_db()
    assert interest.status is InterestStatus.WELCOME_BOOKED


async def test_a_chat_checks_every_field_at_once(client, world):
    await lead_signed_in(world, client)
    interest = await phoned_in(client)
    refused = await step(
        client,
        interest,
        "chat",
        {"representative_type": "", "formats": "translated", "age_band": "16_24"},
    )
    assert refused.status_code == 422
    page = text_of(refused)
    assert "Select whether they are a patient, a carer or both" in page
    assert "Enter the language for translated papers" in page
    assert "Tick that they agree to equality monitoring" in page
    await interest.refresh_from_db()
    assert interest.status is InterestStatus.NEW
    assert not await InterestEquality.exists()


@postgres_only
async def test_two_readies_at_once_make_one_representative(client, world, make_client):
    await lead_signed_in(world, client)
    interest = await phoned_in(client)
    await step(client, interest, "chat", CHAT)
    await step(client, interest, "welcome", welcome_form())
    second = make_client()
    await sign_in(second, LEAD)
    url = f"/interests/{interest.id}/ready"
    tokens = [await c.csrf(url) for c in (client, second)]
    data = {"role_title": "Carer representative"}
    results = await asyncio.gather(
        *(
            c.http.post(url, data={**data, "csrf_token": t})
            for c, t in zip((client, second), tokens, strict=True)
        )
    )
    assert sorted(r.status_code for r in results) == [303, 409]
    assert await Representative.all().count() == 1
    assert await Contract.all().count() == 1
    assert re.search(
        "already a representative", text_of(next(r for r in results if r.status_code == 409))
    )


async def test_a_lead_corrects_their_details_until_they_are_a_representative(client, world):
    await lead_signed_in(world, client)
    interest = await phoned_in(client)
    url = f"/interests/{interest.id}/details"
    shown = await client.get(url)
    assert 'value="0113 496 0000"' in shown.text and 'value="Mornings"' in shown.text
    details = {"full_name": "Bert Phoneonly", "contact_channel_1": "phone", "phone": ""}
    refused = await client.post_form(url, details)
    assert refused.status_code == 422
    assert "Enter a phone number, or choose another way to get in touch" in text_of(refused)

    # A number misheard on the phone, and a letter now as well.
    changed = await client.post_form(
        url,
        {
            **details,
            "phone": "0113 496 0001",
            "contact_channel_2": "post",
            "postal_address": "1 Mill Lane\nNorthtown NT1 1AA",
        },
    )
    assert changed.status_code == 303
    await interest.refresh_from_db()
    assert (interest.phone, interest.contact_channels) == ("0113 496 0001", ["phone", "post"])
    assert interest.best_time is None  # left empty on the form: nothing is kept unseen
    event = await AuditEvent.get(action="interest.update")
    assert event.before and event.before["phone"] == "0113 496 0000"
    assert event.after and event.after["phone"] == "0113 496 0001"

    await Interest.filter(id=interest.id).update(status=InterestStatus.READY)
    for response in (await client.get(url), await client.post_form(url, details)):
        assert response.status_code == 409
        assert interests.NOW_A_REPRESENTATIVE in text_of(response)
