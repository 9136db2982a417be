"""Answering a poll by text: the invitation goes by text with its times numbered, the person
replies, GOV.UK Notify's inbound callback brings the reply, and it is recorded as their answer
with a text back; what cannot be recorded goes to the lead's call list with the text."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from coprod.config import get_settings
from coprod.models import (
    AuditEvent,
    Invitation,
    OptionAnswer,
    OutboxMessage,
    ReceivedText,
    Role,
    TimeOption,
)
from coprod.services import reminders
from coprod.services.actor import Actor
from tests.conftest import deliver_mail, postgres_only
from tests.statements import counting
from tests.test_activities_api import (
    activity_body,
    agree_to_contact,
    at,
    contracted_rep,
    create_activity,
)
from tests.test_representatives_api import lead_of

TOKEN = "notify-callback-token-for-tests"
MOBILE = "07700 900123"
FROM_NOTIFY = "447700900123"  # the same number, as Notify gives a sender


@pytest.fixture
def callback_token(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("NOTIFY_CALLBACK_TOKEN", TOKEN)
    get_settings.cache_clear()
    yield TOKEN
    monkeypatch.delenv("NOTIFY_CALLBACK_TOKEN")
    get_settings.cache_clear()


def inbound(message: str, source: str = FROM_NOTIFY, notify_id: str | None = None) -> dict:
    """A text as Notify's inbound callback posts it (notifications-api,
    send_inbound_sms_to_service)."""
    return {
        "id": notify_id or str(uuid.uuid4()),
        "source_number": source,
        "destination_number": "07700900000",
        "message": message,
        "date_received": "2026-12-01T10:15:30.123456Z",
    }


async def reply(client: Any, payload: dict, token: str = TOKEN) -> Any:
    return await client.http.post(
        "/api/v1/notify/texts", json=payload, headers={"Authorization": f"Bearer {token}"}
    )


async def texter(client: Any, name: str = "Tess Texter", mobile: str = MOBILE) -> dict:
    """Someone who chose to hear from us by text, and agreed to be contacted."""
    rep = await contracted_rep(
        client, full_name=name, mobile=mobile, phone=None, contact_channels=["text"]
    )
    await agree_to_contact(client, rep["id"])
    return rep


async def invite(client: Any, activity_id: int, *rep_ids: int) -> None:
    response = await client.api(
        "POST",
        f"/api/v1/activities/{activity_id}/invitations",
        {"representative_ids": list(rep_ids)},
    )
    assert response.status_code == 201, response.text


async def options_of(activity_id: int) -> list[TimeOption]:
    return list(await TimeOption.filter(activity_id=activity_id).order_by("starts_at"))


async def lead_actor(org: Any) -> Actor:
    return Actor(user=None, organisation_id=org.id, roles=frozenset({Role.INVOLVEMENT_LEAD}))


async def test_a_texted_reply_is_recorded_as_their_answer_and_acknowledged(
    client, world, mailbox, use_notify
):
    await lead_of(world, client)
    tess = await texter(client)
    activity = await create_activity(client, options=[at(5, 10), at(6, 14)])
    await invite(client, activity["id"], tess["id"])

    # The worker sends the invitation through Notify as a text, the times numbered from 1, and
    # the invitation remembers which times those numbers mean.
    assert await deliver_mail() == 1
    [sent] = use_notify.sent("sms")
    assert sent.to == FROM_NOTIFY
    assert re.search(r"^1: \w+day .* at 10:00am$", sent.body, re.M)
    assert re.search(r"^2: \w+day .* at 2:00pm$", sent.body, re.M)
    assert 'Reply with each number and yes, no or maybe, for example "1 yes 2 no"' in sent.body
    first, second = await options_of(activity["id"])
    invitation = await Invitation.get(representative_id=tess["id"])
    assert invitation.texted_option_ids == [first.id, second.id]

    # Tess replies; Notify posts her text to our callback with the token we gave it.
    text = use_notify.inbound_text(MOBILE, "1 Yes. 2 No")
    answered = await reply(client, text, token=use_notify.callback_token)
    assert answered.status_code == 200, answered.text
    assert answered.json() == {"received": "answered"}
    answers = {a.option_id: a.answer for a in await OptionAnswer.all()}
    assert answers == {first.id: "yes", second.id: "no"}
    await invitation.refresh_from_db()
    # Video and phone are both on offer: how they join is not chosen for them.
    assert invitation.answered_at is not None and invitation.mode is None
    event = await AuditEvent.get(action="invitation.answer")
    assert event.via == "text" and event.actor_id is None
    page = await client.get(f"/activities/{activity['id']}")
    assert "Yes 1, if need be 0, no 0" in page.text and "Yes 0, if need be 0, no 1" in page.text

    # The thanks goes back by text, through Notify, saying what was recorded.
    assert await deliver_mail() == 1
    thanks = use_notify.sent("sms")[-1]
    assert thanks.to == FROM_NOTIFY
    assert re.search(r"^1 \w+day .* at 10:00am: yes$", thanks.body, re.M)
    assert re.search(r"^2 \w+day .* at 2:00pm: no$", thanks.body, re.M)
    row = await OutboxMessage.get(notification="poll_answer_received")
    assert (row.kind, row.status, row.provider_id) == ("text", "sent", thanks.id)
    assert mailbox.messages == []

    # Notify delivers the same text again: nothing changes, and it is still a 200.
    again = await reply(client, text, token=use_notify.callback_token)
    assert again.status_code == 200 and again.json() == {"received": "already received"}
    assert await ReceivedText.all().count() == 1
    assert {a.option_id: a.answer for a in await OptionAnswer.all()} == answers
    assert await OutboxMessage.filter(notification="poll_answer_received").count() == 1

    # A second, different text changes their answer.
    changed = await reply(
        client, use_notify.inbound_text(MOBILE, "all maybe"), token=use_notify.callback_token
    )
    assert changed.json() == {"received": "answered"}
    assert {a.answer for a in await OptionAnswer.all()} == {"if_need_be"}


async def test_with_one_way_to_join_a_yes_by_text_chooses_it(client, world, callback_token):
    await lead_of(world, client)
    tess = await texter(client)
    body = activity_body(video=False, video_link=None, options=[at(5), at(6)])
    created = await client.api("POST", "/api/v1/activities", body)
    assert created.status_code == 201, created.text
    await invite(client, created.json()["id"], tess["id"])
    assert (await reply(client, inbound("1y 2n"))).json() == {"received": "answered"}
    assert (await Invitation.get(representative_id=tess["id"])).mode == "phone"


async def test_an_unclear_reply_goes_to_the_call_list_until_the_lead_has_phoned(
    client, world, callback_token
):
    org = await lead_of(world, client)
    tess = await texter(client)
    activity = await create_activity(client, options=[at(5), at(6)])
    await invite(client, activity["id"], tess["id"])

    unclear = await reply(client, inbound("1 yes, 2 only after lunch"))
    assert unclear.json() == {"received": "unclear"}
    assert await OptionAnswer.all().count() == 0
    sorry = await OutboxMessage.get(notification="poll_answer_unclear")
    assert sorry.kind == "text" and "lead will phone you" in sorry.text_body

    lead = await lead_actor(org)
    assert await reminders.call_count(lead) == 1
    page = await client.get("/call-list")
    assert "1 yes, 2 only after lunch" in page.text
    assert "The reply had words we could not read" in page.text
    assert "None" not in page.text
    listed = (await client.get("/api/v1/call-list")).json()["items"]
    assert [(c["about"], c["name"], c["text"]["message"]) for c in listed] == [
        ("text", "Tess Texter", "1 yes, 2 only after lunch")
    ]
    assert listed[0]["activity_id"] == activity["id"]

    text = await ReceivedText.get()
    done = await client.post_form(
        f"/call-list/texts/{text.id}/dealt-with", {}, token_from="/call-list"
    )
    assert done.status_code == 303 and done.headers["location"] == "/call-list"
    assert "only after lunch" not in (await client.get("/call-list")).text
    assert await reminders.call_count(lead) == 0
    await text.refresh_from_db()
    assert text.dealt_with_at is not None and text.dealt_with_by_id is not None
    assert await AuditEvent.filter(action="received_text.dealt_with").count() == 1

    # The API twin, for a second text; doing it again changes nothing.
    await reply(client, inbound("who is this?"))
    second = await ReceivedText.get(message="who is this?")
    url = f"/api/v1/received-texts/{second.id}/dealt-with"
    twice = [await client.api("POST", url, {}) for _ in range(2)]
    assert [r.status_code for r in twice] == [200, 200]
    assert twice[0].json()["dealt_with_at"] == twice[1].json()["dealt_with_at"]
    assert await AuditEvent.filter(action="received_text.dealt_with").count() == 2


async def test_a_shared_number_is_never_guessed(client, world, make_client, callback_token):
    await lead_of(world, client)
    ann = await texter(client, "Ann Able", "07700 900123")
    bob = await texter(client, "Bob Baker", "+44 7700 900123")
    activity = await create_activity(client, options=[at(5), at(6)])
    await invite(client, activity["id"], ann["id"], bob["id"])
    # The same number belongs to someone at a neighbouring trust too.
    neighbour = make_client()
    await lead_of(world, neighbour, "Southshire NHS Trust")
    await texter(neighbour, "Cat Cole", "07700900123")

    shared = await reply(client, inbound("1 yes 2 yes"))
    assert shared.json() == {"received": "shared_number"}
    assert await OptionAnswer.all().count() == 0
    assert not await OutboxMessage.filter(notification__startswith="poll_answer").exists()
    texts = await ReceivedText.all()
    assert len(texts) == 2 and {t.representative_id for t in texts} == {None}

    ours = (await client.get("/api/v1/call-list")).json()["items"]
    assert [(c["about"], c["representative_id"], c["name"]) for c in ours] == [
        ("text", None, "Ann Able or Bob Baker")
    ]
    assert "share this number" in ours[0]["reason"]
    page = await client.get("/call-list")
    assert "1 yes 2 yes" in page.text and "Ann Able and Bob Baker share this number" in page.text
    theirs = (await neighbour.get("/api/v1/call-list")).json()["items"]
    assert [(c["name"], c["text"]["message"]) for c in theirs] == [("Cat Cole", "1 yes 2 yes")]


async def test_numbers_keep_meaning_what_the_text_said_when_a_time_is_added(
    client, world, callback_token
):
    await lead_of(world, client)
    tess = await texter(client)
    activity = await create_activity(client, options=[at(5), at(6)])
    await invite(client, activity["id"], tess["id"])
    first, second = await options_of(activity["id"])
    # An earlier time, added after the text went: it would now be number 1 on the page.
    added = await client.api(
        "POST", f"/api/v1/activities/{activity['id']}/options", {"options": [at(4)]}
    )
    assert added.status_code == 201, added.text
    assert (await options_of(activity["id"]))[0].id == added.json()["items"][0]["id"]

    assert (await reply(client, inbound("1 no 2 yes"))).json() == {"received": "answered"}
    answers = {a.option_id: a.answer for a in await OptionAnswer.all()}
    assert answers == {first.id: "no", second.id: "yes"}  # the new time is left unanswered


async def test_a_reply_after_the_poll_closed_goes_to_the_call_list(client, world, callback_token):
    await lead_of(world, client)
    tess = await texter(client)
    activity = await create_activity(client, options=[at(5), at(6)])
    await invite(client, activity["id"], tess["id"])
    first, _ = await options_of(activity["id"])
    chosen = await client.api(
        "POST",
        f"/api/v1/activities/{activity['id']}/finalise",
        {"option_id": first.id, "representative_ids": [tess["id"]]},
    )
    assert chosen.status_code == 200, chosen.text

    late = await reply(client, inbound("1 yes 2 no"))
    assert late.json() == {"received": "nothing_open"}
    assert await OptionAnswer.all().count() == 0
    listed = (await client.get("/api/v1/call-list")).json()["items"]
    assert [(c["about"], c["text"]["outcome"]) for c in listed] == [("text", "nothing_open")]
    assert "no invitation by text open" in listed[0]["reason"]


async def test_a_number_nobody_has_is_kept_and_nothing_else(client, world, callback_token):
    org = await lead_of(world, client)
    await texter(client)
    unknown = await reply(client, inbound("1 yes 2 no", source="447700900999"))
    assert unknown.json() == {"received": "unknown_number"}
    text = await ReceivedText.get()
    assert text.organisation_id is None and text.outcome == "unknown_number"
    assert await reminders.call_count(await lead_actor(org)) == 0
    assert await OutboxMessage.filter(notification__startswith="poll_answer").count() == 0


async def test_the_callback_needs_notifys_bearer_token(client, world, monkeypatch, callback_token):
    await lead_of(world, client)
    await texter(client)
    payload = inbound("1 yes 2 no")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        refused = await client.http.post("/api/v1/notify/texts", json=payload, headers=headers)
        assert refused.status_code == 401, headers
    # Refused before the body is read: nothing is said about what it should hold.
    junk = await client.http.post(
        "/api/v1/notify/texts", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert junk.status_code == 401
    # Bad JSON with the token is a 422, never a 500.
    for body in (b"{not json", b"[]", b'{"id": "x"}'):
        bad = await client.http.post(
            "/api/v1/notify/texts",
            content=body,
            headers={"content-type": "application/json", "Authorization": f"Bearer {TOKEN}"},
        )
        assert bad.status_code == 422, body
    assert await ReceivedText.all().count() == 0

    # With no token configured, every callback is refused.
    monkeypatch.setenv("NOTIFY_CALLBACK_TOKEN", "")
    get_settings.cache_clear()
    for token in ("", TOKEN):
        assert (await reply(client, payload, token=token)).status_code == 401
    assert await ReceivedText.all().count() == 0


async def test_a_lead_of_another_organisation_cannot_mark_a_text(
    client, world, make_client, callback_token
):
    await lead_of(world, client)
    tess = await texter(client)
    activity = await create_activity(client, options=[at(5), at(6)])
    await invite(client, activity["id"], tess["id"])
    await reply(client, inbound("maybe"))
    text = await ReceivedText.get()
    other = make_client()
    await lead_of(world, other, "Southshire NHS Trust")
    refused = await other.api("POST", f"/api/v1/received-texts/{text.id}/dealt-with", {})
    assert refused.status_code == 404
    await text.refresh_from_db()
    assert text.dealt_with_at is None


async def _statements_for_a_reply(client: Any, world: Any, people: int, trust: str) -> int:
    await lead_of(world, client, trust)
    mobiles = [f"07700 9{n:05d}" for n in range(people)]
    reps = [await texter(client, f"Person {n}", mobile) for n, mobile in enumerate(mobiles)]
    activity = await create_activity(client, options=[at(5), at(6), at(7)])
    await invite(client, activity["id"], *(r["id"] for r in reps))
    await reply(client, inbound("1 yes 2 no 3 yes", source=f"4477009{people - 2:05d}"))  # warm
    async with counting() as statements:
        answered = await reply(client, inbound("all yes", source=f"4477009{people - 1:05d}"))
    assert answered.json() == {"received": "answered"}
    return statements.count


async def test_a_reply_costs_the_same_statements_however_many_people(
    make_client, world, callback_token
):
    few = await _statements_for_a_reply(make_client(), world, 2, "Northshire NHS Trust")
    many = await _statements_for_a_reply(make_client(), world, 20, "Southshire NHS Trust")
    assert few == many


@postgres_only
async def test_the_same_text_delivered_twice_at_once_is_recorded_once(
    client, world, callback_token
):
    await lead_of(world, client)
    tess = await texter(client)
    activity = await create_activity(client, options=[at(5), at(6)])
    await invite(client, activity["id"], tess["id"])
    payload = inbound("1 yes 2 no")
    both = await asyncio.gather(reply(client, payload), reply(client, payload))
    assert [r.status_code for r in both] == [200, 200]
    assert sorted(r.json()["received"] for r in both) == ["already received", "answered"]
    assert await ReceivedText.all().count() == 1
    assert await OutboxMessage.filter(notification="poll_answer_received").count() == 1
