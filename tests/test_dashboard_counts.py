"""The lead's dashboard counts in the database; each number must equal the length of the list
on the page it links to, whatever mix of people the organisation has."""

from __future__ import annotations

import datetime as dt
from typing import Any

from coprod import clock
from coprod.models import AccessArrangement, Consent, ConsentPurpose, Representative, Role
from coprod.services import arrangements, contracts, reminders, wellbeing
from coprod.services.actor import Actor
from tests import scenes
from tests.conftest import sign_in


async def _vary(scene: scenes.Scene) -> None:
    """Bend a scene's uniform people into the cases each rule tells apart."""
    today = clock.today()
    reps = list(await Representative.filter(organisation_id=scene.organisation_id).order_by("id"))
    for i, rep in enumerate(reps[1:], start=1):
        if i % 5 == 0:
            rep.email = None
        elif i % 7 == 0:
            rep.email = ""
        await rep.save(update_fields=["email"])
    contact = list(
        await Consent.filter(
            representative__organisation_id=scene.organisation_id,
            purpose=ConsentPurpose.CONTACT,
        ).order_by("id")
    )
    for i, consent in enumerate(contact):
        if i % 4 == 1:  # withdrawn today: not in force from today
            consent.withdrawn_on = today
        elif i % 4 == 2:  # past its review day
            consent.review_on = today - dt.timedelta(days=3)
        elif i % 4 == 3:  # given only from tomorrow
            consent.given_on = today + dt.timedelta(days=1)
        await consent.save(update_fields=["withdrawn_on", "review_on", "given_on"])
    arrangements = list(
        await AccessArrangement.filter(
            booking__activity__organisation_id=scene.organisation_id, done_at__isnull=True
        ).order_by("id")
    )
    for i, arrangement in enumerate(arrangements):
        if i % 3 == 0:  # should have been done by yesterday
            arrangement.due_on = today - dt.timedelta(days=1)
        elif i % 3 == 1:  # due today: not yet overdue
            arrangement.due_on = today
        await arrangement.save(update_fields=["due_on"])


async def test_each_dashboard_count_equals_its_list(client: Any, world: Any) -> None:
    scene = await scenes.build(24, world=world)
    await _vary(scene)
    await sign_in(client, scene.staff_email)
    lead = Actor(
        user=scene.staff,
        organisation_id=scene.organisation_id,
        roles=frozenset({Role.INVOLVEMENT_LEAD}),
    )
    pairs = {
        "catch-ups": (
            await contracts.catch_ups_due_count(lead),
            len(await contracts.catch_ups_due(lead)),
        ),
        "consents": (
            await wellbeing.consents_due_for_review_count(lead),
            len(await wellbeing.consents_due_for_review(lead)),
        ),
        "arrangements": (
            await arrangements.overdue_count(lead),
            len(await arrangements.overdue(lead)),
        ),
        "calls": (await reminders.call_count(lead), len(await reminders.call_list(lead))),
    }
    print(pairs)
    for name, (counted, listed) in pairs.items():
        assert counted == listed, name
        assert counted > 0, f"the scene has no {name} to count"
    page = (await client.get("/")).text
    assert f"{pairs['catch-ups'][0]} catch-ups overdue or due soon" in page
    assert f"{pairs['consents'][0]} consents to review" in page
    assert f"{pairs['arrangements'][0]} access arrangements overdue" in page
    assert f"{pairs['calls'][0]} calls to make" in page
