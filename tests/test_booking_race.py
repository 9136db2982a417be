"""Many people after the last place at once: the activity's row lock still decides it, and a
booking onto an activity that is already full is refused without queueing for that lock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from coprod.domain.scheduling import Refusal
from coprod.models import Activity, Booking, BookingStatus, Representative, Role
from coprod.services import bookings
from coprod.services.auth import actor_for
from coprod.services.bookings import BookingRefused
from tests.conftest import BACKEND, PG_NAME, deliver_mail, postgres_only, sign_in
from tests.test_bookings import BEFORE_SPRING, LEAD_EMAIL, Scene, activity, person


@pytest.fixture
async def scene(world: Any) -> Scene:
    org = await world.org()
    user = await world.user(org, LEAD_EMAIL, Role.INVOLVEMENT_LEAD)
    return Scene(org, await actor_for(user, org.id))


@pytest.fixture
async def other_connection() -> AsyncIterator[asyncpg.Connection]:
    """A connection of its own, as another request's transaction would be."""
    assert BACKEND == "postgres"
    conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:5432/{PG_NAME}")
    yield conn
    await conn.close()


@postgres_only
async def test_sixty_bookings_at_once_through_the_api_leave_exactly_one(
    scene, client, mailbox
) -> None:
    lead = scene.lead
    panel = await activity(lead, BEFORE_SPRING, capacity=2, title="Interview panel")
    first = await person(lead, "Ada Lovelace")
    await bookings.book(lead, panel, first, "in_person")  # one place left
    people = [await person(lead, f"Person {i:02d}") for i in range(60)]
    await sign_in(client, LEAD_EMAIL)
    csrf = await client.csrf("/")

    async def book(rep: Representative) -> Any:
        return await client.http.post(
            f"/api/v1/activities/{panel.id}/bookings",
            json={"representative_id": rep.id, "mode": "in_person"},
            headers={"X-CSRF-Token": csrf},
        )

    replies = await asyncio.gather(*(book(rep) for rep in people))

    made = [r for r in replies if r.status_code == 201]
    refused = [r for r in replies if r.status_code == 409]
    assert len(made) == 1, [r.text for r in replies if r.status_code not in (201, 409)]
    assert len(refused) == 59
    for reply in refused:
        assert reply.json()["errors"] == [
            {"field": "representative_id", "message": Refusal.FULL.value}
        ]
    held = await Booking.filter(activity_id=panel.id, status=BookingStatus.CONFIRMED)
    assert {b.representative_id for b in held} == {first.id, made[0].json()["representative_id"]}
    assert await deliver_mail() == 2  # the two confirmations, and nothing for anyone refused


@postgres_only
async def test_a_full_activity_is_refused_at_once_while_its_lock_is_held(
    scene, mailbox, other_connection
) -> None:
    lead = scene.lead
    panel = await activity(lead, BEFORE_SPRING, capacity=1, title="Interview panel")
    await bookings.book(lead, panel, await person(lead, "Ada Lovelace"), "in_person")
    bob = await person(lead, "Bob Brown")

    # Another transaction holds the activity's lock, as a booking being decided would, and
    # keeps it for longer than the refusal may take.
    transaction = other_connection.transaction()
    await transaction.start()
    await other_connection.execute("SELECT 1 FROM activity WHERE id = $1 FOR UPDATE", panel.id)
    try:
        started = time.monotonic()
        with pytest.raises(BookingRefused) as refused:
            await asyncio.wait_for(bookings.book(lead, panel, bob, "in_person"), timeout=5)
        assert time.monotonic() - started < 1.0
        assert refused.value.refusals == [Refusal.FULL]
    finally:
        await transaction.rollback()


@postgres_only
async def test_while_a_place_is_being_decided_others_wait_and_get_it_if_it_is_given_up(
    scene, mailbox, other_connection
) -> None:
    lead = scene.lead
    panel = await activity(lead, BEFORE_SPRING, capacity=1, title="Interview panel")
    bob = await person(lead, "Bob Brown")

    # The lock still decides: while another transaction holds it over the last place, a
    # booking is not made and not refused; when that transaction gives up, the place is Bob's.
    transaction = other_connection.transaction()
    await transaction.start()
    await other_connection.execute("SELECT 1 FROM activity WHERE id = $1 FOR UPDATE", panel.id)
    waiting = asyncio.create_task(bookings.book(lead, panel, bob, "in_person"))
    await asyncio.sleep(0.5)
    assert not waiting.done()
    await transaction.rollback()
    booking = await asyncio.wait_for(waiting, timeout=5)
    assert booking.status == BookingStatus.CONFIRMED


@postgres_only
async def test_those_waiting_when_the_last_place_goes_are_refused_together(
    scene, mailbox, other_connection
) -> None:
    lead = scene.lead
    panel = await activity(lead, BEFORE_SPRING, capacity=1, title="Interview panel")
    ada = await person(lead, "Ada Lovelace")
    people = [await person(lead, f"Person {i:02d}") for i in range(10)]

    # Ten bookings wait while another transaction holds the lock; then Ada takes the place and
    # that transaction ends. Every waiter is refused as full, none booked.
    transaction = other_connection.transaction()
    await transaction.start()
    await other_connection.execute("SELECT 1 FROM activity WHERE id = $1 FOR UPDATE", panel.id)

    async def book(rep: Representative) -> Booking:
        return await bookings.book(
            lead, await Activity.get(id=panel.id), await Representative.get(id=rep.id), "in_person"
        )

    waiting = [asyncio.create_task(book(rep)) for rep in people]
    await asyncio.sleep(0.5)
    assert not any(task.done() for task in waiting)
    await other_connection.execute(
        "INSERT INTO booking (activity_id, representative_id, uid, mode, status, sequence, "
        "starts_at, ends_at, created_at) "
        "SELECT id, $2, 'held@test', 'in_person', 'confirmed', 0, starts_at, starts_at, "
        "now() FROM activity WHERE id = $1",
        panel.id,
        ada.id,
    )
    await transaction.commit()
    results = await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), timeout=10)
    assert all(isinstance(r, BookingRefused) and r.refusals == [Refusal.FULL] for r in results), (
        results
    )
    assert await Booking.filter(activity_id=panel.id).count() == 1
