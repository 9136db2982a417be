"""The representatives and contracts API: real database, the app in-process, real sign-in."""

from __future__ import annotations

import datetime as dt
from typing import Any

from coprod import clock
from coprod.config import get_settings
from coprod.models import AuditEvent, Contract, Membership, Representative, Role, User
from tests.conftest import deliver_mail, sign_in
from tests.openapi_doc import assert_described, operations_tagged, resolve

LEAD = "lead@trust.example"
PROFILE_KEYS = {
    "id",
    "full_name",
    "representative_type",
    "email",
    "phone",
    "mobile",
    "postal_address",
    "contact_channels",
    "team_ids",
    "formats",
    "translated_language",
    "interpreter_language",
    "needs_transport",
    "wants_tech_test",
    "other_needs",
    "preferred_modes",
    "unavailable",
    "unavailable_note",
    "payment_preference",
    "break_until",
    "on_break",
    "lead_id",
    "archived",
    "phone_only",
    "contract_status",
}
CONTRACT_KEYS = {
    "id",
    "representative_id",
    "role_title",
    "starts_on",
    "ends_on",
    "ended_on",
    "end_reason",
    "predecessor_id",
    "status",
    "catch_ups_held",
    "next_catch_up_on",
    "catch_up_state",
}


def rep_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "full_name": "Ada Lovelace",
        "representative_type": "patient",
        "phone": "01632 960 001",
        "contact_channels": ["phone"],
        "payment_preference": "paid",
    }
    return {**body, **overrides}


def years_later_less_a_day(day: dt.date, years: int) -> dt.date:
    try:
        same_day = day.replace(year=day.year + years)
    except ValueError:  # 29 February
        same_day = dt.date(day.year + years, 2, 28)
    return same_day - dt.timedelta(days=1)


def errors_of(response: Any) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


async def lead_of(world: Any, client: Any, name: str = "Northshire NHS Trust") -> Any:
    org = await world.org(name)
    email = LEAD if name == "Northshire NHS Trust" else f"lead@{org.slug}.example"
    await world.user(org, email, Role.INVOLVEMENT_LEAD)
    await sign_in(client, email)
    return org


