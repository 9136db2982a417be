"""Booking a due catch-up from the list, attended catch-ups counting as held, and rate cards."""

from __future__ import annotations

import datetime as dt
import importlib
from types import SimpleNamespace

import pytest
from tortoise import connections

from coprod import clock
from coprod.domain.scheduling import LONDON
from coprod.models import Activity, Booking, BookingStatus, Contract, Kind, RateCard, Role
from coprod.services import auth, contracts, rate_cards, representatives
from coprod.validation import ValidationFailed
from tests.conftest import sign_in


async def test_a_due_catch_up_is_booked_from_the_list_and_counts_once_attended(client, world):
    org = await world.org()
    user = await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    lead = await auth.actor_for(user, org.id)
    rep = await representatives.create(
        lead,
        {
            "full_name": "Maureen Fisher",
            "representative_type": "carer",
            "phone": "01632 960 001",
            "contact_channels": ["phone"],
            "preferred_modes": ["phone"],
        },
    )
    contract = await contracts.create(
        lead,
        rep,
        {
            "role_title": "Carer representative",
            "starts_on": (clock.today() - dt.timedelta(days=215)).isoformat(),
        },
    )
    [due] = await contracts.catch_ups_due(lead)
    assert due.state.value == "overdue"
    await sign_in(client, "lead@trust.example")
    listing = await client.get("/catch-ups")
    assert f"/contracts/{contract.id}/book-catch-up" in listing.text
    when = (dt.datetime.now(LONDON) + dt.timedelta(days=7)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    page = f"/contracts/{contract.id}/book-catch-up"
    form = await client.get(page)
    assert "Maureen Fisher likes to join by phone call." in form.text
    assert 'name="mode"' in form.text and "checked" not in form.text  # nothing is assumed
    no_mode = await client.post_form(page, {"starts_at": when.strftime("%Y-%m-%dT%H:%M")})
    assert no_mode.status_code == 422 and "Select how you will meet" in no_mode.text
    missing = await client.post_form(
        page, {"starts_at": when.strftime("%Y-%m-%dT%H:%M"), "mode": "phone"}
    )
    assert missing.status_code == 422 and "Enter the dial-in phone number" in missing.text
    assert await Activity.all().count() == 0
    booked = await client.post_form(
        page,
        {"starts_at": when.strftime("%Y-%m-%dT%H:%M"), "mode": "phone", "dial_in": "01632 960 001"},
    )
    assert booked.status_code == 303
    booking = await Booking.get().prefetch_related("activity")
    assert booking.activity.kind == Kind.CATCH_UP and booking.activity.category is None
    assert booking.activity.duration_minutes == 240 and booking.status == BookingStatus.CONFIRMED
    assert booking.starts_at == when.astimezone(dt.UTC)
    # Once it has taken place and is recorded as attended, it counts as the catch-up held,
    # and the home page's count drops with the list.
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    await Booking.filter(id=booking.id).update(starts_at=past)
    assert await contracts.catch_ups_due_count(lead) == 1
    recorded = await client.post_form(f"/bookings/{booking.id}/attendance", {"attended": "yes"})
    assert recorded.status_code == 303
    assert await contracts.catch_ups_held(contract) == 1
    assert await contracts.catch_ups_due(lead) == []
    assert await contracts.catch_ups_due_count(lead) == 0
    # Recorded as not attended after all: the catch-up is due again.
    await client.post_form(f"/bookings/{booking.id}/attendance", {"attended": "no"})
    [again] = await contracts.catch_ups_due(lead)
    assert again.state.value == "overdue" and await contracts.catch_ups_due_count(lead) == 1


async def test_new_rates_apply_from_their_date_and_never_to_the_past(world):
    org = await world.org()
    user = await world.user(org, "admin@trust.example", Role.ORG_ADMIN)
    admin = await auth.actor_for(user, org.id)
    with pytest.raises(ValidationFailed) as past:
        await rate_cards.add_rates(
            admin,
            {
                "effective_from": clock.today().isoformat(),
                "day_pence": "15000",
                "half_day_pence": "7500",
            },
        )
    assert "must start in the future" in past.value.by_field()["effective_from"]
    start = clock.today() + dt.timedelta(days=30)
    await rate_cards.add_rates(
        admin, {"effective_from": start.isoformat(), "day_pence": "15000", "half_day_pence": "7500"}
    )
    card = await rate_cards.rate_card(org.id)
    assert [(r.effective_from, r.day_pence) for r in card] == [
        (dt.date(2000, 1, 1), 14000),
        (start, 15000),
    ]
    assert await RateCard.filter(organisation_id=org.id).count() == 2
    with pytest.raises(ValidationFailed):
        await rate_cards.add_rates(
            admin, {"effective_from": start.isoformat(), "day_pence": "1", "half_day_pence": "1"}
        )


async def test_a_refused_catch_up_or_an_unfinished_plan_leaves_nothing_behind(client, world):
    from coprod.models import AuditEvent

    org = await world.org()
    user = await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    lead = await auth.actor_for(user, org.id)
    rep = await representatives.create(
        lead,
        {
            "full_name": "Sam Okafor",
            "representative_type": "carer",
            "phone": "01632 960 001",
            "contact_channels": ["phone"],
        },
    )
    contract = await contracts.create(
        lead,
        rep,
        {
            "role_title": "Carer representative",
            "starts_on": (clock.today() - dt.timedelta(days=300)).isoformat(),
            "ends_on": (clock.today() + dt.timedelta(days=3)).isoformat(),
        },
    )
    await sign_in(client, "lead@trust.example")
    beyond = (dt.datetime.now(LONDON) + dt.timedelta(days=10)).strftime("%Y-%m-%dT10:00")
    refused = await client.post_form(
        f"/contracts/{contract.id}/book-catch-up",
        {"starts_at": beyond, "mode": "phone", "dial_in": "01632 960 001"},
    )
    assert refused.status_code == 422
    assert "They do not have a contract that covers the date of this activity" in refused.text
    one_option = await client.post_form(
        "/activities/new",
        {
            "title": "Leaflet review",
            "kind": "meeting",
            "category": "co_design",
            "duration_minutes": "60",
            "capacity": "4",
            "phone": "yes",
            "dial_in": "0300 123 4567",
            "timing": "poll",
            "option_1": beyond,
        },
    )
    assert one_option.status_code == 422 and "Offer at least two times" in one_option.text
    # Neither left an activity, nor an audit entry for one that never came to be.
    assert await Activity.all().count() == 0
    assert not await AuditEvent.filter(action="activity.create").exists()


async def test_the_migration_fills_in_each_contracts_next_catch_up_as_the_services_keep_it(
    world,
):
    org = await world.org()
    user = await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    lead = await auth.actor_for(user, org.id)
    today = clock.today()
    made = []
    for name, days_ago, catch_ups in [("Ann", 215, 0), ("Bo", 400, 1), ("Cy", 30, 0)]:
        rep = await representatives.create(
            lead,
            {
                "full_name": name,
                "representative_type": "patient",
                "phone": "01632 960 002",
                "contact_channels": ["phone"],
            },
        )
        contract = await contracts.create(
            lead,
            rep,
            {
                "role_title": "Peer reviewer",
                "starts_on": (today - dt.timedelta(days=days_ago)).isoformat(),
            },
        )
        for _ in range(catch_ups):
            await contracts.record_catch_up(lead, contract, {"held_on": today.isoformat()})
        made.append(contract.id)
    kept = dict(await Contract.filter(id__in=made).values_list("id", "next_catch_up_on"))
    assert all(kept.values())
    await Contract.all().update(next_catch_up_on=None)

    migration = importlib.import_module("migrations.0017_next_catch_up")
    await migration.fill(None, SimpleNamespace(client=connections.get("default")))

    assert dict(await Contract.filter(id__in=made).values_list("id", "next_catch_up_on")) == kept
