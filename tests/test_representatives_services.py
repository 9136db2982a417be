"""Representatives and contracts through the real services: expiry reminders sent exactly once
over real SMTP, catch-ups, overlapping contracts created at once, archiving and search."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import sys
from typing import Any

import pytest

from coprod import clock, worker
from coprod.domain.contracts import CatchUpState, ContractStatus
from coprod.domain.dates import add_months
from coprod.errors import Forbidden
from coprod.models import Contract, Organisation, OutboxMessage, Representative, Role, User
from coprod.services import contracts, people, representatives
from coprod.services.actor import Actor
from coprod.services.auth import actor_for
from coprod.services.representatives import Filters
from coprod.templating import long_date
from coprod.validation import ValidationFailed
from tests.conftest import agree_to_contact, deliver_mail, postgres_only

# A fixed "now" for the reminder job, well away from today, to show the job goes by its argument.
NOW = dt.datetime(2031, 3, 3, 6, 45, tzinfo=dt.UTC)
LEAD_EMAIL = "lena.lead@trust.example"


async def lead_actor(world: Any, org: Any = None, email: str = LEAD_EMAIL) -> Actor:
    org = org or await world.org()
    user = await world.user(org, email, Role.INVOLVEMENT_LEAD)
    return await actor_for(user, org.id)


async def _org_of(actor: Actor) -> Organisation:
    return await Organisation.get(id=actor.organisation_id)


def profile(full_name: str, **changes: Any) -> dict[str, Any]:
    """The form a lead fills in for a new representative: by default someone on email."""
    slug = full_name.lower().replace(" ", ".")
    data: dict[str, Any] = {
        "full_name": full_name,
        "representative_type": "patient",
        "email": f"{slug}@people.example",
        "contact_channels": ["email"],
        "payment_preference": "paid",
    }
    data.update(changes)
    return data


async def consenting(lead: Actor, data: dict[str, Any]) -> Representative:
    rep = await representatives.create(lead, data)
    await agree_to_contact(lead, rep)
    return rep


def phone_only(full_name: str, **changes: Any) -> dict[str, Any]:
    return profile(
        full_name, email="", phone="01632 960 001", contact_channels=["phone"], **changes
    )


async def contract_for(lead: Actor, rep: Representative, starts: dt.date, ends: dt.date | None):
    data = {"role_title": "Patient representative", "starts_on": starts.isoformat()}
    if ends is not None:
        data["ends_on"] = ends.isoformat()
    return await contracts.create(lead, rep, data)


# --------------------------------------------------------------------------- expiry reminders


async def test_expiry_reminders_go_once_to_the_lead_and_the_person_at_90_then_30_days(
    world, mailbox
):
    lead = await lead_actor(world)
    # A second lead in the organisation: the named lead is the one reminded, not everyone.
    await world.user(await _org_of(lead), "other.lead@trust.example", Role.INVOLVEMENT_LEAD)
    rep = await consenting(lead, profile("Ada Lovelace", lead_id=str(lead.user.id)))
    ends_on = NOW.date() + dt.timedelta(days=90)
    await contract_for(lead, rep, NOW.date() - dt.timedelta(days=400), ends_on)

    # Twice in a row, then twice at once: only the first insert of each reminder wins.
    assert await contracts.send_expiry_reminders(NOW) == 2
    assert await contracts.send_expiry_reminders(NOW) == 0
    assert await asyncio.gather(*(contracts.send_expiry_reminders(NOW) for _ in range(2))) == [
        0,
        0,
    ]
    # The next day is still the 90-day reminder's window: nothing new.
    assert await contracts.send_expiry_reminders(NOW + dt.timedelta(days=1)) == 0
    assert await deliver_mail() == 2

    assert len(mailbox.messages) == 2
    [to_lead] = mailbox.to(LEAD_EMAIL)
    [to_rep] = mailbox.to("ada.lovelace@people.example")
    assert to_lead["Subject"] == "Ada Lovelace's contract ends in 90 days"
    assert to_rep["Subject"] == f"Your involvement contract ends on {long_date(ends_on)}"
    lead_text = mailbox.text(to_lead)
    assert "Hello Lena.Lead," in lead_text
    assert f"ends on {long_date(ends_on)}" in lead_text
    assert f"http://testserver/representatives/{rep.id}" in lead_text
    assert "We have written to them too." in lead_text
    assert "phone them" not in lead_text
    assert "Hello Ada Lovelace," in mailbox.text(to_rep)
    assert mailbox.to("other.lead@trust.example") == []

    # 30 days before the end: one more each, however often the job runs.
    mailbox.messages.clear()
    at_30 = NOW + dt.timedelta(days=60)
    assert await contracts.send_expiry_reminders(at_30) == 2
    await asyncio.gather(*(contracts.send_expiry_reminders(at_30) for _ in range(3)))
    assert await deliver_mail() == 2
    [to_lead] = mailbox.to(LEAD_EMAIL)
    [to_rep] = mailbox.to("ada.lovelace@people.example")
    assert to_lead["Subject"] == "Ada Lovelace's contract ends in 30 days"
    assert to_rep["Subject"] == f"Your involvement contract ends on {long_date(ends_on)}"

    # Running again, later, or on the last day sends nothing more; after the end, nothing.
    mailbox.messages.clear()
    for later in (at_30, at_30 + dt.timedelta(days=5), NOW + dt.timedelta(days=90)):
        assert await contracts.send_expiry_reminders(later) == 0
    assert await contracts.send_expiry_reminders(NOW + dt.timedelta(days=91)) == 0
    assert await deliver_mail() == 0
    assert mailbox.messages == []
    keys = sorted(await OutboxMessage.all().values_list("dedupe_key", flat=True))
    assert len(keys) == 4 and len(set(keys)) == 4


async def test_a_phone_only_person_gets_no_email_and_the_lead_is_asked_to_phone(world, mailbox):
    lead = await lead_actor(world)
    rep = await consenting(lead, phone_only("Bob Byte", lead_id=str(lead.user.id)))
    assert rep.email is None and rep.user_id is None
    await contract_for(
        lead, rep, NOW.date() - dt.timedelta(days=30), NOW.date() + dt.timedelta(days=90)
    )

    assert await contracts.send_expiry_reminders(NOW) == 1
    assert await deliver_mail() == 1
    [message] = mailbox.messages
    assert message["To"] == LEAD_EMAIL
    assert message["Subject"] == "Bob Byte's contract ends in 90 days"
    text = mailbox.text(message)
    assert "We have not written to them: Bob Byte asked to be phoned. Please phone them" in text
    assert "We have written to them too." not in text


async def test_without_a_named_lead_every_lead_in_the_organisation_is_reminded(world, mailbox):
    lead = await lead_actor(world)
    await world.user(await _org_of(lead), "other.lead@trust.example", Role.INVOLVEMENT_LEAD)
    rep = await consenting(lead, profile("Cy Nolead"))
    assert rep.lead_id is None
    await contract_for(
        lead, rep, NOW.date() - dt.timedelta(days=30), NOW.date() + dt.timedelta(days=30)
    )
    assert await contracts.send_expiry_reminders(NOW) == 3
    assert await deliver_mail() == 3
    assert sorted(m["To"] for m in mailbox.messages) == [
        "cy.nolead@people.example",
        LEAD_EMAIL,
        "other.lead@trust.example",
    ]
    assert {m["Subject"] for m in mailbox.to(LEAD_EMAIL)} == {
        "Cy Nolead's contract ends in 30 days"
    }


async def test_no_reminders_for_archived_ended_early_or_distant_contracts(world, mailbox):
    lead = await lead_actor(world)
    start = NOW.date() - dt.timedelta(days=30)
    archived = await consenting(lead, profile("Archie Ved"))
    await contract_for(lead, archived, start, NOW.date() + dt.timedelta(days=90))
    await representatives.archive(lead, archived)
    ended = await consenting(lead, profile("Enid Early"))
    contract = await contract_for(lead, ended, start, NOW.date() + dt.timedelta(days=90))
    await contracts.end_early(
        lead, contract, {"ended_on": NOW.date().isoformat(), "reason": "Moved away"}
    )
    distant = await consenting(lead, profile("Dee Stant"))
    await contract_for(lead, distant, start, NOW.date() + dt.timedelta(days=91))

    assert await contracts.send_expiry_reminders(NOW) == 0
    assert await deliver_mail() == 0
    assert mailbox.messages == []


async def test_no_reminder_for_a_contract_that_has_been_renewed(world, mailbox):
    lead = await lead_actor(world)
    renewed = await consenting(lead, profile("Rene Wed", lead_id=str(lead.user.id)))
    first = await contract_for(
        lead, renewed, NOW.date() - dt.timedelta(days=400), NOW.date() + dt.timedelta(days=90)
    )
    await contracts.renew(lead, first, {})
    # A follow-on contract that was then cancelled before it began does not count.
    cancelled = await consenting(lead, profile("Cass Celled"))
    second = await contract_for(
        lead, cancelled, NOW.date() - dt.timedelta(days=400), NOW.date() + dt.timedelta(days=90)
    )
    follow_on = await contracts.renew(lead, second, {})
    await contracts.end_early(
        lead,
        follow_on,
        {"ended_on": (follow_on.starts_on - dt.timedelta(days=1)).isoformat(), "reason": "No"},
    )

    assert await contracts.send_expiry_reminders(NOW) == 2
    assert await deliver_mail() == 2
    assert sorted(m["To"] for m in mailbox.messages) == ["cass.celled@people.example", LEAD_EMAIL]
    assert [m["Subject"] for m in mailbox.to(LEAD_EMAIL)] == [
        "Cass Celled's contract ends in 90 days"
    ]


async def test_a_very_long_address_does_not_stop_the_reminders(world, mailbox):
    lead = await lead_actor(world)
    long_address = "a" * 60 + "@" + "very-long-subdomain." * 6 + "nhs.example"
    assert len(long_address) > 180
    long_rep = await consenting(lead, profile("Al Long", email=long_address))
    other = await consenting(lead, profile("Bea Short"))
    for rep in (long_rep, other):
        await contract_for(
            lead, rep, NOW.date() - dt.timedelta(days=10), NOW.date() + dt.timedelta(days=30)
        )
    assert await contracts.send_expiry_reminders(NOW) == 4
    assert await contracts.send_expiry_reminders(NOW) == 0
    assert await deliver_mail() == 4
    assert len(mailbox.to(long_address)) == 1
    assert len(mailbox.to("bea.short@people.example")) == 1
    assert len(mailbox.to(LEAD_EMAIL)) == 2


async def test_the_reminder_job_is_registered_with_the_worker(world, mailbox):
    assert contracts.send_expiry_reminders in worker.PERIODIC_JOBS
    lead = await lead_actor(world)
    rep = await consenting(lead, profile("Ada Lovelace", lead_id=str(lead.user.id)))
    await contract_for(
        lead, rep, NOW.date() - dt.timedelta(days=400), NOW.date() + dt.timedelta(days=90)
    )
    await worker.run_periodic_jobs(NOW)
    await worker.run_periodic_jobs(NOW)
    assert await deliver_mail() == 2
    assert sorted(m["To"] for m in mailbox.messages) == [
        "ada.lovelace@people.example",
        LEAD_EMAIL,
    ]


@postgres_only
async def test_reminder_job_run_concurrently_on_the_pool_queues_each_reminder_once(world, mailbox):
    lead = await lead_actor(world)
    reps = []
    for i in range(15):
        rep = await consenting(lead, profile(f"Person {i:02d}", lead_id=str(lead.user.id)))
        await contract_for(
            lead, rep, NOW.date() - dt.timedelta(days=10), NOW.date() + dt.timedelta(days=90)
        )
        reps.append(rep)

    queued = await asyncio.gather(*(contracts.send_expiry_reminders(NOW) for _ in range(6)))
    assert sum(queued) == 30, queued
    assert await OutboxMessage.all().count() == 30
    for rep in reps:
        contract = await Contract.get(representative=rep)
        for who, address in ((f"lead:{lead.user.id}", LEAD_EMAIL), ("representative", rep.email)):
            key = f"contract:{contract.id}:expiry:90:{who}"
            assert await OutboxMessage.filter(dedupe_key=key, to_address=address).count() == 1, key
    assert await deliver_mail() == 30
    assert len(mailbox.to(LEAD_EMAIL)) == 15
    assert all(len(mailbox.to(rep.email)) == 1 for rep in reps)


@postgres_only
async def test_two_worker_processes_send_each_reminder_once(world, mailbox):
    # `worker --once` runs the periodic jobs for the real now, then delivers.
    today = clock.today()
    lead = await lead_actor(world)
    reps = []
    for i in range(20):
        rep = await consenting(lead, profile(f"Worker Person {i:02d}", lead_id=str(lead.user.id)))
        await contract_for(lead, rep, today - dt.timedelta(days=10), today + dt.timedelta(days=30))
        reps.append(rep)
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "coprod",
            "worker",
            "--once",
            env=dict(os.environ),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        for _ in range(2)
    ]
    outputs = [(await asyncio.wait_for(p.communicate(), timeout=120))[0].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    sent = [int(re.search(r"Delivered (\d+) message", out).group(1)) for out in outputs]
    # Whichever worker queued them, every reminder went once: 20 to the lead, 1 to each person.
    assert await deliver_mail() + sum(sent) == 40, outputs
    assert await OutboxMessage.all().count() == 40
    assert len(mailbox.messages) == 40
    assert len(mailbox.to(LEAD_EMAIL)) == 20
    assert all(len(mailbox.to(rep.email)) == 1 for rep in reps)
    assert len({m["Message-ID"] for m in mailbox.messages}) == 40


# --------------------------------------------------------------------------- catch-ups


async def test_catch_ups_overdue_due_soon_recorded_and_archived(world):
    lead = await lead_actor(world)
    today = clock.today()

    overdue_rep = await representatives.create(lead, profile("Olive Overdue"))
    overdue_start = add_months(today, -7)
    overdue = await contract_for(lead, overdue_rep, overdue_start, None)

    soon_rep = await representatives.create(lead, profile("Sam Soon"))
    soon_start = add_months(today, -5) - dt.timedelta(days=5)
    await contract_for(lead, soon_rep, soon_start, None)

    recent_rep = await representatives.create(lead, profile("Ray Recent"))
    await contract_for(lead, recent_rep, today - dt.timedelta(days=20), None)

    gone_rep = await representatives.create(lead, profile("Gina Gone"))
    await contract_for(lead, gone_rep, add_months(today, -8), None)
    await representatives.archive(lead, gone_rep)

    due = await contracts.catch_ups_due(lead)
    assert [(d.representative.full_name, d.state) for d in due] == [
        ("Olive Overdue", CatchUpState.OVERDUE),
        ("Sam Soon", CatchUpState.DUE_SOON),
    ]
    assert due[0].due == add_months(overdue_start, 6)
    assert due[1].due == add_months(soon_start, 6)
    assert 0 <= (due[1].due - today).days <= 30

    # A catch-up outside the contract's dates is refused, and does not count.
    for outside in (overdue_start - dt.timedelta(days=1), overdue.ends_on + dt.timedelta(days=1)):
        with pytest.raises(ValidationFailed) as refused:
            await contracts.record_catch_up(
                lead, overdue, {"held_on": outside.isoformat(), "note": "Half day"}
            )
        assert "held_on" in refused.value.by_field()
    assert [d.representative.full_name for d in await contracts.catch_ups_due(lead)] == [
        "Olive Overdue",
        "Sam Soon",
    ]

    await contracts.record_catch_up(
        lead, overdue, {"held_on": (today - dt.timedelta(days=3)).isoformat(), "note": "Went well"}
    )
    due = await contracts.catch_ups_due(lead)
    assert [(d.representative.full_name, d.state) for d in due] == [
        ("Sam Soon", CatchUpState.DUE_SOON)
    ]

    # Someone who may not manage contracts cannot list them either.
    rep_user = await User.get(id=soon_rep.user_id)
    with pytest.raises(Forbidden):
        await contracts.catch_ups_due(await actor_for(rep_user, lead.organisation_id))


# --------------------------------------------------------------------------- overlapping contracts


async def test_two_overlapping_contracts_created_at_once_leave_exactly_one(world):
    lead = await lead_actor(world)
    rep = await representatives.create(lead, profile("Ada Lovelace"))
    today = clock.today()

    for attempt in range(3):
        await Contract.filter(representative=rep).delete()
        results = await asyncio.gather(
            contract_for(lead, rep, today, None),
            contract_for(lead, rep, today + dt.timedelta(days=30 + attempt), None),
            return_exceptions=True,
        )
        made = [r for r in results if isinstance(r, Contract)]
        refused = [r for r in results if isinstance(r, ValidationFailed)]
        assert len(made) == 1 and len(refused) == 1, results
        assert "starts_on" in refused[0].by_field()
        assert await Contract.filter(representative=rep).count() == 1

    # Contracts that follow on without overlapping are fine, even at once.
    await Contract.filter(representative=rep).delete()
    first_end = today + dt.timedelta(days=99)
    results = await asyncio.gather(
        contract_for(lead, rep, today, first_end),
        contract_for(lead, rep, first_end + dt.timedelta(days=1), None),
        return_exceptions=True,
    )
    assert all(isinstance(r, Contract) for r in results), results
    assert await Contract.filter(representative=rep).count() == 2


# --------------------------------------------------------------------------- archive and search


async def names(lead: Actor, **filters: Any) -> list[str]:
    return [rep.full_name for rep, _ in await representatives.search(lead, Filters(**filters))]


async def test_archiving_hides_someone_from_search_unless_asked_for(world):
    lead = await lead_actor(world)
    ada = await representatives.create(lead, profile("Ada Lovelace"))
    await representatives.create(lead, profile("Bob Byte"))
    assert await names(lead) == ["Ada Lovelace", "Bob Byte"]

    await representatives.archive(lead, ada)
    assert await names(lead) == ["Bob Byte"]
    assert await names(lead, q="ada") == []
    assert await names(lead, archived=True) == ["Ada Lovelace"]
    assert await names(lead, archived=True, q="lovelace") == ["Ada Lovelace"]
    stored = await Representative.get(id=ada.id)
    assert stored.archived_at is not None


async def test_search_filters(world):
    lead = await lead_actor(world)
    org = await _org_of(lead)
    system = Actor.system(via="cli")
    adults = await people.create_team(system, org, "Adult mental health")
    children = await people.create_team(system, org, "Children's services")
    today = clock.today()

    amy = await representatives.create(
        lead,
        profile(
            "Amy Active",
            preferred_modes=["video"],
            formats=["braille"],
            team_ids=[str(adults.id)],
        ),
    )
    await contract_for(lead, amy, today - dt.timedelta(days=100), today + dt.timedelta(days=700))
    await representatives.create(
        lead,
        phone_only(
            "Ben Break",
            representative_type="carer",
            preferred_modes=["in_person"],
            needs_transport=True,
            team_ids=[str(children.id)],
            break_until=(today + dt.timedelta(days=10)).isoformat(),
        ),
    )
    cat = await representatives.create(
        lead,
        profile(
            "Cat Expiring",
            representative_type="both",
            preferred_modes=["phone", "video"],
            wants_tech_test=True,
            team_ids=[str(adults.id), str(children.id)],
            break_until=(today - dt.timedelta(days=1)).isoformat(),
        ),
    )
    await contract_for(lead, cat, today - dt.timedelta(days=300), today + dt.timedelta(days=30))

    assert await names(lead) == ["Amy Active", "Ben Break", "Cat Expiring"]
    assert await names(lead, mode="video") == ["Amy Active", "Cat Expiring"]
    assert await names(lead, mode="in_person") == ["Ben Break"]
    assert await names(lead, need="braille") == ["Amy Active"]
    assert await names(lead, need="transport") == ["Ben Break"]
    assert await names(lead, need="tech_test") == ["Cat Expiring"]
    assert await names(lead, need="bsl") == []
    assert await names(lead, rep_type="carer") == ["Ben Break"]
    assert await names(lead, rep_type="both") == ["Cat Expiring"]
    assert await names(lead, team_id=adults.id) == ["Amy Active", "Cat Expiring"]
    assert await names(lead, team_id=children.id) == ["Ben Break", "Cat Expiring"]
    assert await names(lead, contract="active") == ["Amy Active"]
    assert await names(lead, contract="expiring") == ["Cat Expiring"]
    assert await names(lead, contract="none") == ["Ben Break"]
    assert await names(lead, on_break="yes") == ["Ben Break"]
    assert await names(lead, on_break="no") == ["Amy Active", "Cat Expiring"]
    assert await names(lead, mode="video", contract="active", on_break="no") == ["Amy Active"]
    states = {rep.full_name: state for rep, state in await representatives.search(lead, Filters())}
    assert states == {
        "Amy Active": ContractStatus.ACTIVE,
        "Ben Break": None,
        "Cat Expiring": ContractStatus.EXPIRING,
    }

    # Another organisation's lead finds none of them.
    other = await lead_actor(world, await world.org("Southshire Trust"), "lead@south.example")
    assert await names(other) == []