async def create_rep(client: Any, **overrides: Any) -> dict[str, Any]:
    response = await client.api("POST", "/api/v1/representatives", rep_body(**overrides))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def create_contract(client: Any, rep_id: int, **body: Any) -> dict[str, Any]:
    response = await client.api(
        "POST",
        f"/api/v1/representatives/{rep_id}/contracts",
        {"role_title": "Patient representative", **body},
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def sign_in_by_link(client: Any, mailbox: Any, email: str) -> None:
    asked = await client.post_form("/sign-in/link", {"email": email})
    assert asked.status_code == 303
    assert await deliver_mail() >= 1
    path = mailbox.link(mailbox.to(email)[-1])
    signed_in = await client.post_form(path, {})
    assert signed_in.status_code == 303, signed_in.text


async def test_lead_creates_a_representative_with_needs_and_a_default_length_contract(
    client, world
):
    await lead_of(world, client)
    rep = await create_rep(
        client,
        full_name="Zofia Nowak",
        formats=["braille", "interpreter"],
        interpreter_language="Polish",
        preferred_modes=["in_person"],
    )
    assert rep["formats"] == ["braille", "interpreter"]
    assert rep["interpreter_language"] == "Polish"
    assert rep["contract_status"] is None  # no contract yet
    assert rep["phone_only"] is True  # no email, so no account
    assert await AuditEvent.filter(action="representative.create").count() == 1

    today = clock.today()
    assert get_settings().contract_default_years == 3
    contract = await create_contract(client, rep["id"], starts_on=today.isoformat())
    assert set(contract) == CONTRACT_KEYS
    assert contract["starts_on"] == today.isoformat()
    assert contract["ends_on"] == years_later_less_a_day(today, 3).isoformat()
    assert contract["ended_on"] is None and contract["predecessor_id"] is None
    assert contract["status"] == "active"
    stored = await Contract.get(id=contract["id"])
    assert stored.ends_on == years_later_less_a_day(today, 3)

    shown = await client.get(f"/api/v1/representatives/{rep['id']}")
    assert shown.status_code == 200
    profile = shown.json()
    # Exactly the profile: nothing about health, consents or equality monitoring.
    assert set(profile) == PROFILE_KEYS
    assert profile["full_name"] == "Zofia Nowak"
    assert profile["formats"] == ["braille", "interpreter"]
    assert profile["interpreter_language"] == "Polish"
    assert profile["contract_status"] == "active"
    assert profile["on_break"] is False and profile["archived"] is False

    contracts = (await client.get(f"/api/v1/representatives/{rep['id']}/contracts")).json()
    assert [c["id"] for c in contracts["items"]] == [contract["id"]]
    assert (await client.get(f"/api/v1/contracts/{contract['id']}")).json() == contract

    await create_rep(client, full_name="Bea Smith", formats=["audio"])
    listed = (await client.get("/api/v1/representatives")).json()["items"]
    assert [(r["full_name"], r["contract_status"]) for r in listed] == [
        ("Bea Smith", None),
        ("Zofia Nowak", "active"),
    ]
    braille = (await client.get("/api/v1/representatives?need=braille")).json()["items"]
    assert [r["full_name"] for r in braille] == ["Zofia Nowak"]
    uncontracted = (await client.get("/api/v1/representatives?contract=none")).json()["items"]
    assert [r["full_name"] for r in uncontracted] == ["Bea Smith"]
    by_name = (await client.get("/api/v1/representatives?q=nowak&mode=in_person")).json()
    assert [r["full_name"] for r in by_name["items"]] == ["Zofia Nowak"]
    bad_filter = await client.get("/api/v1/representatives?mode=carrier_pigeon")
    assert bad_filter.status_code == 422 and "mode" in errors_of(bad_filter)


async def test_bad_input_is_422_by_field_and_nothing_is_half_saved(client, world):
    await lead_of(world, client)
    missing = await client.api("POST", "/api/v1/representatives", {"contact_channels": ["phone"]})
    assert missing.status_code == 422
    errors = errors_of(missing)
    assert errors["full_name"] == "Enter their full name"
    assert errors["representative_type"] == "Select whether they are a patient, a carer or both"

    no_email = await client.api(
        "POST", "/api/v1/representatives", rep_body(contact_channels=["email"])
    )
    assert no_email.status_code == 422
    assert errors_of(no_email) == {
        "email": "Enter an email address, or choose a different way to contact them"
    }

    no_language = await client.api(
        "POST", "/api/v1/representatives", rep_body(formats=["interpreter"])
    )
    assert no_language.status_code == 422
    assert errors_of(no_language) == {
        "interpreter_language": "Enter the language the interpreter should speak"
    }
    assert await Representative.all().count() == 0

    # A clash found after the record was first written rolls the whole creation back.
    first = await create_rep(client, email="ada@people.example")
    users = await User.all().count()
    taken = await client.api(
        "POST",
        "/api/v1/representatives",
        rep_body(full_name="Someone Else", email="ada@people.example"),
    )
    assert taken.status_code == 422
    assert errors_of(taken) == {
        "email": "Another representative here already uses this email address"
    }
    assert await Representative.all().count() == 1
    assert await User.all().count() == users
    assert await AuditEvent.filter(action="representative.create").count() == 1

    rep_id = first["id"]
    backwards = await client.api(
        "POST",
        f"/api/v1/representatives/{rep_id}/contracts",
        {"role_title": "Peer reviewer", "starts_on": "2026-04-01", "ends_on": "2026-03-01"},
    )
    assert backwards.status_code == 422
    assert errors_of(backwards) == {"ends_on": "The end date must be after the start date"}
    assert await Contract.all().count() == 0

    await create_contract(client, rep_id, starts_on="2026-04-01", ends_on="2027-03-31")
    overlapping = await client.api(
        "POST",
        f"/api/v1/representatives/{rep_id}/contracts",
        {"role_title": "Peer reviewer", "starts_on": "2027-01-01"},
    )
    assert overlapping.status_code == 422
    assert errors_of(overlapping) == {
        "starts_on": "These dates overlap their contract from 1 April 2026 to 31 March 2027. "
        "Choose dates that do not overlap it."
    }
    assert await Contract.all().count() == 1

    patch = await client.api(
        "PATCH", f"/api/v1/representatives/{rep_id}", {"contact_channels": ["post"]}
    )
    assert patch.status_code == 422
    assert set(errors_of(patch)) == {"postal_address"}
    assert (await Representative.get(id=rep_id)).contact_channels == ["phone"]


async def test_renewing_and_ending_a_contract(client, world):
    await lead_of(world, client)
    rep = await create_rep(client)
    today = clock.today()
    start = today - dt.timedelta(days=30)
    first = await create_contract(client, rep["id"], starts_on=start.isoformat())
    first_end = dt.date.fromisoformat(first["ends_on"])

    renewed = await client.api("POST", f"/api/v1/contracts/{first['id']}/renew", {})
    assert renewed.status_code == 201, renewed.text
    successor = renewed.json()
    assert successor["predecessor_id"] == first["id"]
    assert successor["starts_on"] == (first_end + dt.timedelta(days=1)).isoformat()
    assert successor["role_title"] == first["role_title"]
    assert successor["status"] == "upcoming"
    assert await Contract.filter(representative_id=rep["id"]).count() == 2
    # Renewing again would overlap the successor.
    again = await client.api("POST", f"/api/v1/contracts/{first['id']}/renew", {})
    assert again.status_code == 422 and "starts_on" in errors_of(again)

    yesterday = today - dt.timedelta(days=1)
    no_reason = await client.api(
        "POST", f"/api/v1/contracts/{first['id']}/end", {"ended_on": yesterday.isoformat()}
    )
    assert no_reason.status_code == 422
    assert errors_of(no_reason) == {"reason": "Enter the reason it is ending early"}
    unchanged = await Contract.get(id=first["id"])
    assert unchanged.ended_on is None and unchanged.end_reason is None

    ended = await client.api(
        "POST",
        f"/api/v1/contracts/{first['id']}/end",
        {"ended_on": yesterday.isoformat(), "reason": "Moving away"},
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["ended_on"] == yesterday.isoformat()
    assert ended.json()["end_reason"] == "Moving away"
    assert ended.json()["status"] == "ended"
    shown = (await client.get(f"/api/v1/contracts/{first['id']}")).json()
    assert shown["status"] == "ended" and shown["ended_on"] == yesterday.isoformat()
    assert await AuditEvent.filter(action="contract.end").count() == 1


async def test_who_may_see_and_change_which_record(client, make_client, world, mailbox):
    org = await lead_of(world, client)
    a = await create_rep(
        client, full_name="Ann Able", email="ann@people.example", contact_channels=["email"]
    )
    b = await create_rep(client, full_name="Bob Baker")
    b_contract = await create_contract(client, b["id"], starts_on="2026-04-01")
    # An email address gives them an account, with the representative role here.
    assert a["phone_only"] is False and b["phone_only"] is True
    ann = await User.get(email="ann@people.example")
    assert (await Representative.get(id=a["id"])).user_id == ann.id
    assert await Membership.filter(user=ann, organisation=org, role=Role.REPRESENTATIVE).exists()

    rep = make_client()
    await sign_in_by_link(rep, mailbox, "ann@people.example")
    own = await rep.get(f"/api/v1/representatives/{a['id']}")
    assert own.status_code == 200 and own.json()["full_name"] == "Ann Able"
    assert (await rep.get(f"/api/v1/representatives/{a['id']}/contracts")).status_code == 200
    assert (await rep.get(f"/api/v1/representatives/{b['id']}")).status_code == 404
    assert (await rep.get(f"/api/v1/representatives/{b['id']}/contracts")).status_code == 404
    assert (await rep.get(f"/api/v1/contracts/{b_contract['id']}")).status_code == 404
    assert (await rep.get("/api/v1/representatives")).status_code == 403
    own_contract = await rep.api(
        "POST",
        f"/api/v1/representatives/{a['id']}/contracts",
        {"role_title": "Peer reviewer", "starts_on": "2026-04-01"},
    )
    assert own_contract.status_code == 403

    rename = await rep.api(
        "PATCH", f"/api/v1/representatives/{a['id']}", {"full_name": "Queen Ann"}
    )
    assert rename.status_code == 422
    assert rename.json()["errors"] == [
        {"field": "full_name", "message": "Ask your involvement lead to change this"}
    ]
    assert (await Representative.get(id=a["id"])).full_name == "Ann Able"
    not_theirs = await rep.api(
        "PATCH", f"/api/v1/representatives/{b['id']}", {"preferred_modes": ["video"]}
    )
    assert not_theirs.status_code == 404

    break_until = (clock.today() + dt.timedelta(days=14)).isoformat()
    changed = await rep.api(
        "PATCH",
        f"/api/v1/representatives/{a['id']}",
        {"break_until": break_until, "preferred_modes": ["video", "phone"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["break_until"] == break_until
    assert changed.json()["on_break"] is True
    assert changed.json()["preferred_modes"] == ["video", "phone"]
    saved = await Representative.get(id=a["id"])
    assert saved.break_until == dt.date.fromisoformat(break_until)
    assert saved.preferred_modes == ["video", "phone"]
    assert (await Representative.get(id=b["id"])).preferred_modes == []

    other_lead = make_client()
    await lead_of(world, other_lead, "Southshire NHS Trust")
    assert (await other_lead.get(f"/api/v1/representatives/{a['id']}")).status_code == 404
    assert (await other_lead.get(f"/api/v1/contracts/{b_contract['id']}")).status_code == 404
    renew = await other_lead.api("POST", f"/api/v1/contracts/{b_contract['id']}/renew", {})
    assert renew.status_code == 404
    rename_b = await other_lead.api(
        "PATCH", f"/api/v1/representatives/{b['id']}", {"full_name": "Stolen"}
    )
    assert rename_b.status_code == 404
    assert (await other_lead.get("/api/v1/representatives")).json() == {
        "items": [],
        "next_cursor": None,
    }
    assert await Contract.all().count() == 1
    assert (await Representative.get(id=b["id"])).full_name == "Bob Baker"

    await world.user(org, "reporter@trust.example", Role.REPORTER)
    reporter = make_client()
    await sign_in(reporter, "reporter@trust.example")
    listing = await reporter.get("/api/v1/representatives")
    assert listing.status_code == 403
    assert (await reporter.get(f"/api/v1/representatives/{a['id']}")).status_code == 404


async def test_openapi_describes_the_representatives_operations(client):
    doc = (await client.get("/api/v1/openapi.json")).json()
    expected = {
        ("get", "/api/v1/representatives"),
        ("post", "/api/v1/representatives"),
        ("get", "/api/v1/representatives/{id}"),
        ("patch", "/api/v1/representatives/{id}"),
        ("get", "/api/v1/me/representative"),
        ("post", "/api/v1/representatives/{id}/break"),
        ("post", "/api/v1/representatives/{id}/archive"),
        ("get", "/api/v1/representatives/{id}/contracts"),
        ("post", "/api/v1/representatives/{id}/contracts"),
        ("get", "/api/v1/contracts/{id}"),
        ("post", "/api/v1/contracts/{id}/renew"),
        ("post", "/api/v1/contracts/{id}/end"),
        ("get", "/api/v1/contracts/{id}/catch-ups"),
        ("post", "/api/v1/contracts/{id}/catch-ups"),
        ("get", "/api/v1/catch-ups"),
        ("get", "/api/v1/representatives/{id}/consents"),
        ("post", "/api/v1/representatives/{id}/consents"),
        ("post", "/api/v1/representatives/{id}/consents/withdraw"),
        ("get", "/api/v1/consents/review"),
    }
    assert operations_tagged(doc, "representatives") == expected
    assert_described(doc, expected)
    listing = doc["paths"]["/api/v1/representatives"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {
        "q",
        "mode",
        "need",
        "type",
        "team",
        "contract",
        "on_break",
        "archived",
        "limit",
        "cursor",
    }
    assert "involvement_lead" in listing["description"]
    profile = doc["paths"]["/api/v1/representatives/{id}"]["get"]["responses"]["200"]
    assert set(resolve(doc, profile["content"]["application/json"]["schema"])["properties"]) == (
        PROFILE_KEYS
    )
    create = doc["paths"]["/api/v1/representatives"]["post"]
    assert "201" in create["responses"]
    create_body = resolve(doc, create["requestBody"]["content"]["application/json"]["schema"])
    assert set(create_body["required"]) == {"full_name", "representative_type"}
    # A PATCH changes only what is sent.
    patch = doc["paths"]["/api/v1/representatives/{id}"]["patch"]
    assert "required" not in resolve(
        doc, patch["requestBody"]["content"]["application/json"]["schema"]
    )
