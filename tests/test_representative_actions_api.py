"""API twins of the representatives pages' actions: breaks, archiving, catch-ups, consents due
for review, the own profile and own account details, and paging the lists. Real database, the
app in-process, real sign-in."""

from __future__ import annotations

import datetime as dt
from typing import Any

from coprod import clock
from coprod.config import get_settings
from coprod.models import AuditEvent, CatchUp, Representative, Role, User
from tests.conftest import sign_in
from tests.test_representatives_api import (
    LEAD,
    create_contract,
    create_rep,
    errors_of,
    lead_of,
    sign_in_by_link,
)


async def other_trust_lead(world: Any, make_client: Any) -> Any:
    other = make_client()
    await lead_of(world, other, "Southshire NHS Trust")
    return other


async def own_client(client: Any, make_client: Any, mailbox: Any, **overrides: Any) -> Any:
    """A representative with an account, created by the lead on `client`, signed in on a
    client of their own: (their record, their client)."""
    email = overrides.pop("email", "ann@people.example")
    rep = await create_rep(
        client, full_name="Ann Able", email=email, contact_channels=["email"], **overrides
    )
    theirs = make_client()
    await sign_in_by_link(theirs, mailbox, email)
    return rep, theirs


async def test_a_lead_and_the_representative_set_and_end_a_break(
    client, make_client, world, mailbox
):
    await lead_of(world, client)
    rep, ann = await own_client(client, make_client, mailbox)
    url = f"/api/v1/representatives/{rep['id']}/break"
    until = (clock.today() + dt.timedelta(days=21)).isoformat()

    set_by_lead = await client.api("POST", url, {"break_until": until})
    assert set_by_lead.status_code == 200, set_by_lead.text
    assert set_by_lead.json()["break_until"] == until and set_by_lead.json()["on_break"] is True
    assert (await Representative.get(id=rep["id"])).break_until == dt.date.fromisoformat(until)
    event = await AuditEvent.filter(action="representative.update").order_by("-id").first()
    assert event is not None and event.on_behalf_of == "Ann Able"
    assert event.after == {"break_until": until}

    past = await ann.api(
        "POST", url, {"break_until": (clock.today() - dt.timedelta(days=1)).isoformat()}
    )
    assert past.status_code == 422
    assert errors_of(past) == {
        "break_until": "The date your break ends must be today or in the future"
    }
    not_a_date = await ann.api("POST", url, {"break_until": "soon"})
    assert not_a_date.status_code == 422 and set(errors_of(not_a_date)) == {"break_until"}
    assert (await Representative.get(id=rep["id"])).break_until == dt.date.fromisoformat(until)

    ended = await ann.api("POST", url, {})
    assert ended.status_code == 200, ended.text
    assert ended.json()["break_until"] is None and ended.json()["on_break"] is False
    assert (await Representative.get(id=rep["id"])).break_until is None
    event = await AuditEvent.filter(action="representative.update").order_by("-id").first()
    assert event is not None and event.on_behalf_of is None  # they acted for themselves


async def test_a_break_is_only_for_those_who_may_see_the_record(
    client, make_client, world, mailbox
):
    org = await lead_of(world, client)
    _, ann = await own_client(client, make_client, mailbox)
    bob = await create_rep(client, full_name="Bob Baker")
    body = {"break_until": (clock.today() + dt.timedelta(days=7)).isoformat()}
    other = await other_trust_lead(world, make_client)
    await world.user(org, "reporter@trust.example", Role.REPORTER)
    reporter = make_client()
    await sign_in(reporter, "reporter@trust.example")

    for someone in (ann, other, reporter):
        refused = await someone.api("POST", f"/api/v1/representatives/{bob['id']}/break", body)
        assert refused.status_code == 404, refused.text
    assert (await Representative.get(id=bob["id"])).break_until is None


async def test_a_lead_archives_a_representative(client, make_client, world, mailbox):
    await lead_of(world, client)
    rep, ann = await own_client(client, make_client, mailbox)
    url = f"/api/v1/representatives/{rep['id']}/archive"

    themselves = await ann.api("POST", url, {})
    assert themselves.status_code == 403
    elsewhere = await (await other_trust_lead(world, make_client)).api("POST", url, {})
    assert elsewhere.status_code == 404
    extra = await client.api("POST", url, {"reason": "moved"})
    assert extra.status_code == 422 and set(errors_of(extra)) == {"reason"}
    assert (await Representative.get(id=rep["id"])).archived_at is None

    archived = await client.api("POST", url, {})
    assert archived.status_code == 200, archived.text
    assert archived.json()["archived"] is True
    assert (await Representative.get(id=rep["id"])).archived_at is not None
    assert await AuditEvent.filter(action="representative.archive").count() == 1
    again = await client.api("POST", url)
    assert again.status_code == 200 and again.json()["archived"] is True
    assert await AuditEvent.filter(action="representative.archive").count() == 1

    current = (await client.get("/api/v1/representatives")).json()["items"]
    assert current == []
    listed = (await client.get("/api/v1/representatives?archived=true")).json()["items"]
    assert [r["id"] for r in listed] == [rep["id"]]


