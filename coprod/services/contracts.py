"""Contracts: creating, renewing, ending early, expiry reminders and catch-ups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.queryset import CountQuery, QuerySet
from tortoise.transactions import in_transaction

from coprod import clock
from coprod.config import get_settings
from coprod.domain import contracts as rules
from coprod.domain.contracts import CatchUpState, ContractStatus, Term
from coprod.domain.scheduling import LONDON, Refusal, london_date
from coprod.errors import Forbidden
from coprod.models import (
    HOLDING,
    Booking,
    BookingStatus,
    CatchUp,
    Contract,
    Kind,
    Membership,
    Representative,
    Role,
    User,
)
from coprod.services import audit, bookings, contact, outbox
from coprod.services.access import is_lead
from coprod.services.actor import Actor
from coprod.services.decisions import AtRisk, read_decisions
from coprod.templating import long_date
from coprod.validation import Checker, ValidationFailed

ROLE_TITLES = (
    "Patient representative",
    "Carer representative",
    "Expert by experience",
    "Peer reviewer",
    "Lived experience advisor",
)


def term(contract: Contract) -> Term:
    return Term(contract.starts_on, contract.ends_on, contract.ended_on)


def contract_status(contract: Contract, day: dt.date | None = None) -> ContractStatus:
    return rules.status(term(contract), day or clock.today())


async def _lock(rep: Representative) -> None:
    """Serialise contract changes for one person, so two at once cannot both pass the overlap
    check. On PostgreSQL this is a row lock; SQLite allows one writer at a time anyway."""
    await Representative.filter(id=rep.id).select_for_update().first()


async def _check_no_overlap(rep: Representative, new: Term, ignore_id: int | None = None) -> None:
    others = await Contract.filter(representative=rep).exclude(id=ignore_id or 0)
    clash = rules.overlapping(new, [term(c) for c in others])
    if clash is not None:
        raise ValidationFailed.one(
            "starts_on",
            f"These dates overlap their contract from {long_date(clash.starts_on)} "
            f"to {long_date(clash.last_day)}. Choose dates that do not overlap it.",
        )


def read_terms(
    data: Mapping[str, Any], *, default_start: dt.date | None = None
) -> tuple[str, dt.date, dt.date]:
    c = Checker(data)
    role_title = c.text("role_title", "a role title", max_length=100)
    starts_on = (
        c.date("starts_on", "the start date", required=default_start is None) or default_start
    )
    ends_on = c.date("ends_on", "the end date", required=False)
    c.done()
    assert starts_on is not None
    if ends_on is None:
        ends_on = rules.default_end(starts_on, get_settings().contract_default_years)
    if ends_on <= starts_on:
        raise ValidationFailed.one("ends_on", "The end date must be after the start date")
    return role_title, starts_on, ends_on


async def create(actor: Actor, rep: Representative, data: Mapping[str, Any]) -> Contract:
    if not is_lead(actor):
        raise Forbidden
    role_title, starts_on, ends_on = read_terms(data)
    async with in_transaction():
        await _lock(rep)
        await _check_no_overlap(rep, Term(starts_on, ends_on))
        contract = await Contract.create(
            organisation_id=rep.organisation_id,
            representative=rep,
            role_title=role_title,
            starts_on=starts_on,
            ends_on=ends_on,
        )
        await refresh_next_catch_ups([contract])
        await audit.record(actor, "contract.create", contract, after=audit.snapshot(contract))
    return contract


async def renew(actor: Actor, contract: Contract, data: Mapping[str, Any]) -> Contract:
    """A successor contract that starts the day after this one's last day."""
    if not is_lead(actor):
        raise Forbidden
    start = rules.renewal_start(term(contract))
    values = {
        "role_title": contract.role_title,
        **{k: v for k, v in data.items() if v not in (None, "")},
    }
    values["starts_on"] = start.isoformat()
    role_title, starts_on, ends_on = read_terms(values)
    rep = await contract.representative
    async with in_transaction():
        await _lock(rep)
        await _check_no_overlap(rep, Term(starts_on, ends_on))
        successor = await Contract.create(
            organisation_id=contract.organisation_id,
            representative=rep,
            role_title=role_title,
            starts_on=starts_on,
            ends_on=ends_on,
            predecessor=contract,
        )
        await refresh_next_catch_ups([successor])
        await audit.record(
            actor,
            "contract.renew",
            successor,
            before={"predecessor_id": contract.id},
            after=audit.snapshot(successor),
        )
    return successor


