"""Projects and respect agreements through the API, as leads and representatives use them."""

from __future__ import annotations

from typing import Any

from coprod.models import AuditEvent, Project, RespectAcknowledgement, Role
from tests.conftest import sign_in
from tests.test_activities_api import as_representative, at, book, create_activity
from tests.test_representatives_api import create_contract, create_rep, errors_of, lead_of

AGREEMENT = "We listen, we take turns, we keep personal stories confidential."


async def create_project(client: Any, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": "Crisis line redesign",
        "description": "Making the crisis line easier to reach",
        "respect_agreement": AGREEMENT,
        "respect_agreement_required": True,
        **overrides,
    }
    response = await client.api("POST", "/api/v1/projects", body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_a_lead_starts_projects_and_lists_them_by_name_a_page_at_a_time(client, world):
    await lead_of(world, client)
    crisis = await create_project(client)
    assert crisis["respect_agreement"] == AGREEMENT and crisis["respect_agreement_required"]
    stored = await Project.get(id=crisis["id"])
    assert stored.name == "Crisis line redesign" and stored.respect_agreement_required
    event = await AuditEvent.get(action="project.create")
    assert event.entity_id == str(crisis["id"])
    await create_project(client, name="Adult services", respect_agreement_required=False)
    await create_project(
        client, name="Beds review", respect_agreement=None, respect_agreement_required=False
    )

    first = (await client.get("/api/v1/projects?limit=2")).json()
    assert [p["name"] for p in first["items"]] == ["Adult services", "Beds review"]
    rest = (await client.get(f"/api/v1/projects?limit=2&cursor={first['next_cursor']}")).json()
    assert [p["name"] for p in rest["items"]] == ["Crisis line redesign"]
    assert rest["next_cursor"] is None

    one = await client.get(f"/api/v1/projects/{crisis['id']}")
    assert one.status_code == 200 and one.json() == crisis


async def test_bad_projects_are_refused_field_by_field_and_nothing_is_saved(client, world):
    await lead_of(world, client)
    empty = await client.api("POST", "/api/v1/projects", {"respect_agreement_required": "maybe"})
    assert empty.status_code == 422
    assert errors_of(empty) == {
        "name": "Enter the project's name",
        "respect_agreement_required": "The respect agreement required must be true or false",
    }
    # The service's own rule, as the page says it.
    no_agreement = await client.api(
        "POST", "/api/v1/projects", {"name": "Beds", "respect_agreement_required": True}
    )
    assert no_agreement.status_code == 422
    assert errors_of(no_agreement) == {
        "respect_agreement": "Enter the respect agreement, or do not require one"
    }
    too_long = await client.api("POST", "/api/v1/projects", {"name": "x" * 201})
    assert errors_of(too_long) == {"name": "The project's name must be 200 characters or fewer"}
    assert await Project.all().count() == 0
    await create_project(client)
    twice = await client.api("POST", "/api/v1/projects", {"name": "Crisis line redesign"})
    assert twice.status_code == 422
    assert errors_of(twice) == {"name": "There is already a project with this name"}
    assert await Project.all().count() == 1


async def test_a_representative_reads_the_agreement_and_agrees_with_their_own_session(
    client, make_client, world
):
    await lead_of(world, client)
    project = await create_project(client)
    ann = await create_rep(
        client, full_name="Ann Able", email="ann@people.example", contact_channels=["email"]
    )
    await create_contract(client, ann["id"], starts_on=at(0)[:10])
    activity = await create_activity(client, starts_at=at(10), project_id=project["id"])
    # Booking waits for the agreement.
    refused = await book(client, activity["id"], ann["id"])
    assert refused.status_code == 409, refused.text

    ann_client = await as_representative(make_client, "ann@people.example")
    shown = await ann_client.get(f"/api/v1/projects/{project['id']}")
    assert shown.status_code == 200 and shown.json()["respect_agreement"] == AGREEMENT
    assert (await ann_client.get(f"/api/v1/projects/{project['id']}/acknowledgements")).json() == {
        "items": [],
        "next_cursor": None,
    }

    agreed = await ann_client.api("POST", f"/api/v1/projects/{project['id']}/acknowledgements", {})
    assert agreed.status_code == 200, agreed.text
    assert agreed.json()["representative_id"] == ann["id"]
    assert agreed.json()["full_name"] == "Ann Able" and agreed.json()["user_id"] is None
    event = await AuditEvent.get(action="respect_agreement.acknowledge")
    assert event.on_behalf_of is None  # she agreed herself
    assert event.after == {"representative_id": ann["id"]}
    again = await ann_client.api("POST", f"/api/v1/projects/{project['id']}/acknowledgements", {})
    assert again.status_code == 200 and again.json()["id"] == agreed.json()["id"]
    assert await AuditEvent.filter(action="respect_agreement.acknowledge").count() == 1

    assert (await book(client, activity["id"], ann["id"])).status_code == 201


async def test_a_lead_records_agreement_for_someone_and_for_themselves(client, world):
    await lead_of(world, client)
    project = await create_project(client)
    bob = await create_rep(client, full_name="Bob Baker")
    url = f"/api/v1/projects/{project['id']}/acknowledgements"

    for_bob = await client.api("POST", url, {"representative_id": bob["id"]})
    assert for_bob.status_code == 200, for_bob.text
    event = await AuditEvent.get(action="respect_agreement.acknowledge")
    assert event.on_behalf_of == "Bob Baker"
    mine = await client.api("POST", url, {})
    assert mine.status_code == 200
    assert mine.json()["representative_id"] is None and mine.json()["user_id"] is not None

    listed = (await client.get(url)).json()
    assert [a["full_name"] for a in listed["items"]] == ["Bob Baker", mine.json()["full_name"]]

    nobody = await client.api("POST", url, {"representative_id": "Bob"})
    assert nobody.status_code == 422
    assert errors_of(nobody) == {"representative_id": "The person agreeing must be a whole number"}
    assert await RespectAcknowledgement.all().count() == 2


async def test_projects_of_another_organisation_and_other_people_are_not_found(
    client, make_client, world
):
    org = await lead_of(world, client)
    project = await create_project(client)
    await create_rep(
        client, full_name="Ann Able", email="ann@people.example", contact_channels=["email"]
    )
    bob = await create_rep(client, full_name="Bob Baker")
    url = f"/api/v1/projects/{project['id']}/acknowledgements"
    await client.api("POST", url, {"representative_id": bob["id"]})

    other = make_client()
    await lead_of(world, other, "Southshire NHS Trust")
    assert (await other.get(f"/api/v1/projects/{project['id']}")).status_code == 404
    assert (await other.get(url)).status_code == 404
    assert (await other.api("POST", url, {})).status_code == 404
    assert (await other.get("/api/v1/projects")).json()["items"] == []
    theirs = await create_project(other)
    ours_for_theirs = await client.api(
        "POST", f"/api/v1/projects/{theirs['id']}/acknowledgements", {"representative_id": 1}
    )
    assert ours_for_theirs.status_code == 404

    # A representative sees only their own agreement and cannot agree for someone else.
    ann_client = await as_representative(make_client, "ann@people.example")
    assert (await ann_client.get(url)).json()["items"] == []
    for_bob = await ann_client.api("POST", url, {"representative_id": bob["id"]})
    assert for_bob.status_code == 404
    assert (await ann_client.get("/api/v1/projects")).status_code == 403
    made = await ann_client.api("POST", "/api/v1/projects", {"name": "Mine"})
    assert made.status_code == 403

    await world.user(org, "reporter@trust.example", Role.REPORTER)
    reporter = make_client()
    await sign_in(reporter, "reporter@trust.example")
    assert (await reporter.get(f"/api/v1/projects/{project['id']}")).status_code == 403
    assert (await reporter.api("POST", url, {})).status_code == 403
    assert await RespectAcknowledgement.all().count() == 1
    assert await Project.filter(name="Mine").count() == 0


async def test_the_service_itself_refuses_agreement_across_organisations_or_for_others(
    client, make_client, world
):
    # The rule lives in the service, so no handler can forget it.
    import pytest

    from coprod.errors import NotFound
    from coprod.models import Representative, User
    from coprod.services import auth, projects

    org = await lead_of(world, client)
    project = await Project.get(id=(await create_project(client))["id"])
    await create_rep(
        client, full_name="Ann Able", email="ann@people.example", contact_channels=["email"]
    )
    bob = await Representative.get(id=(await create_rep(client, full_name="Bob Baker"))["id"])
    ann_user = await User.get(email="ann@people.example")
    ann = await auth.actor_for(ann_user, org.id)
    with pytest.raises(NotFound):
        await projects.acknowledge(ann, project, bob)
    other = make_client()
    southshire = await lead_of(world, other, "Southshire NHS Trust")
    their_email = f"lead@{southshire.slug}.example"
    their_lead = await auth.actor_for(await User.get(email=their_email), southshire.id)
    with pytest.raises(NotFound):
        await projects.acknowledge(their_lead, project, None)
    assert await RespectAcknowledgement.all().count() == 0
