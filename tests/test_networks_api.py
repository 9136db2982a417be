"""Networks through the API, as administrators use them: one organisation's administrator sets a
network up, invites another organisation, and that organisation's administrator accepts or
declines. Only accepted members count in the network's report, and nobody answers for an
organisation that is not theirs.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from coprod.domain.reporting import financial_year
from coprod.models import (
    AuditEvent,
    MembershipStatus,
    Network,
    NetworkMember,
    NetworkMembership,
    NetworkRole,
    Organisation,
    OutboxMessage,
    Role,
)
from coprod.services import networks as networks_service
from tests.conftest import deliver_mail, postgres_only, sign_in
from tests.involvement import last_financial_year, seed, trust

YEAR = last_financial_year()
FY = financial_year(YEAR)
NETWORKS = "/api/v1/networks"


def report_url(network_id: int) -> str:
    return f"/api/v1/reports/networks/{network_id}?year={YEAR}"


def in_year(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if FY.start <= r["day"] <= FY.end]


def errors_of(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {e["field"]: e["message"] for e in response.json()["errors"]}


async def admin_of(world: Any, make_client: Any, org: Organisation, email: str) -> Any:
    await world.user(org, email, Role.ORG_ADMIN)
    client = make_client()
    await sign_in(client, email)
    return client


async def test_an_accepted_member_counts_in_the_network_report(client, make_client, world, mailbox):
    trusts = [await trust(world, name, name.lower()) for name in ("Mine", "Theirs")]
    rows = [
        await seed(t, random.Random(i), first=FY.start, n=8, reps=5) for i, t in enumerate(trusts)
    ]
    mine, theirs = [await Organisation.get(id=t.organisation_id) for t in trusts]
    await world.user(mine, "ada.admin@mine.example", Role.ORG_ADMIN)
    await sign_in(client, "ada.admin@mine.example")

    created = await client.api("POST", NETWORKS, {"name": "  Crisis care network "})
    assert created.status_code == 201, created.text
    network = created.json()
    assert network["name"] == "Crisis care network"
    assert network["host_organisation"] == {"id": mine.id, "name": "Mine", "slug": mine.slug}
    assert network["your_organisation"] == "accepted"
    assert network["your_roles"] == ["network_admin"]
    assert await AuditEvent.exists(
        organisation_id=mine.id, action="network.create", entity_id=str(network["id"])
    )

    # The host is the first member: the report counts its figures, and only its.
    report = (await client.get(report_url(network["id"]))).json()
    assert [m["organisation"] for m in report["members"]] == ["Mine"]
    assert report["members"][0]["involvements"] == len(in_year(rows[0]))

    theirs_admin = await admin_of(world, make_client, theirs, "tom.admin@theirs.example")
    invited = await client.api(
        "POST", f"{NETWORKS}/{network['id']}/invitations", {"organisation": theirs.slug}
    )
    assert invited.status_code == 201, invited.text
    assert invited.json()["status"] == "invited"
    assert invited.json()["organisation"]["id"] == theirs.id
    assert invited.json()["responded_at"] is None
    assert await AuditEvent.exists(organisation_id=mine.id, action="network.invite")
    # The invited organisation's administrator hears of it by email, from the outbox.
    assert await deliver_mail() >= 1
    (email,) = mailbox.to("tom.admin@theirs.example")
    assert "Crisis care network" in email["Subject"]
    assert "/networks" in mailbox.text(email)

    # Invited is not a member yet: the report is unchanged.
    pending = (await client.get(report_url(network["id"]))).json()
    assert [m["organisation"] for m in pending["members"]] == ["Mine"]

    waiting = (await theirs_admin.get(f"{NETWORKS}?status=invited")).json()
    assert [(n["id"], n["your_organisation"]) for n in waiting["items"]] == [
        (network["id"], "invited")
    ]
    assert waiting["next_cursor"] is None
    accepted = await theirs_admin.api("POST", f"{NETWORKS}/{network['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    assert accepted.json()["responded_at"] is not None
    event = await AuditEvent.get(organisation_id=theirs.id, action="network.accept")
    assert event.before is not None and event.before["status"] == "invited"
    assert event.after is not None and event.after["status"] == "accepted"

    both = (await client.get(report_url(network["id"]))).json()
    assert [m["organisation"] for m in both["members"]] == ["Mine", "Theirs"]
    assert both["members"][1]["involvements"] == len(in_year(rows[1]))
    assert sum(r["involvements"] for r in both["by_category"]) == len(
        in_year(rows[0]) + in_year(rows[1])
    )

    # Answered once: a second answer is a conflict, a second invitation a field error.
    again = await theirs_admin.api("POST", f"{NETWORKS}/{network['id']}/decline")
    assert again.status_code == 409
    assert errors_of(
        await client.api(
            "POST", f"{NETWORKS}/{network['id']}/invitations", {"organisation": theirs.id}
        )
    ) == {"organisation": "This organisation is already a member"}

    # Both administrators list the network, a page at a time.
    first = (await client.get(f"{NETWORKS}?limit=1")).json()
    assert [n["name"] for n in first["items"]] == ["Crisis care network"]
    members = (await theirs_admin.get(f"{NETWORKS}/{network['id']}/members?limit=1")).json()
    assert [m["organisation"]["name"] for m in members["items"]] == ["Mine"]
    rest = await theirs_admin.get(
        f"{NETWORKS}/{network['id']}/members?limit=1&cursor={members['next_cursor']}"
    )
    assert [m["organisation"]["name"] for m in rest.json()["items"]] == ["Theirs"]
    assert rest.json()["next_cursor"] is None


async def test_declined_and_pending_organisations_do_not_count_and_nobody_answers_for_another(
    client, make_client, world
):
    trusts = {n: await trust(world, n, n.lower()) for n in ("Host", "Pending", "Declining")}
    rows = {
        n: await seed(t, random.Random(3), first=FY.start, n=4, reps=2) for n, t in trusts.items()
    }
    host, pending, declining = [
        await Organisation.get(id=t.organisation_id) for t in trusts.values()
    ]
    intruder = await world.org("Intruder")
    await world.user(host, "hana@host.example", Role.ORG_ADMIN)
    await sign_in(client, "hana@host.example")
    network_id = (await client.api("POST", NETWORKS, {"name": "Regional network"})).json()["id"]
    for org in (pending, declining):
        answer = await client.api(
            "POST", f"{NETWORKS}/{network_id}/invitations", {"organisation": org.id}
        )
        assert answer.status_code == 201, answer.text

    declining_admin = await admin_of(world, make_client, declining, "dee@declining.example")
    declined = await declining_admin.api("POST", f"{NETWORKS}/{network_id}/decline")
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert await AuditEvent.exists(organisation_id=declining.id, action="network.decline")

    # Another organisation's administrator cannot accept the pending invitation: there is no
    # invitation of theirs to find. The invited organisation's lead is not its administrator.
    intruder_admin = await admin_of(world, make_client, intruder, "ivan@intruder.example")
    for path in ("accept", "decline"):
        refused = await intruder_admin.api("POST", f"{NETWORKS}/{network_id}/{path}")
        assert refused.status_code == 404, refused.text
    assert (await intruder_admin.get(f"{NETWORKS}/{network_id}/members")).status_code == 404
    await world.user(pending, "pat.lead@pending.example", Role.INVOLVEMENT_LEAD)
    lead = make_client()
    await sign_in(lead, "pat.lead@pending.example")
    assert (await lead.api("POST", f"{NETWORKS}/{network_id}/accept")).status_code == 403
    assert (
        await NetworkMembership.get(network_id=network_id, organisation_id=pending.id)
    ).status == MembershipStatus.INVITED
    assert not await AuditEvent.exists(action="network.accept")

    report = (await client.get(report_url(network_id))).json()
    assert [m["organisation"] for m in report["members"]] == ["Host"]
    assert sum(r["involvements"] for r in report["by_category"]) == len(in_year(rows["Host"]))

    # The administrator sees every invitation; the declining organisation sees the members and
    # its own answer only.
    everyone = (await client.get(f"{NETWORKS}/{network_id}/members")).json()["items"]
    assert {m["organisation"]["name"]: m["status"] for m in everyone} == {
        "Host": "accepted",
        "Pending": "invited",
        "Declining": "declined",
    }
    # A declined organisation no longer sees the network's members, but can be invited again.
    assert (await declining_admin.get(f"{NETWORKS}/{network_id}/members")).status_code == 404
    pending_admin = await admin_of(world, make_client, pending, "pia@pending.example")
    own = (await pending_admin.get(f"{NETWORKS}/{network_id}/members")).json()["items"]
    assert {m["organisation"]["name"]: m["status"] for m in own} == {
        "Host": "accepted",
        "Pending": "invited",
    }
    again = await client.api(
        "POST", f"{NETWORKS}/{network_id}/invitations", {"organisation": declining.slug}
    )
    assert again.status_code == 201 and again.json()["status"] == "invited"
    assert again.json()["responded_at"] is None


async def test_bad_input_is_422_field_by_field_and_roles_are_checked(client, make_client, world):
    mine = await world.org("Mine")
    theirs = await world.org("Theirs")
    await world.user(mine, "ada@mine.example", Role.ORG_ADMIN)
    await sign_in(client, "ada@mine.example")

    assert errors_of(await client.api("POST", NETWORKS, {})) == {"name": "Enter the network's name"}
    assert errors_of(await client.api("POST", NETWORKS, {"name": "x" * 201, "colour": 1})) == {
        "name": "The network's name must be 200 characters or fewer",
        "colour": "Remove this field: it is not one this takes",
    }
    assert errors_of(await client.api("POST", NETWORKS, {"name": "   "})) == {
        "name": "Enter the network's name"
    }
    assert not await Network.exists()
    network_id = (await client.api("POST", NETWORKS, {"name": "Quality network"})).json()["id"]
    assert errors_of(await client.api("POST", NETWORKS, {"name": "Quality network"})) == {
        "name": "There is already a network with this name: choose another"
    }
    assert await Network.all().count() == 1

    invitations = f"{NETWORKS}/{network_id}/invitations"
    unknown = "Enter the short name (slug) or number of an organisation on Coprod"
    cases: list[tuple[Any, dict[str, str]]] = [
        ({}, {"organisation": "Enter the organisation's short name or number"}),
        ({"organisation": ""}, {"organisation": "Enter the organisation's short name or number"}),
        ({"organisation": "no-such-trust"}, {"organisation": unknown}),
        ({"organisation": 99999999999999999999}, {"organisation": unknown}),
        ({"organisation": theirs.id + 1000}, {"organisation": unknown}),
        ({"organisation": mine.id}, {"organisation": "This organisation is already a member"}),
    ]
    for body, expected in cases:
        assert errors_of(await client.api("POST", invitations, body)) == expected, body
    assert await NetworkMembership.filter(network_id=network_id).count() == 1

    # Setting up a network is for organisation administrators; inviting, for the network's
    # administrators. A reporter on the network may not invite; a stranger finds nothing.
    lead = make_client()
    await world.user(mine, "lee@mine.example", Role.INVOLVEMENT_LEAD)
    await sign_in(lead, "lee@mine.example")
    assert (await lead.api("POST", NETWORKS, {"name": "Another"})).status_code == 403
    reporter_user = await world.user(mine, "rita@mine.example", Role.REPORTER)
    await NetworkMember.create(
        user=reporter_user, network_id=network_id, role=NetworkRole.NETWORK_REPORTER
    )
    reporter = make_client()
    await sign_in(reporter, "rita@mine.example")
    assert (
        await reporter.api("POST", invitations, {"organisation": theirs.slug})
    ).status_code == 403
    stranger = await admin_of(world, make_client, theirs, "sam@theirs.example")
    assert (
        await stranger.api("POST", invitations, {"organisation": theirs.slug})
    ).status_code == 404
    assert (await stranger.get(f"{NETWORKS}/{network_id}/members")).status_code == 404
    assert await NetworkMembership.filter(network_id=network_id).count() == 1
    assert (await stranger.get(f"{NETWORKS}?status=bogus")).json()["errors"][0] == {
        "field": "status",
        "message": "Select a status",
    }


async def test_openapi_describes_the_network_operations(client):
    doc = (await client.get("/api/v1/openapi.json")).json()
    paths = doc["paths"]
    assert {"get", "post"} <= set(paths[NETWORKS])
    for path in ("/invitations", "/accept", "/decline"):
        op = paths[f"{NETWORKS}/{{id}}{path}"]["post"]
        assert op["tags"] == ["networks"]
        assert {"404", "422"} <= set(op["responses"])
    listing = paths[NETWORKS]["get"]
    assert {"limit", "cursor", "status"} <= {p["name"] for p in listing["parameters"]}
    members = paths[f"{NETWORKS}/{{id}}/members"]["get"]
    assert {"id", "limit", "cursor"} <= {p["name"] for p in members["parameters"]}


async def test_administrators_set_up_join_and_invite_on_the_pages(client, make_client, world):
    host = await world.org("Host Trust")
    guest = await world.org("Guest Trust")
    await world.user(host, "hana@host.example", Role.ORG_ADMIN)
    await sign_in(client, "hana@host.example")

    blank = await client.post_form("/networks", {"name": " "})
    assert blank.status_code == 422 and "Enter the network&#39;s name" in blank.text
    assert not await Network.exists()
    made = await client.post_form("/networks", {"name": "North network"})
    assert made.status_code == 303, made.text
    network = await Network.get(name="North network")
    assert made.headers["location"] == f"/networks/{network.id}?created=1"

    unknown = await client.post_form(f"/networks/{network.id}", {"organisation": "nobody"})
    assert unknown.status_code == 422 and "short name (slug) or number" in unknown.text
    sent = await client.post_form(f"/networks/{network.id}", {"organisation": guest.slug})
    assert sent.status_code == 303
    detail = await client.get(f"/networks/{network.id}")
    assert "Guest Trust" in detail.text and "Invited" in detail.text
    assert f'href="/join/networks/{network.id}"' in detail.text  # its public opportunities

    guest_admin = await admin_of(world, make_client, guest, "gus@guest.example")
    listing = await guest_admin.get("/networks")
    assert "North network" in listing.text and "Join North network" in listing.text
    joined = await guest_admin.post_form(
        f"/networks/{network.id}/accept", {}, token_from="/networks"
    )
    assert joined.headers["location"] == "/networks?answered=accepted"
    assert (
        await NetworkMembership.get(network=network, organisation=guest)
    ).status == MembershipStatus.ACCEPTED
    assert (
        "Your organisation has joined the network"
        in (await guest_admin.get("/networks?answered=accepted")).text
    )
    # The guest sees the members but is not the network's administrator: no invitation form,
    # and a posted one is refused.
    members = await guest_admin.get(f"/networks/{network.id}")
    assert "Host Trust" in members.text and "Invite an organisation" not in members.text
    refused = await guest_admin.post_form(f"/networks/{network.id}", {"organisation": "host-trust"})
    assert refused.status_code == 403
    # Setting up a network is for organisation administrators.
    await world.user(guest, "lee@guest.example", Role.INVOLVEMENT_LEAD)
    lead = make_client()
    await sign_in(lead, "lee@guest.example")
    assert (await lead.post_form("/networks", {"name": "Mine"})).status_code == 403
    assert await Network.all().count() == 1


@postgres_only
async def test_two_invitations_at_once_make_one(client, world):
    host = await world.org("Host Trust")
    guest = await world.org("Guest Trust")
    await world.user(host, "hana@host.example", Role.ORG_ADMIN)
    await world.user(guest, "gus@guest.example", Role.ORG_ADMIN)
    await sign_in(client, "hana@host.example")
    network_id = (await client.api("POST", NETWORKS, {"name": "North network"})).json()["id"]
    url = f"{NETWORKS}/{network_id}/invitations"
    answers = await asyncio.gather(
        *(client.api("POST", url, {"organisation": guest.slug}) for _ in range(4))
    )
    assert sorted(a.status_code for a in answers) == [201, 422, 422, 422]
    assert await NetworkMembership.filter(network_id=network_id, organisation=guest).count() == 1
    assert await OutboxMessage.filter(to_address="gus@guest.example").count() == 1


async def test_a_network_administrator_gives_and_takes_roles(client, make_client, world, mailbox):
    mine = await world.org("Mine")
    theirs = await world.org("Theirs")
    outside = await world.org("Outside")
    await world.user(mine, "ada.admin@mine.example", Role.ORG_ADMIN)
    await world.user(theirs, "rita.reporter@theirs.example", Role.REPORTER)
    await world.user(outside, "olly@outside.example", Role.REPORTER)
    await world.user(mine, "rep@people.example", Role.REPRESENTATIVE, password=None)
    await sign_in(client, "ada.admin@mine.example")
    network = (await client.api("POST", NETWORKS, {"name": "Crisis care network"})).json()
    people = f"{NETWORKS}/{network['id']}/people"
    theirs_admin = await admin_of(world, make_client, theirs, "tom.admin@theirs.example")
    await client.api("POST", f"{NETWORKS}/{network['id']}/invitations", {"organisation": "theirs"})

    # Only staff of organisations that have joined may hold a role: not a representative, not
    # another organisation's staff, not an organisation still only invited.
    for email in ("rep@people.example", "olly@outside.example", "rita.reporter@theirs.example"):
        refused = await client.api("POST", people, {"email": email, "role": "network_reporter"})
        assert errors_of(refused) == {"email": networks_service.NOT_STAFF_OF_A_MEMBER}
    assert errors_of(await client.api("POST", people, {"email": "x", "role": "boss"})) == {
        "role": "Select the role to give"
    }
    assert errors_of(await client.api("POST", people, {"email": "x", "role": "network_admin"})) == {
        "email": "Enter an email address in the correct format, like name@example.com"
    }
    await theirs_admin.api("POST", f"{NETWORKS}/{network['id']}/accept")

    given = await client.api(
        "POST", people, {"email": "Rita.Reporter@theirs.example", "role": "network_reporter"}
    )
    assert given.status_code == 201, given.text
    assert given.json()["email"] == "rita.reporter@theirs.example"
    again = await client.api(
        "POST", people, {"email": "rita.reporter@theirs.example", "role": "network_reporter"}
    )
    assert errors_of(again) == {"email": networks_service.ALREADY_HOLDS}
    assert await AuditEvent.exists(action="network.role_give", entity_id=str(given.json()["id"]))
    await deliver_mail()
    [message] = mailbox.to("rita.reporter@theirs.example")
    assert "network reporter for Crisis care network" in message["Subject"]

    # The new reporter sees the network's report from their next request, but cannot give roles.
    rita = make_client()
    await sign_in(rita, "rita.reporter@theirs.example")
    assert (await rita.get(report_url(network["id"]))).status_code == 200
    assert (await rita.get(people)).status_code == 403
    outsider = make_client()
    await sign_in(outsider, "olly@outside.example")
    assert (await outsider.get(people)).status_code == 404

    listed = (await client.get(people)).json()["items"]
    assert [(p["email"], p["role"]) for p in listed] == [
        ("ada.admin@mine.example", "network_admin"),
        ("rita.reporter@theirs.example", "network_reporter"),
    ]
    # The last administrator stays, so someone can always run the network.
    last_admin = await client.api("DELETE", f"{people}/{listed[0]['id']}")
    assert last_admin.status_code == 409
    assert networks_service.LAST_ADMINISTRATOR in last_admin.text
    taken = await client.api("DELETE", f"{people}/{listed[1]['id']}")
    assert taken.status_code == 200 and taken.json()["role"] == "network_reporter"
    assert (await rita.get(report_url(network["id"]))).status_code == 404
    assert await AuditEvent.exists(action="network.role_take", entity_id=str(listed[1]["id"]))
    assert (await client.api("DELETE", f"{people}/{listed[1]['id']}")).status_code == 404
