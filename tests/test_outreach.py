"""Outreach through the pages: logging, correcting and removing it, the list's totals and the
interest each brought in, who may do it, and the date that cannot be in the future."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from coprod import clock
from coprod.models import AuditEvent, Interest, Outreach, Role, Team
from tests import recruitment_rows
from tests.conftest import sign_in

LEAD = "lead@trust.example"


async def signed_in_lead(world: Any, client: Any, name: str = "Northshire NHS Trust") -> Any:
    org = await world.org(name)
    email = LEAD if name == "Northshire NHS Trust" else f"lead@{org.slug}.example"
    await world.user(org, email, Role.INVOLVEMENT_LEAD)
    await sign_in(client, email)
    return org


def date_parts(day: dt.date) -> dict[str, str]:
    return {
        "held_on[day]": str(day.day),
        "held_on[month]": str(day.month),
        "held_on[year]": str(day.year),
    }


def good_form(**changes: str) -> dict[str, str]:
    yesterday = clock.today() - dt.timedelta(days=1)
    return {
        "kind": "faith_group",
        **date_parts(yesterday),
        "place": "St Mary's church hall, Northshire",
        "people_reached": "40",
        **changes,
    }


async def log(client: Any, **changes: str) -> Outreach:
    response = await client.post_form("/outreach/new", good_form(**changes))
    assert response.status_code == 303, response.text
    return await Outreach.get(id=int(response.headers["location"].split("/")[-1].split("?")[0]))


async def test_a_lead_logs_outreach_and_sees_it_with_its_totals(client, world):
    org = await signed_in_lead(world, client)
    team = await Team.create(organisation_id=org.id, name="Young people's service")
    made = await log(client, team_id=str(team.id), note="Ask again in spring")
    assert made.kind.value == "faith_group" and made.people_reached == 40
    assert made.team_id == team.id and made.note == "Ask again in spring"
    assert made.held_on == clock.today() - dt.timedelta(days=1)
    event = await AuditEvent.get(action="outreach.create")
    assert event.after and event.after["place"] == "St Mary's church hall, Northshire"

    await log(client, kind="youth_group", place="Northshire College", people_reached="25")
    listing = await client.get("/outreach")
    text = html.unescape(listing.text)
    assert listing.status_code == 200
    assert "Northshire College" in text and "St Mary's church hall" in text
    assert ">65<" in listing.text.replace(" ", "").replace("\n", "")  # people reached in all
    only_youth = html.unescape((await client.get("/outreach?kind=youth_group")).text)
    assert "Northshire College" in only_youth and "St Mary's" not in only_youth
    assert "None" not in only_youth
    wrong = await client.get("/outreach?start=2026-13-01&kind=picnic")
    assert wrong.status_code == 422
    assert "The start date must be a real date" in html.unescape(wrong.text)


async def test_the_list_counts_the_interest_each_outreach_brought_in(client, world):
    org = await signed_in_lead(world, client)
    church = await log(client)
    college = await log(client, kind="school_college", place="Northshire College")
    for name in ("Ann", "Bea", "Cal"):
        await recruitment_rows.interest(org.id, name, outreach_id=church.id)
    await recruitment_rows.interest(org.id, "Dee", outreach_id=college.id)
    # Held as spam: not someone who heard about us.
    await recruitment_rows.interest(org.id, "Spam", outreach_id=college.id, held_as_spam=True)
    listing = (await client.get("/outreach")).text
    cells = [
        line.rsplit("</span>", 1)[-1].split("<")[0]
        for line in listing.splitlines()
        if "Interest linked </span>" in line
    ]
    assert cells == ["1", "3"]  # newest first: the college, then the church
    detail = html.unescape((await client.get(f"/outreach/{church.id}")).text)
    assert "3 people said they heard about us through this" in detail


async def test_a_lead_corrects_and_removes_outreach(client, world):
    org = await signed_in_lead(world, client)
    made = await log(client)
    heard = await recruitment_rows.interest(org.id, "Ann", outreach_id=made.id)
    changed = await client.post_form(
        f"/outreach/{made.id}", good_form(place="St Mary's, Lower Road", people_reached="55")
    )
    assert changed.status_code == 303
    made = await Outreach.get(id=made.id)
    assert made.place == "St Mary's, Lower Road" and made.people_reached == 55
    assert (await AuditEvent.get(action="outreach.update")).before["people_reached"] == 40
    removed = await client.post_form(f"/outreach/{made.id}", {"do": "delete"})
    assert removed.status_code == 303 and removed.headers["location"] == "/outreach?deleted=1"
    assert not await Outreach.exists(id=made.id)
    assert (await Interest.get(id=heard.id)).outreach_id is None  # the interest is kept
    assert await AuditEvent.exists(action="outreach.delete")


async def test_each_field_is_checked_and_nothing_is_saved(client, world):
    await signed_in_lead(world, client)
    empty = await client.post_form("/outreach/new", {})
    assert empty.status_code == 422
    text = html.unescape(empty.text)
    for message in (
        "Select the kind of outreach",
        "Enter the date",
        "Enter where it was",
        "Enter the number of people reached",
    ):
        assert message in text
    tomorrow = clock.today() + dt.timedelta(days=1)
    future = await client.post_form("/outreach/new", good_form(**date_parts(tomorrow)))
    assert future.status_code == 422
    assert "The date must be today or in the past" in html.unescape(future.text)
    words = await client.post_form("/outreach/new", good_form(people_reached="forty"))
    assert "The number of people reached must be a whole number" in html.unescape(words.text)
    negative = await client.post_form("/outreach/new", good_form(people_reached="-1"))
    assert "The number of people reached must be 0 or more" in html.unescape(negative.text)
    assert await Outreach.all().count() == 0


async def test_another_organisations_outreach_is_not_found_and_other_staff_are_refused(
    client, make_client, world
):
    org = await signed_in_lead(world, client)
    made = await log(client)
    other = make_client()
    await signed_in_lead(world, other, "Southshire NHS Trust")
    assert (await other.get(f"/outreach/{made.id}")).status_code == 404
    refused = await other.post_form(
        f"/outreach/{made.id}", {"do": "delete"}, token_from="/outreach"
    )
    assert refused.status_code == 404 and await Outreach.exists(id=made.id)

    reporter = make_client()
    await world.user(org, "reporter@trust.example", Role.REPORTER)
    await sign_in(reporter, "reporter@trust.example")
    for url in ("/outreach", "/outreach/new", f"/outreach/{made.id}"):
        assert (await reporter.get(url)).status_code == 403, url
    assert (
        await reporter.post_form("/outreach/new", good_form(), token_from="/")
    ).status_code == 403
    assert await Outreach.all().count() == 1


async def test_a_team_of_another_organisation_is_refused(client, world):
    await signed_in_lead(world, client)
    elsewhere = await world.org("Southshire NHS Trust")
    theirs = await Team.create(organisation_id=elsewhere.id, name="Their team")
    refused = await client.post_form("/outreach/new", good_form(team_id=str(theirs.id)))
    assert refused.status_code == 422
    assert "Select a team in your organisation, or no team" in html.unescape(refused.text)
