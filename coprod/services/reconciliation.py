"""Daily reconciliation: Stripe's transfers against our claims, per organisation, with every
difference kept as an item finance resolves.

Safe to run twice at once. What guarantees each difference is recorded once is the unique
(organisation, kind, subject) on `ReconciliationItem`: every run inserts with "ignore if there",
so two runs that find the same difference leave one row. The daily job also takes a
`ReconciliationRun` row for the London date (unique), so normally only one worker walks
Stripe's list each day; a run left unfinished by a worker that died is taken over after an
hour. The walk itself changes nothing in Stripe, so running it again (finance's "run now", or a
take-over) is harmless.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from coprod import clock
from coprod.domain.reconciliation import (
    Difference,
    Recorded,
    claim_named,
    differences,
)
from coprod.errors import Conflict, Forbidden, NotFound
from coprod.integrations.stripe_gateway import PaymentFailed, TransferResult
from coprod.models import (
    AttemptStatus,
    Claim,
    ClaimStatus,
    Organisation,
    PaymentAttempt,
    ReconciliationItem,
    ReconciliationRun,
    Representative,
    Role,
)
from coprod.services import audit, payouts
from coprod.services.actor import Actor
from coprod.validation import Checker

log = logging.getLogger("coprod.reconciliation")

# Stripe's transfers from this far back are listed each run; older ones are fetched only for
# claims (or open items) that still need them.
WINDOW = dt.timedelta(days=35)
# A daily run unfinished after this long died with its worker, and is taken over.
STALE_RUN = dt.timedelta(hours=1)

GONE_NOTE = "Closed by reconciliation: the difference has gone (Stripe and Coprod now agree)."


@dataclass(frozen=True)
class Outcome:
    opened: int
    closed: int
    open_items: int


def _finance(actor: Actor) -> None:
    if not actor.has(Role.FINANCE_OFFICER):
        raise Forbidden


async def reconcile(now: dt.datetime) -> int:
    """Worker job, about daily: the first call on each London date walks Stripe's transfers for
    every organisation; later calls that day do nothing. Returns the items opened."""
    day = clock.today(now)
    if not payouts.stripe_ready():
        return 0  # nothing in Stripe to compare; finance is told why on its pages
    if await ReconciliationRun.filter(day=day, finished_at__isnull=False).exists():
        return 0  # the usual case: every tick after the day's run
    if not await _take_day(day, now):
        return 0
    outcome = await _reconcile(now, organisation_id=None)
    await ReconciliationRun.filter(day=day).update(
        finished_at=dt.datetime.now(dt.UTC), opened=outcome.opened, closed=outcome.closed
    )
    return outcome.opened


async def _take_day(day: dt.date, now: dt.datetime) -> bool:
    try:
        async with in_transaction():
            await ReconciliationRun.create(day=day, started_at=now)
        return True
    except IntegrityError:
        # Conditional, so of two workers finding the same dead run only one takes it over.
        taken = await ReconciliationRun.filter(
            day=day, finished_at__isnull=True, started_at__lt=now - STALE_RUN
        ).update(started_at=now)
        return bool(taken)


async def run_now(actor: Actor) -> Outcome:
    """Finance's "reconcile now": the same comparison as the daily job, for their organisation
    only, straight away."""
    _finance(actor)
    if not payouts.stripe_ready():
        raise Conflict(payouts.configuration_problems()[0], "stripe")
    try:
        return await _reconcile(dt.datetime.now(dt.UTC), organisation_id=actor.organisation_id)
    except PaymentFailed as exc:
        raise Conflict(
            f"Coprod could not compare with Stripe just now: {exc.reason}", "stripe"
        ) from exc


# --------------------------------------------------------------------------- the comparison


async def _reconcile(now: dt.datetime, organisation_id: int | None) -> Outcome:
    since = now - WINDOW
    gateway = payouts.gateway()
    listed = {t.id: t async for t in gateway.list_transfers(created_gte=int(since.timestamp()))}
    attributed = await _attribute(list(listed.values()), organisation_id)

    open_items = await _open_items(organisation_id)
    # Claims whose transfers we must hold in full: paid within the window, named by an open
    # item, or paid and named by a transfer we listed (a late second payment of an old claim).
    paid_recently = PaymentAttempt.filter(
        status=AttemptStatus.SUCCEEDED,
        claim__status=ClaimStatus.PAID,
        claim__paid_at__gte=since,
    )
    if organisation_id is not None:
        paid_recently = paid_recently.filter(claim__organisation_id=organisation_id)
    checked = set(cast(list[int], await paid_recently.values_list("claim_id", flat=True)))
    checked |= {i.claim_id for i in open_items if i.claim_id is not None}
    named = {n for _, t in attributed if (n := claim_named(t)) is not None}
    recorded = await _recorded(checked | named)
    checked = {c for c in checked | named if c in recorded and recorded[c].paid}

    # Older transfers that a checked claim or an open item still expects, fetched one by one.
    for claim_id in sorted(checked):
        r = recorded[claim_id]
        if r.transfer_id and r.transfer_id not in listed:
            group = payouts.transfer_group(claim_id)
            async for t in gateway.list_transfers(transfer_group=group):
                if t.transfer_group == group:
                    listed[t.id] = t
            if r.transfer_id not in listed and (fetched := await _retrieve(r.transfer_id)):
                listed[fetched.id] = fetched
    for item in open_items:
        if item.transfer_id and item.transfer_id not in listed:
            if fetched := await _retrieve(item.transfer_id):
                listed[fetched.id] = fetched
    attributed = await _attribute(list(listed.values()), organisation_id)
    recorded |= await _recorded(
        {n for _, t in attributed if (n := claim_named(t)) is not None} - set(recorded)
    )

    found = differences(attributed, recorded, checked)
    if organisation_id is not None:
        found = [d for d in found if d.organisation_id == organisation_id]
    return await _store(now, found, open_items, organisation_id)


async def _retrieve(transfer_id: str) -> TransferResult | None:
    try:
        return await payouts.gateway().retrieve_transfer(transfer_id)
    except PaymentFailed as exc:
        if exc.code == "resource_missing":
            return None
        raise


async def _attribute(
    transfers: list[TransferResult], organisation_id: int | None
) -> list[tuple[int, TransferResult]]:
    """Each transfer with the organisation it belongs to: the one its metadata names, else the
    one whose claim it names, else the one whose representative owns the receiving account.
    Transfers that are nobody's here are left out (another service may share the Stripe
    account)."""
    named = {n for t in transfers if (n := _number(t.metadata.get("organisation_id", "")))}
    known = set(await Organisation.filter(id__in=named).values_list("id", flat=True))
    of_claim = dict(
        await Claim.filter(
            id__in={n for t in transfers if (n := claim_named(t)) is not None}
        ).values_list("id", "organisation_id")
    )
    of_account = dict(
        await Representative.filter(
            stripe_account_id__in={t.destination for t in transfers}
        ).values_list("stripe_account_id", "organisation_id")
    )
    result = []
    nobodys = 0
    for t in transfers:
        org = _number(t.metadata.get("organisation_id", ""))
        if org not in known:
            org = of_claim.get(claim_named(t)) or of_account.get(t.destination)
        if org is None:
            nobodys += 1
        elif organisation_id is None or org == organisation_id:
            result.append((org, t))
    if nobodys:
        log.info("%s transfers belong to no organisation here", nobodys)
    return result


def _number(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


async def _recorded(claim_ids: set[int]) -> dict[int, Recorded]:
    """What we hold for these claims, whichever organisation they belong to: a transfer that
    names another organisation's claim is shown as not ours, never that claim's details."""
    if not claim_ids:
        return {}
    query = Claim.filter(id__in=claim_ids).prefetch_related("representative")
    found = list(await query)
    attempts: dict[int, list[PaymentAttempt]] = {c.id: [] for c in found}
    for a in await PaymentAttempt.filter(claim_id__in=list(attempts)).order_by("id"):
        attempts[a.claim_id].append(a)
    result = {}
    for claim in found:
        made = [
            a
            for a in attempts[claim.id]
            if a.status == AttemptStatus.SUCCEEDED
            and a.transfer_id
            and a.transfer_id != payouts.IN_PROGRESS
        ]
        last = made[-1] if made else None
        result[claim.id] = Recorded(
            claim_id=claim.id,
            organisation_id=claim.organisation_id,
            status_label=claim.status.label,
            paid=claim.status == ClaimStatus.PAID and last is not None,
            in_flight=any(a.status == AttemptStatus.PENDING for a in attempts[claim.id]),
            transfer_id=last.transfer_id if last else None,
            amount_pence=last.amount_pence if last else None,
            account=claim.representative.stripe_account_id,
        )
    return result


async def _open_items(organisation_id: int | None) -> list[ReconciliationItem]:
    query = ReconciliationItem.filter(resolved_at__isnull=True)
    if organisation_id is not None:
        query = query.filter(organisation_id=organisation_id)
    return list(await query)


async def _store(
    now: dt.datetime,
    found: list[Difference],
    open_items: list[ReconciliationItem],
    organisation_id: int | None,
) -> Outcome:
    current = {d.key: d for d in found}
    organisations = {d.organisation_id for d in found} | {i.organisation_id for i in open_items}
    async with in_transaction():
        existing: dict[tuple[int, str, str], ReconciliationItem] = {}
        if current:
            for item in await ReconciliationItem.filter(
                organisation_id__in={k[0] for k in current},
                subject__in={k[2] for k in current},
            ):
                existing[(item.organisation_id, item.kind.value, item.subject)] = item
        new = [d for key, d in current.items() if key not in existing]
        if new:
            # "Ignore if there": a run at the same moment may have inserted the same ones.
            await ReconciliationItem.bulk_create(
                [
                    ReconciliationItem(
                        organisation_id=d.organisation_id,
                        kind=d.kind,
                        subject=d.subject,
                        transfer_id=d.transfer_id,
                        claim_id=d.claim_id,
                        ours_pence=d.ours_pence,
                        stripe_pence=d.stripe_pence,
                        description=d.description,
                        found_at=now,
                    )
                    for d in new
                ],
                ignore_conflicts=True,
            )
        # A difference that went and came back was closed by a run, not by finance: open it
        # again. What finance resolved stays resolved.
        back = [
            item.id
            for key, item in existing.items()
            if item.resolved_at is not None and item.resolved_by_id is None and key in current
        ]
        if back:
            await ReconciliationItem.filter(id__in=back, resolved_by_id__isnull=True).update(
                resolved_at=None, note=None, found_at=now
            )
        gone = [
            i.id for i in open_items if (i.organisation_id, i.kind.value, i.subject) not in current
        ]
        if gone:
            await ReconciliationItem.filter(id__in=gone, resolved_at__isnull=True).update(
                resolved_at=now, note=GONE_NOTE
            )
        per_org: dict[int, dict[str, int]] = {}
        for d in new:
            per_org.setdefault(d.organisation_id, {"opened": 0, "closed": 0})["opened"] += 1
        for i in open_items:
            if i.id in gone:
                per_org.setdefault(i.organisation_id, {"opened": 0, "closed": 0})["closed"] += 1
        for org, counts in sorted(per_org.items()):
            await audit.record(
                Actor.system(organisation_id=org),
                "reconciliation.run",
                ("Reconciliation", None),
                after=counts,
            )
        still_open = ReconciliationItem.filter(resolved_at__isnull=True)
        if organisation_id is not None:
            still_open = still_open.filter(organisation_id=organisation_id)
        elif organisations:
            still_open = still_open.filter(organisation_id__in=organisations)
        return Outcome(opened=len(new), closed=len(gone), open_items=await still_open.count())


# --------------------------------------------------------------------------- finance's side


def open_for(actor: Actor) -> Any:
    """The organisation's open items, newest first: the query pages and the API list."""
    _finance(actor)
    return ReconciliationItem.filter(
        organisation_id=actor.organisation_id, resolved_at__isnull=True
    )


async def item_for(actor: Actor, item_id: int) -> ReconciliationItem:
    _finance(actor)
    item = await ReconciliationItem.get_or_none(id=item_id, organisation_id=actor.organisation_id)
    if item is None:
        raise NotFound
    return item


async def resolve(
    actor: Actor, item: ReconciliationItem, data: Mapping[str, Any]
) -> ReconciliationItem:
    """Finance marks a difference dealt with, saying how. Resolved once: a second submit (or a
    run closing it meanwhile) is not an error, and changes nothing."""
    _finance(actor)
    if item.organisation_id != actor.organisation_id:
        raise NotFound
    c = Checker(data)
    note = c.text("note", "what you did about it", max_length=2000)
    c.done()
    async with in_transaction():
        now = dt.datetime.now(dt.UTC)
        done = await ReconciliationItem.filter(id=item.id, resolved_at__isnull=True).update(
            resolved_at=now, resolved_by_id=actor.user.id if actor.user else None, note=note
        )
        if done:
            await audit.record(
                actor,
                "reconciliation.resolve",
                item,
                before={"resolved_at": None},
                after={"resolved_at": now.isoformat(), "note": note},
            )
    return await ReconciliationItem.get(id=item.id)