async def test_catch_ups_are_recorded_listed_and_counted_against_the_one_due(
    client, make_client, world, mailbox
):
    await lead_of(world, client)
    rep, ann = await own_client(client, make_client, mailbox)
    start = clock.today() - dt.timedelta(days=200)  # the first, six months in, is overdue
    contract = await create_contract(client, rep["id"], starts_on=start.isoformat())
    assert contract["catch_ups_held"] == 0 and contract["catch_up_state"] == "overdue"
    due = (await client.get("/api/v1/catch-ups")).json()
    assert [(r["contract_id"], r["full_name"], r["state"]) for r in due["items"]] == [
        (contract["id"], "Ann Able", "overdue")
    ]
    assert due["next_cursor"] is None
    url = f"/api/v1/contracts/{contract['id']}/catch-ups"

    missing = await client.api("POST", url, {"note": "Went well"})
    assert missing.status_code == 422
    assert errors_of(missing) == {"held_on": "Enter the date of the catch-up"}
    future = await client.api(
        "POST", url, {"held_on": (clock.today() + dt.timedelta(days=1)).isoformat()}
    )
    assert future.status_code == 422
    assert errors_of(future) == {"held_on": "Record a catch-up once it has taken place"}
    before_it = await client.api(
        "POST", url, {"held_on": (start - dt.timedelta(days=1)).isoformat()}
    )
    assert before_it.status_code == 422
    assert errors_of(before_it) == {"held_on": "The catch-up must fall within the contract's dates"}
    assert (await ann.api("POST", url, {"held_on": clock.today().isoformat()})).status_code == 403
    assert (await ann.get(url)).status_code == 403
    other = await other_trust_lead(world, make_client)
    assert (await other.api("POST", url, {"held_on": clock.today().isoformat()})).status_code == 404
    assert (await other.get(url)).status_code == 404
    assert await CatchUp.all().count() == 0

    recorded = await client.api(
        "POST", url, {"held_on": clock.today().isoformat(), "note": "Went well"}
    )
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["held_on"] == clock.today().isoformat()
    assert recorded.json()["note"] == "Went well"
    stored = await CatchUp.get(id=recorded.json()["id"])
    assert stored.contract_id == contract["id"] and stored.held_on == clock.today()
    assert await AuditEvent.filter(action="catch_up.record").count() == 1

    listed = (await client.get(url)).json()
    assert [c["id"] for c in listed["items"]] == [stored.id] and listed["next_cursor"] is None
    shown = (await ann.get(f"/api/v1/contracts/{contract['id']}")).json()
    assert shown["catch_ups_held"] == 1 and shown["catch_up_state"] == "not_due"
    assert (await client.get("/api/v1/catch-ups")).json()["items"] == []
    assert (await ann.get("/api/v1/catch-ups")).status_code == 403


async def test_consents_due_for_review_are_listed_for_leads(client, make_client, world, mailbox):
    await lead_of(world, client)
    rep, ann = await own_client(client, make_client, mailbox)
    later = await create_rep(client, full_name="Bob Baker")
    review_after = get_settings().consent_review_after_days
    soon = clock.today() - dt.timedelta(days=review_after - 10)
    for who, given_on in ((rep, soon), (later, clock.today())):
        given = await client.api(
            "POST",
            f"/api/v1/representatives/{who['id']}/consents",
            {"purpose": "contact", "given_on": given_on.isoformat()},
        )
        assert given.status_code == 201, given.text

    due = (await client.get("/api/v1/consents/review")).json()
    assert [(c["full_name"], c["purpose"], c["in_force"]) for c in due["items"]] == [
        ("Ann Able", "contact", True)
    ]
    assert due["items"][0]["review_on"] == (clock.today() + dt.timedelta(days=10)).isoformat()
    assert (await ann.get("/api/v1/consents/review")).status_code == 403
    elsewhere = await (await other_trust_lead(world, make_client)).get("/api/v1/consents/review")
    assert elsewhere.json()["items"] == []

    unnamed = await client.api("POST", f"/api/v1/representatives/{later['id']}/consents", {})
    assert unnamed.status_code == 422
    assert errors_of(unnamed) == {"purpose": "Select what they agree to"}