async def later_bookings(contract: Contract, ended_on: dt.date) -> list[AtRisk]:
    """Bookings the person holds after `ended_on` that none of their other contracts covers:
    ending this contract on that day would leave them without one."""
    others = [
        term(c)
        for c in await Contract.filter(representative_id=contract.representative_id).exclude(
            id=contract.id
        )
    ]
    at_risk = []
    for booking in await Booking.filter(
        representative_id=contract.representative_id, status__in=HOLDING
    ).prefetch_related("representative", "activity"):
        day = london_date(booking.starts_at)
        if day > ended_on and not any(t.starts_on <= day <= t.last_day for t in others):
            at_risk.append(AtRisk(booking, [Refusal.NO_CONTRACT.value]))
    return at_risk


async def end_early(actor: Actor, contract: Contract, data: Mapping[str, Any]) -> Contract:
    """End a contract before its term, with a reason. The person's bookings after the last
    day are listed (DecisionsNeeded) until the lead decides, for each, to cancel it (calendar
    cancellations go out) or to keep it with a reason; the ending and the decisions are saved
    together."""
    if not is_lead(actor):
        raise Forbidden
    c = Checker(data)
    ended_on = c.date("ended_on", "the last day of the contract", required=False) or clock.today()
    reason = c.text("reason", "the reason it is ending early", max_length=2000)
    c.done()
    if contract.ended_on is not None:
        raise ValidationFailed.one("ended_on", "This contract has already been ended")
    if ended_on >= contract.ends_on:
        raise ValidationFailed.one(
            "ended_on",
            f"The last day must be before the contract's end date, {long_date(contract.ends_on)}",
        )
    before = audit.snapshot(contract)
    async with in_transaction():
        rep = await contract.representative
        await _lock(rep)
        at_risk = await later_bookings(contract, ended_on)
        decisions = read_decisions(data, at_risk)
        contract.ended_on = ended_on
        contract.end_reason = reason
        await contract.save(update_fields=["ended_on", "end_reason"])
        await refresh_next_catch_ups([contract])
        await audit.record(
            actor, "contract.end", contract, before=before, after=audit.snapshot(contract)
        )
        for risk in at_risk:
            await bookings.cancel_or_keep(
                actor, risk, decisions[risk.booking.id], f"contract ended on {ended_on}"
            )
    return contract


async def record_catch_up(actor: Actor, contract: Contract, data: Mapping[str, Any]) -> CatchUp:
    if not is_lead(actor):
        raise Forbidden
    c = Checker(data)
    held_on = c.date("held_on", "the date of the catch-up")
    note = c.text("note", "a note", required=False, max_length=2000)
    c.done()
    assert held_on is not None
    if held_on > clock.today():
        raise ValidationFailed.one("held_on", "Record a catch-up once it has taken place")
    if not rules.is_in_force(term(contract), held_on):
        raise ValidationFailed.one("held_on", "The catch-up must fall within the contract's dates")
    async with in_transaction():
        catch_up = await CatchUp.create(contract=contract, held_on=held_on, note=note or None)
        await refresh_next_catch_ups([contract])
        await audit.record(
            actor,
            "catch_up.record",
            catch_up,
            after=audit.snapshot(catch_up),
            organisation_id=contract.organisation_id,
        )
    return catch_up


def _window(contract: Contract) -> tuple[dt.datetime, dt.datetime]:
    """The contract's days as UTC-comparable instants: its first London midnight to the one
    after its last day."""
    return _term_window(term(contract))


def _term_window(contract_term: Term) -> tuple[dt.datetime, dt.datetime]:
    first, last = contract_term.starts_on, contract_term.last_day
    return (
        dt.datetime.combine(first, dt.time(0), tzinfo=LONDON),
        dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=LONDON),
    )


