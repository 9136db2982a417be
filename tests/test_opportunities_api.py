"""Opportunities through the JSON API: the same rules and messages as the pages, the same
people allowed, and the same public pages afterwards."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from coprod import clock
from coprod.config import get_settings
from coprod.models import AuditEvent, Role
from coprod.models.recruitment import Opportunity
from coprod.services.opportunities import CLOSING_DATE_PASSED
from tests.conftest import sign_in
from tests.openapi_doc import assert_described, operations_tagged
from tests.test_opportunities import ROLE, form_data, public, signed_in_lead
from tests.test_representatives_api import errors_of

A = "/api/v1/opportunities"


async def create(client: Any, **body: Any) -> Any:
    return await client.api("POST", A, body)


async def test_a_lead_writes_one_with_the_pages_rules_and_messages(client, world):
    await signed_in_lead(world, client)
    for body in (
        {},
        {"title": "x" * 201, "involves": "  ", "modes": []},
        ROLE | {"closes_on": (clock.today() - dt.timedelta(days=1)).isoformat()},
    ):
        refused = await create(client, **body)
        assert refused.status_code == 422
        api_errors = errors_of(refused)
        page = await client.post_form(
            "/opportunities/new",
            form_data({k: v for k, v in body.items() if k != "closes_on"})
            | ({"closes_on": body["closes_on"]} if "closes_on" in body else {}),
        )
        assert page.status_code == 422
        page_text = html.unescape(page.text)
        for message in api_errors.values():
            assert message in page_text, message
    # The declaration refuses what is missing; the service then checks the ways to take part.
    assert set(errors_of(await create(client))) == {
        "title",
        "involves",
        "time_commitment",
        "pay",
        "accessibility",
    }
    assert errors_of(await create(client, **ROLE | {"modes": []})) == {
        "modes": "Select at least one way to take part"
    }
    assert errors_of(await create(client, **ROLE | {"activity_kind": "party"})) == {
        "activity_kind": "Select the kind of activity"
    }
    assert await Opportunity.all().count() == 0

    made = await create(client, **ROLE)
    assert made.status_code == 201, made.text
    reply = made.json()
    assert reply["stage"] == "draft" and reply["interest_count"] == 0
    assert reply["modes"] == ["in_person", "video"] and reply["activity_kind"] == "interview_panel"
    org_slug = reply["url"].split("/join/")[1].split("/")[0]
    assert reply["url"] == f"{get_settings().base_url}/join/{org_slug}/opportunities/{reply['id']}"

    changed = await client.api("PATCH", f"{A}/{reply['id']}", {"pay": "£80 for half a day"})
    assert changed.status_code == 200
    assert changed.json()["pay"] == "£80 for half a day"
    assert changed.json()["title"] == ROLE["title"]  # left out: unchanged
    cleared = await client.api("PATCH", f"{A}/{reply['id']}", {"easy_read": None})
    assert cleared.json()["easy_read"] is None
    blanked = await client.api("PATCH", f"{A}/{reply['id']}", {"title": None, "modes": []})
    assert errors_of(blanked) == {
        "title": "Enter the role",
        "modes": "Select at least one way to take part",
    }
    assert (await Opportunity.get(id=reply["id"])).title == ROLE["title"]


async def test_publishing_and_withdrawing_show_on_the_public_pages(client, make_client, world):
    org = await signed_in_lead(world, client)
    made = (await create(client, **ROLE | {"closes_on": clock.today().isoformat()})).json()
    opportunity = await Opportunity.get(id=made["id"])
    anyone = make_client()
    assert (await anyone.get(public(org, opportunity))).status_code == 404

    refused = await client.api("POST", f"{A}/{made['id']}/withdraw", {})
    assert refused.status_code == 409
    published = await client.api("POST", f"{A}/{made['id']}/publish", {})
    assert published.json()["stage"] == "open" and published.json()["published_at"]
    assert (await anyone.get(public(org, opportunity))).status_code == 200

    listing = (await client.get(A)).json()
    assert [o["id"] for o in listing["items"]] == [made["id"]]

    withdrawn = await client.api("POST", f"{A}/{made['id']}/withdraw", {})
    assert withdrawn.json()["stage"] == "withdrawn"
    assert (await anyone.get(public(org, opportunity))).status_code == 404
    # A closing date in the past cannot be published.
    await Opportunity.filter(id=made["id"]).update(closes_on=clock.today() - dt.timedelta(days=1))
    again = await client.api("POST", f"{A}/{made['id']}/publish", {})
    assert again.status_code == 422
    assert errors_of(again) == {"closes_on": CLOSING_DATE_PASSED}
    actions = [e.action for e in await AuditEvent.filter(entity_type="Opportunity")]
    assert actions.count("opportunity.publish") == 1
    assert actions.count("opportunity.withdraw") == 1


async def test_other_organisations_are_not_found_and_other_staff_are_refused(
    client, make_client, world
):
    org = await signed_in_lead(world, client)
    made = (await create(client, **ROLE)).json()
    other = make_client()
    await signed_in_lead(world, other, "Southshire NHS Trust")
    assert (await other.get(f"{A}/{made['id']}")).status_code == 404
    assert (await other.api("PATCH", f"{A}/{made['id']}", {"pay": "Nothing"})).status_code == 404
    assert (await other.api("POST", f"{A}/{made['id']}/publish", {})).status_code == 404
    assert (await other.get(A)).json()["items"] == []

    finance = make_client()
    await world.user(org, "money@trust.example", Role.FINANCE_OFFICER)
    await sign_in(finance, "money@trust.example")
    assert (await finance.get(A)).status_code == 403
    assert (await finance.api("POST", A, ROLE)).status_code == 403
    assert (await finance.api("POST", f"{A}/{made['id']}/publish", {})).status_code == 403
    assert (await Opportunity.get(id=made["id"])).published_at is None

    admin = make_client()
    await world.user(org, "admin@trust.example", Role.ORG_ADMIN)
    await sign_in(admin, "admin@trust.example")
    assert (await admin.api("POST", A, ROLE | {"title": "Governor"})).status_code == 201


async def test_the_operations_are_published_under_their_tag(client, world):
    await signed_in_lead(world, client)
    doc = (await client.get("/api/v1/openapi.json")).json()
    expected = {
        ("get", A),
        ("post", A),
        ("get", f"{A}/{{id}}"),
        ("patch", f"{A}/{{id}}"),
        ("post", f"{A}/{{id}}/publish"),
        ("post", f"{A}/{{id}}/withdraw"),
    }
    assert operations_tagged(doc, "opportunities") == expected
    assert_described(doc, expected)