async def test_a_representative_reads_their_own_profile(client, make_client, world, mailbox):
    await lead_of(world, client)
    rep, ann = await own_client(client, make_client, mailbox)
    own = await ann.get("/api/v1/me/representative")
    assert own.status_code == 200 and own.json() == rep
    assert (await client.get("/api/v1/me/representative")).status_code == 403


async def test_staff_change_their_own_details(client, make_client, world, mailbox):
    await lead_of(world, client)
    lead = await User.get(email=LEAD)
    name = lead.full_name

    phone_only = await client.api("PATCH", "/api/v1/me", {"phone": "01632 960 123"})
    assert phone_only.status_code == 200, phone_only.text
    assert phone_only.json()["phone"] == "01632 960 123"
    assert phone_only.json()["full_name"] == name
    saved = await User.get(id=lead.id)
    assert (saved.full_name, saved.phone) == (name, "01632 960 123")
    event = await AuditEvent.filter(action="user.update").order_by("-id").first()
    assert event is not None and event.after == {"full_name": name, "phone": "01632 960 123"}

    blank = await client.api("PATCH", "/api/v1/me", {"full_name": " "})
    assert blank.status_code == 422
    assert errors_of(blank) == {"full_name": "Enter your full name"}
    bad = await client.api("PATCH", "/api/v1/me", {"full_name": "Lee Lead", "phone": "call me"})
    assert bad.status_code == 422
    assert errors_of(bad) == {
        "phone": "Enter your phone number in the correct format, like 01632 960 001 or "
        "07700 900 982",
    }
    assert (await User.get(id=lead.id)).full_name == name
    assert (await User.get(id=lead.id)).phone == "01632 960 123"
    assert (await client.get("/api/v1/me")).json()["phone"] == "01632 960 123"

    _, ann = await own_client(client, make_client, mailbox)
    refused = await ann.api("PATCH", "/api/v1/me", {"full_name": "Queen Ann"})
    assert refused.status_code == 403
    assert (await User.get(email="ann@people.example")).full_name == "Ann Able"


async def test_the_representatives_list_pages_by_cursor(client, world):
    await lead_of(world, client)
    for name in ("Cy Cole", "Ann Able", "Bob Baker"):
        await create_rep(client, full_name=name)
    first = (await client.get("/api/v1/representatives?limit=2")).json()
    assert [r["full_name"] for r in first["items"]] == ["Ann Able", "Bob Baker"]
    cursor = first["next_cursor"]
    assert cursor
    rest = await client.get("/api/v1/representatives", params={"limit": 2, "cursor": cursor})
    assert [r["full_name"] for r in rest.json()["items"]] == ["Cy Cole"]
    assert rest.json()["next_cursor"] is None

    # A search form's empty boxes filter nothing.
    blank = await client.get("/api/v1/representatives?q=&mode=&contract=&team=&limit=2")
    assert blank.status_code == 200 and blank.json()["items"] == first["items"]

    made_up = await client.get("/api/v1/representatives", params={"cursor": "abc.def"})
    too_many = await client.get("/api/v1/representatives?limit=201")
    bad_team = await client.get("/api/v1/representatives?team=0")
    for refused in (made_up, too_many, bad_team):
        assert refused.status_code == 422
    assert set(errors_of(made_up)) == {"cursor"}
    assert errors_of(too_many) == {"limit": "The limit must be 200 or fewer"}
    assert errors_of(bad_team) == {"team": "The team must be 1 or more"}
    bad_contract = await client.get("/api/v1/representatives?contract=lapsed")
    assert errors_of(bad_contract) == {"contract": "Select a contract status"}


async def test_contracts_and_consents_page_by_cursor(client, world):
    await lead_of(world, client)
    rep = await create_rep(client)
    made = [
        await create_contract(
            client, rep["id"], starts_on=f"{year}-04-01", ends_on=f"{year + 1}-03-31"
        )
        for year in (2020, 2021, 2022)
    ]
    url = f"/api/v1/representatives/{rep['id']}/contracts"
    first = (await client.get(f"{url}?limit=2")).json()
    rest = (await client.get(url, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [c["id"] for c in first["items"] + rest["items"]] == [c["id"] for c in made[::-1]]
    assert rest["next_cursor"] is None

    for purpose in ("contact", "equality", "health"):
        given = await client.api(
            "POST", f"/api/v1/representatives/{rep['id']}/consents", {"purpose": purpose}
        )
        assert given.status_code == 201
    url = f"/api/v1/representatives/{rep['id']}/consents"
    first = (await client.get(f"{url}?limit=2")).json()
    rest = (await client.get(url, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [c["purpose"] for c in first["items"] + rest["items"]] == [
        "health",
        "equality",
        "contact",
    ]