async def catch_ups_held(contract: Contract) -> int:
    """Catch-ups recorded by hand, plus catch-up bookings attended, within the contract."""
    return (await catch_ups_held_for([contract]))[contract.id]


async def catch_ups_held_for(contracts: list[Contract]) -> dict[int, int]:
    """`catch_ups_held` for many contracts in two queries, by contract id."""
    if not contracts:
        return {}
    return await _held(
        [(c.id, c.representative_id, _window(c)) for c in contracts],
        CatchUp.filter(contract_id__in=[c.id for c in contracts]),
        Booking.filter(representative_id__in={c.representative_id for c in contracts}),
    )


async def _held(
    contracts: list[tuple[int, int, tuple[dt.datetime, dt.datetime]]],
    recorded_in: QuerySet[CatchUp],
    booked_in: QuerySet[Booking],
) -> dict[int, int]:
    """Catch-ups held for (contract id, representative id, window)s: those recorded, counted
    by the database, plus attended catch-up bookings inside each window. `recorded_in` and
    `booked_in` narrow the two reads to the contracts' people."""
    held: dict[int, int] = {contract_id: 0 for contract_id, _, _ in contracts}
    for contract_id, count in (
        await recorded_in.annotate(n=Count("id"))
        .group_by("contract_id")
        .values_list("contract_id", "n")
    ):
        if int(contract_id) in held:
            held[int(contract_id)] = int(count)
    attended = await booked_in.filter(
        status=BookingStatus.ATTENDED,
        activity__kind=Kind.CATCH_UP,
        starts_at__gte=min(w[0] for _, _, w in contracts),
        starts_at__lt=max(w[1] for _, _, w in contracts),
    ).values_list("representative_id", "starts_at")
    # By person first, so each contract looks only at its own person's bookings.
    by_person: dict[int, list[dt.datetime]] = {}
    for rep_id, starts_at in attended:
        by_person.setdefault(int(rep_id), []).append(starts_at)
    for contract_id, rep_id, (start, end) in contracts:
        held[contract_id] += sum(1 for s in by_person.get(rep_id, ()) if start <= s < end)
    return held


async def next_catch_up(
    contract: Contract, day: dt.date | None = None, *, held: int | None = None
) -> tuple[dt.date | None, CatchUpState]:
    """When this contract's next catch-up is due (None when no more fall within it), and
    whether that is overdue, soon or not yet. `held` saves the count when the caller has it."""
    return rules.next_catch_up(
        term(contract),
        held if held is not None else await catch_ups_held(contract),
        day or clock.today(),
        get_settings().catch_up_interval_months,
    )


async def refresh_next_catch_ups(contracts: list[Contract]) -> None:
    """Store each contract's next catch-up date after something that can move it: the
    contract's dates, a catch-up recorded, or attendance at a catch-up booking. Inside the
    caller's transaction, so the date never disagrees with the catch-ups held."""
    held = await catch_ups_held_for(contracts)
    changed = []
    for contract in contracts:
        # The due date does not depend on today, only on the term and the catch-ups held.
        due, _ = await next_catch_up(contract, contract.starts_on, held=held[contract.id])
        if due != contract.next_catch_up_on:
            contract.next_catch_up_on = due
            changed.append(contract)
    if changed:
        await Contract.bulk_update(changed, fields=["next_catch_up_on"])


async def refresh_catch_ups_of(representative_id: int) -> None:
    """`refresh_next_catch_ups` for all of one person's contracts (a catch-up booking's
    attendance counts towards whichever contract it falls in)."""
    await refresh_next_catch_ups(list(await Contract.filter(representative_id=representative_id)))


@dataclass(frozen=True)
class DueCatchUp:
    contract: Contract
    representative: Representative
    due: dt.date
    state: CatchUpState


