"""The activity feedback API keeps the page's rules: a representative gives their own once per
attended booking, a lead may record it for them, and only leads read it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from coprod.domain.scheduling import london_date
from coprod.models import ActivityFeedback, AuditEvent, Role
from coprod.services.auth import actor_for
from tests.conftest import sign_in
from tests.test_activity_feedback import attended, signed_in_as
from tests.test_bookings import LEAD_EMAIL, Scene, person

A = "/api/v1/activity-feedback"


@pytest.fixture
async def scene(world: Any) -> Scene:
    org = await world.org()
    user = await world.user(org, LEAD_EMAIL, Role.INVOLVEMENT_LEAD)
    return Scene(org, await actor_for(user, org.id))


async def test_a_representative_gives_feedback_field_by_field(scene, client):
    rep = await person(scene.lead, "Ada Lovelace")
    booking = await attended(scene.lead, rep)
    await signed_in_as(client, rep)

    wrong = await client.api(
        "POST",
        A,
        {"booking_id": booking.id, "rating": 9, "listened_to": "maybe", "access_met": ""},
    )
    assert wrong.status_code == 422
    fields = {e["field"] for e in wrong.json()["errors"]}
    assert fields == {"rating", "listened_to", "access_met"}
    assert not await ActivityFeedback.exists()

    given = await client.api(
        "POST",
        A,
        {"booking_id": booking.id, "rating": 5, "listened_to": "partly", "access_met": "no"},
    )
    assert given.status_code == 201, given.text
    body = given.json()
    assert body["rating_label"] == "Very well" and body["entered_by"] is None
    assert body["follow_up"] == ["felt only partly listened to", "access needs not met"]

    again = await client.api(
        "POST",
        A,
        {"booking_id": booking.id, "rating": 1, "listened_to": "no", "access_met": "no"},
    )
    assert again.status_code == 409
    assert await ActivityFeedback.filter(booking_id=booking.id).count() == 1
    # Only leads read the organisation's feedback.
    assert (await client.get(A)).status_code == 403


async def test_another_persons_booking_is_not_found(scene, client):
    ada = await person(scene.lead, "Ada Lovelace")
    bob = await person(scene.lead, "Bob Other")
    bobs = await attended(scene.lead, bob)
    await signed_in_as(client, ada)
    refused = await client.api(
        "POST", A, {"booking_id": bobs.id, "rating": 3, "listened_to": "yes", "access_met": "yes"}
    )
    assert refused.status_code == 404
    assert not await ActivityFeedback.exists()


async def test_a_lead_records_it_for_someone_and_reads_it(scene, client, world):
    rep = await person(scene.lead, "Ada Lovelace")
    booking = await attended(scene.lead, rep)
    await sign_in(client, LEAD_EMAIL)
    given = await client.api(
        "POST",
        A,
        {
            "booking_id": booking.id,
            "rating": 3,
            "listened_to": "yes",
            "access_met": "not_needed",
            "comments": "Told me on the phone",
        },
    )
    assert given.status_code == 201, given.text
    body = given.json()
    assert body["entered_by"] == scene.lead.user.full_name
    assert body["access_met"] is None and body["follow_up"] == []
    assert (await AuditEvent.get(action="activity_feedback.give")).on_behalf_of == "Ada Lovelace"

    listed = (await client.get(f"{A}?activity_id={booking.activity_id}")).json()
    assert [f["id"] for f in listed["items"]] == [body["id"]]
    assert listed["items"][0]["representative_name"] == "Ada Lovelace"
    # Filters take London days; the time comes back in UTC, a day behind just after midnight.
    today = london_date(dt.datetime.fromisoformat(body["submitted_at"])).isoformat()
    assert len((await client.get(f"{A}?start={today}&end={today}")).json()["items"]) == 1
    assert (await client.get(f"{A}?end=2000-01-01")).json()["items"] == []
    backwards = await client.get(f"{A}?start=2026-05-02&end=2026-05-01")
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "end"
    one = await client.get(f"{A}/{body['id']}")
    assert one.status_code == 200 and one.json()["comments"] == "Told me on the phone"

    followed = await client.api("POST", f"{A}/{body['id']}/followed-up", {})
    assert followed.status_code == 200 and followed.json()["followed_up_at"]

    # Another organisation's lead finds nothing.
    other = await world.org("Elsewhere NHS Trust")
    await world.user(other, "else@trust.example", Role.INVOLVEMENT_LEAD)
    await sign_in(client, "else@trust.example")
    assert (await client.get(f"{A}/{body['id']}")).status_code == 404
    assert (await client.get(A)).json()["items"] == []
