"""Interest through the JSON API: a lead writes it down for someone who phoned, takes them
through each step, and the same rules hold as on the pages (409 for a step out of order, 404
across organisations, 403 for anyone but a lead, 422 field by field with nothing saved)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from coprod import clock
from coprod.models import (
    Consent,
    Contract,
    EqualityResponse,
    Interest,
    InterestEquality,
    OutboxMessage,
    Representative,
    Role,
)
from tests.conftest import sign_in
from tests.test_interests import LEAD, say_interested

A = "/api/v1"
PHONED = {
    "source": "phone",
    "full_name": "Bert Phoneonly",
    "contact_channels": ["phone"],
    "phone": "0113 496 0000",
    "best_time": "Mornings",
}


async def lead_of(world: Any, client: Any, name: str = "Northshire NHS Trust") -> Any:
    org = await world.org(name)
    email = LEAD if name == "Northshire NHS Trust" else f"lead@{org.slug}.example"
    await world.user(org, email, Role.INVOLVEMENT_LEAD)
    await sign_in(client, email)
    return org


def errors_of(response: Any) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


async def test_a_lead_takes_a_phone_only_person_through_every_step(client, world):
    await lead_of(world, client)
    made = await client.api("POST", f"{A}/interests", PHONED)
    assert made.status_code == 201, made.text
    interest = made.json()
    assert interest["status"] == "new" and interest["source"] == "phone"
    assert interest["entered_by_id"] is not None and interest["contact_channels"] == ["phone"]
    assert await OutboxMessage.all().count() == 0  # they asked to be phoned
    url = f"{A}/interests/{interest['id']}"

    early = await client.api(
        "POST",
        f"{url}/welcome",
        {
            "welcome_at": f"{clock.today() + dt.timedelta(days=3)}T10:30",
            "welcome_mode": "phone",
        },
    )
    assert early.status_code == 409
    assert errors_of(early) == {None: "Record the chat before booking a welcome session"}

    chat = await client.api(
        "POST",
        f"{url}/chat",
        {
            "representative_type": "patient",
            "formats": ["easy_read"],
            "consent_contact": True,
            "consent_equality": True,
            "equality": {"age_band": "16_24", "carer_status": "yes"},
        },
    )
    assert chat.status_code == 200, chat.text
    assert chat.json()["interest"]["status"] == "chatted"
    assert chat.json()["interest"]["consent_contact_on"] == clock.today().isoformat()
    resaved = await client.api("PUT", f"{url}/equality", {"age_band": "25_34"})
    assert resaved.status_code == 200 and resaved.json() == {"answered": 1}
    assert (await InterestEquality.get(interest_id=interest["id"])).carer_status is None

    welcome = await client.api(
        "POST",
        f"{url}/welcome",
        {
            "welcome_at": f"{clock.today() + dt.timedelta(days=3)}T10:30",
            "welcome_mode": "video",
        },
    )
    assert welcome.status_code == 200, welcome.text
    assert welcome.json()["told_by"] is None
    assert welcome.json()["phone_them"] == "asked to be phoned"

    ready = await client.api("POST", f"{url}/ready", {"role_title": "Patient representative"})
    assert ready.status_code == 200, ready.text
    rep_id = ready.json()["interest"]["representative_id"]
    rep = await Representative.get(id=rep_id)
    assert rep.user_id is None and rep.formats == ["easy_read"]
    assert {c.purpose.value for c in await Consent.filter(representative=rep)} == {
        "contact",
        "equality",
    }
    assert (await EqualityResponse.get(representative=rep)).age_band == "25_34"
    assert (await Contract.get(representative=rep)).role_title == "Patient representative"

    again = await client.api("POST", f"{url}/ready", {"role_title": "Patient representative"})
    assert again.status_code == 409
    assert errors_of(again) == {None: "They are already a representative"}
    listed = await client.api("GET", f"{A}/interests?status=ready")
    assert [i["id"] for i in listed.json()["items"]] == [interest["id"]]


async def test_closing_says_to_phone_or_how_they_were_told(client, world):
    await lead_of(world, client)
    phone = (await client.api("POST", f"{A}/interests", PHONED)).json()
    closed = await client.api(
        "POST", f"{A}/interests/{phone['id']}/close", {"close_reason": "chose_not_to"}
    )
    assert closed.status_code == 200
    assert closed.json()["phone_them"] == "asked to be phoned"
    assert closed.json()["interest"]["close_reason"] == "chose_not_to"

    emailed = (
        await client.api(
            "POST",
            f"{A}/interests",
            {**PHONED, "source": "email", "contact_channels": ["email"], "email": "e@example.com"},
        )
    ).json()
    told = await client.api(
        "POST", f"{A}/interests/{emailed['id']}/close", {"close_reason": "other"}
    )
    assert told.json()["told_by"] == "email" and told.json()["phone_them"] is None
    assert await OutboxMessage.filter(notification="interest_closed").count() == 1


async def test_bad_input_is_refused_field_by_field_and_nothing_is_saved(client, world):
    await lead_of(world, client)
    refused = await client.api(
        "POST",
        f"{A}/interests",
        {"source": "online", "full_name": "Ada", "contact_channels": ["text"], "mobile": ""},
    )
    assert refused.status_code == 422
    errors = errors_of(refused)
    assert errors["source"] == "Select how they got in touch"
    refused = await client.api(
        "POST", f"{A}/interests", {**PHONED, "contact_channels": ["text"], "phone": ""}
    )
    assert errors_of(refused) == {
        "mobile": "Enter a mobile number for texts, or choose another way to get in touch"
    }
    assert await Interest.all().count() == 0

    made = (await client.api("POST", f"{A}/interests", PHONED)).json()
    no_consent = await client.api("PUT", f"{A}/interests/{made['id']}/equality", {"sex": "male"})
    assert no_consent.status_code == 422
    assert not await InterestEquality.exists()
    bad_chat = await client.api(
        "POST",
        f"{A}/interests/{made['id']}/chat",
        {"representative_type": "carer", "equality": {"age_band": "16_24"}},
    )
    assert bad_chat.status_code == 422
    assert "Tick that they agree to equality monitoring" in bad_chat.text
    assert (await Interest.get(id=made["id"])).status.value == "new"


async def test_held_interest_is_listed_apart_and_released_or_deleted(client, world):
    await lead_of(world, client)
    await say_interested(client, full_name="Maybe real", **{"form_started": ""})
    await say_interested(client, full_name="Bot", website="spam")
    held = await client.api("GET", f"{A}/interests?held=true")
    names = {i["full_name"]: i for i in held.json()["items"]}
    assert set(names) == {"Maybe real", "Bot"}
    assert (await client.api("GET", f"{A}/interests")).json()["items"] == []

    released = await client.api("POST", f"{A}/interests/{names['Maybe real']['id']}/release", {})
    assert released.status_code == 200 and released.json()["held_as_spam"] is False
    not_held = await client.api("DELETE", f"{A}/interests/{names['Maybe real']['id']}")
    assert not_held.status_code == 409
    gone = await client.api("DELETE", f"{A}/interests/{names['Bot']['id']}")
    assert gone.status_code == 200 and gone.json() == {"id": names["Bot"]["id"]}
    assert await Interest.all().count() == 1


async def test_only_a_lead_of_the_organisation_reaches_interest(client, world, make_client):
    org = await lead_of(world, client)
    made = (await client.api("POST", f"{A}/interests", PHONED)).json()
    other = make_client()
    await lead_of(world, other, "Southshire NHS Trust")
    assert (await other.api("GET", f"{A}/interests/{made['id']}")).status_code == 404
    closing = await other.api(
        "POST", f"{A}/interests/{made['id']}/close", {"close_reason": "other"}
    )
    assert closing.status_code == 404
    assert (await other.api("GET", f"{A}/interests")).json()["items"] == []

    await world.user(org, "rep@trust.example", Role.REPRESENTATIVE)
    someone = make_client()
    await sign_in(someone, "rep@trust.example")
    assert (await someone.api("GET", f"{A}/interests")).status_code == 403
    assert (await someone.api("POST", f"{A}/interests", PHONED)).status_code == 403
    assert (await Interest.get(id=made["id"])).status.value == "new"


async def test_the_operations_are_published_under_their_tag(client, world):
    await lead_of(world, client)
    doc = (await client.get(f"{A}/openapi.json")).json()
    ours = {
        (method, path)
        for path, methods in doc["paths"].items()
        for method, op in methods.items()
        if op["tags"] == ["interest"]
    }
    assert ours == {
        ("get", f"{A}/interests"),
        ("post", f"{A}/interests"),
        ("get", f"{A}/interests/{{id}}"),
        ("delete", f"{A}/interests/{{id}}"),
        ("post", f"{A}/interests/{{id}}/chat"),
        ("post", f"{A}/interests/{{id}}/welcome"),
        ("post", f"{A}/interests/{{id}}/ready"),
        ("post", f"{A}/interests/{{id}}/close"),
        ("post", f"{A}/interests/{{id}}/release"),
        ("put", f"{A}/interests/{{id}}/equality"),
        ("put", f"{A}/interests/{{id}}/details"),
    }


async def test_a_lead_corrects_their_details_through_the_api(client, world, make_client):
    await lead_of(world, client)
    made = (await client.api("POST", f"{A}/interests", PHONED)).json()
    url = f"{A}/interests/{made['id']}/details"
    details = {k: v for k, v in PHONED.items() if k != "source"}
    refused = await client.api("PUT", url, {**details, "contact_channels": ["text"]})
    assert refused.status_code == 422
    assert errors_of(refused) == {
        "mobile": "Enter a mobile number for texts, or choose another way to get in touch"
    }
    changed = await client.api("PUT", url, {**details, "phone": "0113 496 0001"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["phone"] == "0113 496 0001"
    assert (await Interest.get(id=made["id"])).phone == "0113 496 0001"

    other = make_client()
    await lead_of(world, other, "Southshire NHS Trust")
    assert (await other.api("PUT", url, details)).status_code == 404