def _due(actor: Actor, day: dt.date) -> QuerySet[Contract]:
    """Contracts in force today, of people not archived, whose next catch-up is overdue or
    due soon: one indexed read of the stored dates, so the dashboard's count and
    the list apply one rule."""
    return Contract.filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=day),
        organisation_id=actor.organisation_id,
        starts_on__lte=day,
        ends_on__gte=day,
        representative__archived_at__isnull=True,
        next_catch_up_on__lte=day + dt.timedelta(days=rules.SOON_DAYS),
    )


async def catch_ups_due(actor: Actor, day: dt.date | None = None) -> list[DueCatchUp]:
    """Everyone in the organisation whose next catch-up is overdue or due within 30 days."""
    if not is_lead(actor):
        raise Forbidden
    day = day or clock.today()
    found = (
        await _due(actor, day).order_by("next_catch_up_on", "id").prefetch_related("representative")
    )
    return [
        DueCatchUp(c, c.representative, due, rules.catch_up_state(due, day))
        for c in found
        if (due := c.next_catch_up_on) is not None
    ]


def catch_ups_due_count(actor: Actor, day: dt.date | None = None) -> CountQuery:
    """How many `catch_ups_due` lists, counted by the database (await it, or count it
    together with others by `db.counts`)."""
    if not is_lead(actor):
        raise Forbidden
    return _due(actor, day or clock.today()).count()


async def _leads_for(rep: Representative) -> list[User]:
    if rep.lead_id is not None:
        lead = await User.get_or_none(id=rep.lead_id, is_active=True)
        if lead is not None:
            return [lead]
    user_ids = await Membership.filter(
        organisation_id=rep.organisation_id,
        role=Role.INVOLVEMENT_LEAD,
    ).values_list("user_id", flat=True)
    return list(await User.filter(id__in=list(user_ids), is_active=True))


async def _followed_on(contract: Contract) -> bool:
    """Has a contract (say a renewal) been made to start the day after this one ends?"""
    following = await Contract.filter(
        representative_id=contract.representative_id,
        starts_on=contract.ends_on + dt.timedelta(days=1),
    )
    return any(rules.status(term(c), c.starts_on) != ContractStatus.ENDED for c in following)


async def send_expiry_reminders(now: dt.datetime) -> int:
    """Periodic job: the 90- and 30-day reminders, each once per contract and recipient.

    Safe to run twice or on two workers at once: the outbox's unique dedupe key lets only one
    insert of each reminder succeed.
    """
    settings = get_settings()
    day = now.date()
    horizon = day + dt.timedelta(days=max(settings.expiry_reminder_days))
    queued = 0
    contracts = await Contract.filter(
        ended_on__isnull=True, ends_on__gte=day, ends_on__lte=horizon, starts_on__lte=day
    ).prefetch_related("representative", "organisation")
    for contract in contracts:
        offset = rules.expiry_reminder_due(contract.ends_on, day, settings.expiry_reminder_days)
        rep = contract.representative
        if offset is None or rep.archived_at is not None or await _followed_on(contract):
            continue
        context = {
            "representative": rep.full_name,
            "organisation": contract.organisation.name,
            "role_title": contract.role_title,
            "ends_on": long_date(contract.ends_on),
            "days": (contract.ends_on - day).days,
            "url": f"{settings.base_url}/representatives/{rep.id}",
            "not_told_because": await contact.why_not_contactable(rep),
        }
        # Keyed by who, not by address: an address may be longer than the key column allows.
        recipients = [
            (lead.work_email, "contract_expiry_lead", lead.full_name, f"lead:{lead.id}")
            for lead in await _leads_for(rep)
        ]
        for address, template, name, who in recipients:
            sent = await outbox.enqueue_email(
                dedupe_key=f"contract:{contract.id}:expiry:{offset}:{who}",
                to=address,
                template=template,
                context={**context, "name": name},
                organisation_id=contract.organisation_id,
            )
            queued += sent is not None
        to_rep = await contact.notify(
            rep,
            dedupe_key=f"contract:{contract.id}:expiry:{offset}:representative",
            kind="contract_expiry_representative",
            context={**context, "name": rep.full_name},
            organisation_id=contract.organisation_id,
        )
        queued += to_rep.message is not None
    return queued
