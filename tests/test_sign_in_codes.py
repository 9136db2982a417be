"""Signing in with a code sent by text, for representatives with a mobile number and no email:
through the pages, the outbox and the worker (the Console sender, as with no NOTIFY_API_KEY),
with the codes' expiry, single use, tries and throttling, and numbers nobody may guess at."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import re
from types import SimpleNamespace
from typing import Any

import pytest
from tortoise import connections

from coprod.config import get_settings
from coprod.domain.phone_numbers import normalise_mobile
from coprod.models import Membership, OutboxMessage, Representative, Role, Session, SignInCode, User
from coprod.services import representatives
from coprod.services.actor import Actor
from coprod.services.auth import actor_for
from tests.conftest import deliver_mail, postgres_only
from tests.test_representatives_api import sign_in_by_link

MOBILE = "07700 900123"
SIGNED_IN = "Hello, Rita Text"
CODE_SENT = "If this number is registered, we have sent a code to it by text message."


@pytest.fixture
async def lead(world: Any) -> Actor:
    org = await world.org()
    user = await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    return await actor_for(user, org.id)


async def texter(lead: Actor, full_name: str = "Rita Text", **changes: Any) -> Representative:
    """Someone a lead recorded with a mobile number and no email, who has not (yet) agreed to
    be contacted about involvement: a code they ask for goes all the same."""
    data: dict[str, Any] = {
        "full_name": full_name,
        "representative_type": "patient",
        "mobile": MOBILE,
        "contact_channels": ["text"],
        "payment_preference": "paid",
        **changes,
    }
    return await representatives.create(lead, data)


async def ask_for_code(client: Any, mobile: str = MOBILE) -> Any:
    return await client.post_form("/sign-in/code", {"mobile": mobile})


async def asked(client: Any, mobile: str = MOBILE) -> str:
    """Ask for a code; the address of the page to enter it on."""
    response = await ask_for_code(client, mobile)
    assert response.status_code == 303, response.text
    path = str(response.headers["location"])
    assert path.startswith("/sign-in/code/")
    return path


def code_in(text: str) -> str:
    found = re.search(r"\b(\d{6})\b", text)
    assert found, f"no code in {text!r}"
    return found.group(1)


async def texted_code() -> str:
    [row] = await OutboxMessage.filter(notification="sign_in_code")
    return code_in(row.text_body)


async def enter(client: Any, path: str, code: str) -> Any:
    # The form's token, from a page that has one even once the code has stopped working.
    return await client.post_form(path, {"code": code}, token_from="/sign-in/code")


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("07700 900123", "447700900123"),
        ("+44 7700 900123", "447700900123"),
        ("0044 7700-900-123", "447700900123"),
        ("+33 6 12 34 56 78", "33612345678"),
        ("01632 960 001", None),  # a landline
        ("0800 123 4567", None),
        ("+44 1632 960001", None),
        ("07700 90012", None),  # a digit short
        ("", None),
        ("call me", None),
    ],
)
def test_numbers_read_as_mobile_numbers(typed: str, number: str | None) -> None:
    assert normalise_mobile(typed) == number


async def test_someone_with_only_a_mobile_signs_in_with_a_texted_code(
    client, make_client, lead, capsys
):
    rep = await texter(lead)
    user = await User.get(id=rep.user_id)
    assert user.email is None and user.full_name == "Rita Text"
    assert await Membership.filter(user=user, role=Role.REPRESENTATIVE).exists()

    sign_in_page = await client.get("/sign-in")
    assert 'href="/sign-in/code"' in sign_in_page.text
    assert "Sign in with a code sent to your mobile" in (await client.get("/sign-in/code")).text
    # Written another way, it is the same number.
    path = await asked(client, "+44 7700 900 123")
    page = await client.get(path)
    assert page.status_code == 200 and CODE_SENT in page.text

    [row] = await OutboxMessage.all()
    assert (row.kind, row.notification, row.to_address) == ("text", "sign_in_code", MOBILE)
    assert row.representative_id == rep.id and row.organisation_id == rep.organisation_id
    code = code_in(row.text_body)
    assert f"{code} is your Coprod sign-in code" in row.text_body
    assert f"{get_settings().sign_in_code_minutes} minutes" in row.text_body
    # Only a keyed hash of the code is kept, never the code or a plain hash of it.
    stored = await SignInCode.get()
    assert stored.user_id == user.id and code not in stored.code_hash
    assert stored.expires_at - stored.created_at <= dt.timedelta(minutes=10)

    # The worker sends it as every text goes; with no NOTIFY_API_KEY it is printed.
    capsys.readouterr()
    assert await deliver_mail() == 1
    printed = capsys.readouterr().out
    assert f"=== Text to {MOBILE} ===" in printed and code in printed
    await row.refresh_from_db()
    assert row.status == "sent" and row.provider_id and row.delivery_status == "created"

    signed_in = await enter(client, path, code[:3] + " " + code[3:])
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
    assert SIGNED_IN in (await client.get("/")).text
    assert await Session.filter(user=user).count() == 1
    await user.refresh_from_db()
    assert user.last_signed_in_at is not None

    # Used once, it is spent, from any browser.
    again = await enter(make_client(), path, code)
    assert again.status_code == 410 and "This code has stopped working" in again.text
    assert (await make_client().get(path)).status_code == 410
    assert await Session.all().count() == 1


async def test_a_wrong_code_says_how_many_tries_are_left_and_the_right_one_still_works(
    client, lead
):
    await texter(lead)
    path = await asked(client)
    code = await texted_code()
    wrong = await enter(client, path, other_code(code))
    assert wrong.status_code == 422
    assert "The code is not right. You can try 4 more times" in wrong.text
    assert 'href="#code"' in wrong.text
    assert await Session.all().count() == 0
    assert (await enter(client, path, code)).status_code == 303


async def test_what_is_not_a_code_is_refused_without_spending_a_try(client, lead):
    await texter(lead)
    path = await asked(client)
    empty = await enter(client, path, " ")
    assert empty.status_code == 422 and "Enter the code from the text message" in empty.text
    letters = await enter(client, path, "12ab56")
    assert letters.status_code == 422 and "The code is 6 numbers, like 123456" in letters.text
    assert (await SignInCode.get()).tries == 0


async def test_five_tries_then_the_code_is_dead_even_when_right(client, lead):
    await texter(lead)
    path = await asked(client)
    code = await texted_code()
    for left in (4, 3, 2):
        response = await enter(client, path, other_code(code))
        assert f"You can try {left} more times" in response.text
    assert "You can try 1 more time" in (await enter(client, path, other_code(code))).text
    last = await enter(client, path, other_code(code))
    assert last.status_code == 410 and "tried too many times" in last.text
    refused = await enter(client, path, code)
    assert refused.status_code == 410 and "This code has stopped working" in refused.text
    assert await Session.all().count() == 0


async def test_a_code_stops_working_when_its_minutes_are_up(client, lead):
    await texter(lead)
    path = await asked(client)
    code = await texted_code()
    await SignInCode.all().update(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    assert (await client.get(path)).status_code == 410
    expired = await enter(client, path, code)
    assert expired.status_code == 410 and "Ask for a new code" in expired.text
    assert await Session.all().count() == 0


async def test_codes_last_as_long_as_configured(client, lead, monkeypatch):
    monkeypatch.setenv("SIGN_IN_CODE_MINUTES", "3")
    get_settings.cache_clear()
    try:
        await texter(lead)
        await asked(client)
        row = await SignInCode.get()
        assert dt.timedelta(minutes=2) < row.expires_at - row.created_at <= dt.timedelta(minutes=3)
        assert "for 3 minutes" in (await OutboxMessage.get()).text_body
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


@postgres_only
async def test_the_right_code_sent_twice_at_once_signs_in_once(make_client, lead):
    await texter(lead)
    first = make_client()
    path = await asked(first)
    code = await texted_code()
    clients = [first, *(make_client() for _ in range(9))]
    for c in clients:
        await c.csrf(path)
    responses = await asyncio.gather(*(enter(c, path, code) for c in clients))
    assert sorted(r.status_code for r in responses) == [303] + [410] * 9
    assert await Session.all().count() == 1


@postgres_only
async def test_twenty_guesses_at_once_are_no_more_than_five_tries(make_client, lead):
    await texter(lead)
    first = make_client()
    path = await asked(first)
    code = await texted_code()
    clients = [first, *(make_client() for _ in range(19))]
    for c in clients:
        await c.csrf(path)
    responses = await asyncio.gather(
        *(enter(c, path, f"{(int(code) + 1 + i) % 1_000_000:06d}") for i, c in enumerate(clients))
    )
    assert {r.status_code for r in responses} <= {422, 410}
    # Each counted try is told how many are left after it; at once, those may all be none.
    assert sum(r.status_code == 422 for r in responses) <= 4
    assert (await SignInCode.get()).tries == 5
    assert (await enter(first, path, code)).status_code == 410


async def test_requests_for_one_number_are_limited_whether_or_not_it_is_registered(
    client, make_client, lead
):
    await texter(lead)
    for _ in range(3):
        await asked(client)
    blocked = await ask_for_code(make_client())
    assert blocked.status_code == 429
    assert "You have asked for too many codes. Wait" in blocked.text
    assert 0 < int(blocked.headers["retry-after"]) <= 15 * 60
    assert 'href="#mobile"' in blocked.text
    assert await OutboxMessage.all().count() == 3
    # The same limit for a number nobody has, so the limit gives nothing away.
    for _ in range(3):
        await asked(client, "07700 900999")
    assert (await ask_for_code(client, "07700 900999")).status_code == 429


async def test_requests_from_one_internet_address_are_limited(client, lead):
    for i in range(30):
        await asked(client, f"07700 9{i:05d}")
    assert (await ask_for_code(client, "07700 800000")).status_code == 429


async def test_someone_locked_out_of_their_password_is_offered_a_code(client, world):
    org = await world.org()
    await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    for _ in range(6):
        response = await client.post_form(
            "/sign-in", {"email": "lead@trust.example", "password": "wrong", "next": "/"}
        )
    assert response.status_code == 429
    assert 'href="/sign-in/code"' in response.text


async def test_asking_for_codes_never_blocks_links_or_passwords(client, lead, mailbox):
    await texter(lead, email="rita@people.example")
    for _ in range(3):
        await asked(client)
    assert (await ask_for_code(client)).status_code == 429
    await sign_in_by_link(client, mailbox, "rita@people.example")
    assert SIGNED_IN in (await client.get("/")).text


async def test_unknown_and_shared_numbers_get_the_same_answer_and_no_text(
    client, make_client, lead, world
):
    await texter(lead)
    # Two people share a phone: each has an account, and neither is sent a code.
    await texter(lead, "Sam Shared", mobile="07700 900456")
    await texter(lead, "Sal Shared", mobile="+447700900456")
    # Someone with no account shares another person's number: as records made before numbers
    # had accounts are.
    await texter(lead, "Pat Phone", mobile="07700 900789")
    carer = await Representative.get(full_name="Pat Phone")
    await Representative.filter(id=carer.id).update(user_id=None)
    await texter(lead, "Kim Kin", mobile="07700 900789")
    # A person recorded in two organisations has two accounts for one number: not guessed.
    other = await world.org("Southshire NHS Trust")
    other_lead = await world.user(other, "lead@south.example", Role.INVOLVEMENT_LEAD)
    await texter(await actor_for(other_lead, other.id), "Rita Text", mobile="07700 900321")
    await texter(lead, "Rita Text", mobile="07700 900321")

    answers = {}
    for number in (MOBILE, "07700 900000", "07700 900456", "07700 900789", "07700 900321"):
        c = make_client()
        path = await asked(c, number)
        page = await c.get(path)
        # Apart from its own address, form token and script nonce, each page is the same.
        text = re.sub(r'(value|nonce)="[^"]+"', "", page.text.replace(path.rsplit("/", 1)[1], "…"))
        answers[number] = (page.status_code, text)
        wrong = await enter(c, path, "000000")
        answers[number] += (wrong.status_code, "You can try 4 more times" in wrong.text)
    assert len(set(answers.values())) == 1
    assert CODE_SENT in answers[MOBILE][1]
    # Only the one person with a number of their own was sent a code.
    [row] = await OutboxMessage.all()
    assert row.to_address == MOBILE
    assert await deliver_mail() == 1


async def test_a_code_is_refused_for_an_inactive_account(client, lead):
    rep = await texter(lead)
    await User.filter(id=rep.user_id).update(is_active=False)
    await asked(client)
    assert await OutboxMessage.all().count() == 0


async def test_the_number_must_be_a_mobile_number(client):
    empty = await ask_for_code(client, "")
    assert empty.status_code == 422 and "Enter your mobile number" in empty.text
    landline = await ask_for_code(client, "01632 960 001")
    assert landline.status_code == 422
    assert "Enter a mobile number in the correct format, like 07700 900 982" in landline.text
    assert 'value="01632 960 001"' in landline.text


async def test_without_texts_there_are_no_codes(client, lead, monkeypatch):
    monkeypatch.setenv("CHANNELS", "email,letter")
    get_settings.cache_clear()
    try:
        await texter(lead, contact_channels=["phone"], phone="01632 960 001")
        assert 'href="/sign-in/code"' not in (await client.get("/sign-in")).text
        assert (await client.get("/sign-in/code")).status_code == 404
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


async def test_people_with_email_keep_their_link(client, lead, mailbox):
    rep = await texter(lead, email="rita@people.example", contact_channels=["email", "text"])
    assert (await User.get(id=rep.user_id)).email == "rita@people.example"
    await sign_in_by_link(client, mailbox, "rita@people.example")
    assert SIGNED_IN in (await client.get("/")).text


async def test_an_email_given_later_joins_the_account_made_for_the_mobile(client, lead, mailbox):
    rep = await texter(lead)
    account = rep.user_id
    await representatives.update(lead, rep, {"email": "rita@people.example"}, partial=True)
    assert rep.user_id == account
    assert (await User.get(id=account)).email == "rita@people.example"
    await sign_in_by_link(client, mailbox, "rita@people.example")
    assert SIGNED_IN in (await client.get("/")).text


async def test_the_code_goes_by_text_even_to_someone_who_prefers_email(client, lead):
    await texter(lead, email="rita@people.example", contact_channels=["email", "text"])
    await asked(client)
    [row] = await OutboxMessage.all()
    assert row.kind == "text" and row.to_address == MOBILE


async def test_a_phone_only_person_with_no_mobile_still_has_no_account(lead):
    rep = await texter(lead, mobile="", phone="01632 960 001", contact_channels=["phone"])
    assert rep.user_id is None and rep.phone_only


async def test_people_recorded_before_with_only_a_mobile_are_given_an_account(client, lead):
    rep = await texter(lead)
    # As records made before numbers had accounts are.
    await User.filter(id=rep.user_id).delete()
    await Representative.filter(id=rep.id).update(user_id=None)
    by_email = await texter(lead, "Eve Mail", email="eve@people.example", mobile="07700 900456")
    by_phone = await texter(
        lead, "Phil Phone", mobile="", phone="01632 960 001", contact_channels=["phone"]
    )

    migration = importlib.import_module("migrations.0021_sign_in_codes")
    await migration.give_accounts(None, SimpleNamespace(client=connections.get("default")))

    await rep.refresh_from_db()
    user = await User.get(id=rep.user_id)
    assert (user.email, user.full_name, user.is_active) == (None, "Rita Text", True)
    assert await Membership.filter(
        user=user, organisation_id=rep.organisation_id, role=Role.REPRESENTATIVE
    ).exists()
    assert (await Representative.get(id=by_email.id)).user_id == by_email.user_id
    assert (await Representative.get(id=by_phone.id)).user_id is None
    assert await User.all().count() == 3  # the lead, Rita and Eve
    path = await asked(client)
    assert (await enter(client, path, await texted_code())).status_code == 303
    assert SIGNED_IN in (await client.get("/")).text


async def test_the_code_reaches_the_phone_through_notify(client, lead, use_notify):
    await texter(lead)
    path = await asked(client)
    assert await deliver_mail() == 1
    [text] = use_notify.sent("sms")
    assert text.to == normalise_mobile(MOBILE)
    response = await enter(client, path, code_in(text.body))
    assert response.status_code == 303
    assert SIGNED_IN in (await client.get(response.headers["location"])).text
