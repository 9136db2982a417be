"""Daily reconciliation: Stripe's transfers against the claims Coprod shows as paid.

Real database, the real stripe library over real HTTP to the Stripe stand-in, the worker's
periodic jobs, and finance's pages and API in-process. The stand-in has no webhook target here:
what reconciliation is for is the change nobody told us about (a reversal in Stripe's
Dashboard, a transfer made by hand, a webhook that never came).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from tortoise import connections

from coprod import clock, worker
from coprod.domain.scheduling import london_midnight
from coprod.integrations.stripe_gateway import StripeGateway, TransferResult
from coprod.models import (
    AttemptStatus,
    AuditEvent,
    Claim,
    DifferenceKind,
    PaymentAttempt,
    ReconciliationItem,
    ReconciliationRun,
    Representative,
)
from coprod.services import payouts, reconciliation
from tests.conftest import BACKEND, sign_in
from tests.statements import counting
from tests.stripe_standin import DEFAULT_WEBHOOK_SECRET, StripeStandIn, running_standin
from tests.test_payouts import Trust, claim_of, stripe_rep, trust

NOW = dt.datetime.now(dt.UTC)
A = "/api/v1"


@pytest.fixture
def standin() -> Iterator[StripeStandIn]:
    with running_standin() as s:
        yield s


@pytest.fixture
async def gateway(standin: StripeStandIn) -> AsyncIterator[StripeGateway]:
    made = StripeGateway(
        standin.api_key, DEFAULT_WEBHOOK_SECRET, api_base=standin.url, timeout=5.0, retries=2
    )
    payouts.use_gateway(made)
    yield made
    payouts.use_gateway(None)
    await made.aclose()


@dataclass
class Differences:
    t: Trust
    other: Trust
    expected: set[tuple[DifferenceKind, str]]
    extra: TransferResult  # the second transfer for a claim paid twice
    moved: Representative  # whose Stripe account changed after they were paid
    old_account: str
    new_account: str
    fine: Claim


async def transfer_of(claim: Claim) -> str:
    attempt = await PaymentAttempt.get(claim_id=claim.id, status=AttemptStatus.SUCCEEDED)
    assert attempt.transfer_id
    return attempt.transfer_id


async def by_hand(
    gateway: StripeGateway, key: str, pence: int, account: str, **metadata: Any
) -> TransferResult:
    """A transfer made outside Coprod's pay runs, as someone in Stripe's Dashboard would."""
    return await gateway.transfer(
        amount_pence=pence,
        account_id=account,
        idempotency_key=key,
        description="Made by hand",
        metadata={k: str(v) for k, v in metadata.items()},
        transfer_group=str(metadata.get("group", "by-hand")),
    )


async def differences_in_stripe(
    world: Any, gateway: StripeGateway, standin: StripeStandIn
) -> Differences:
    """Claims paid through a pay run and the worker, then one of each kind of difference made
    in Stripe behind Coprod's back."""
    t = await trust(world)
    other = await trust(world, "Southshire NHS Trust", "south")
    ada = await stripe_rep(t, gateway, standin, "Ada Able", "ada@people.example")
    ben = await stripe_rep(t, gateway, standin, "Ben Bold", "ben@people.example")
    cat = await stripe_rep(t, gateway, standin, "Cat Calm", "cat@people.example")
    dan = await stripe_rep(other, gateway, standin, "Dan Dee", "dan@people.example")
    fine = await claim_of(ada, fee=7000)
    reversed_ = await claim_of(ada, fee=7100)
    twice = await claim_of(ben, fee=7200)
    short = await claim_of(ben, fee=7300)
    moved = await claim_of(cat, fee=7400)
    theirs = await claim_of(dan, fee=7500)
    await payouts.pay_run(t.finance)
    await payouts.pay_run(other.finance)
    assert await payouts.process_payments(NOW) == 6

    standin.reverse_transfer(await transfer_of(reversed_))
    standin.reverse_transfer(await transfer_of(short), 1000)
    assert ben.stripe_account_id and ada.stripe_account_id and cat.stripe_account_id
    extra = await by_hand(
        gateway,
        "twice",
        7200,
        ben.stripe_account_id,
        claim_id=twice.id,
        organisation_id=t.organisation_id,
        group=payouts.transfer_group(twice.id),
    )
    stray = await by_hand(
        gateway, "stray", 2500, ada.stripe_account_id, organisation_id=t.organisation_id
    )
    cross = await by_hand(
        gateway,
        "cross",
        3000,
        ada.stripe_account_id,
        claim_id=theirs.id,
        organisation_id=t.organisation_id,
    )
    # Cat's new account; the transfer already made went to the old one.
    old_account = cat.stripe_account_id
    new_account = await gateway.create_express_account(email=cat.email, reference="cat-again")
    await standin.complete_onboarding_async(new_account)
    await Representative.filter(id=cat.id).update(stripe_account_id=new_account)
    # Approved, never paid by Coprod, but paid in Stripe by hand, with only the account to go by.
    unrecorded = await claim_of(cat, fee=7600)
    manual = await by_hand(gateway, "manual", 7600, new_account, claim_id=unrecorded.id)

    return Differences(
        t=t,
        other=other,
        expected={
            (DifferenceKind.MISSING_TRANSFER, f"claim-{reversed_.id}"),
            (DifferenceKind.DIFFERENT_AMOUNT, await transfer_of(short)),
            (DifferenceKind.PAID_TWICE, f"claim-{twice.id}"),
            (DifferenceKind.UNKNOWN_TRANSFER, stray.id),
            (DifferenceKind.UNKNOWN_TRANSFER, cross.id),
            (DifferenceKind.WRONG_ACCOUNT, await transfer_of(moved)),
            (DifferenceKind.UNRECORDED_TRANSFER, manual.id),
        },
        extra=extra,
        moved=cat,
        old_account=old_account,
        new_account=new_account,
        fine=fine,
    )


async def items_of(organisation_id: int) -> list[ReconciliationItem]:
    return list(await ReconciliationItem.filter(organisation_id=organisation_id).order_by("id"))


def kinds(items: list[ReconciliationItem]) -> list[tuple[DifferenceKind, str]]:
    return sorted(((i.kind, i.subject) for i in items), key=str)


def listings(standin: StripeStandIn) -> int:
    return len(standin.requests_to("/v1/transfers", "GET"))


# ---------------------------------------------------------------------------- the daily job


async def test_the_daily_job_finds_each_kind_of_difference_once(
    world: Any, standin: StripeStandIn, gateway: StripeGateway
) -> None:
    d = await differences_in_stripe(world, gateway, standin)

    await worker.run_periodic_jobs(NOW)

    found = await items_of(d.t.organisation_id)
    assert kinds(found) == sorted(d.expected, key=str)
    assert all(i.resolved_at is None and i.found_at == NOW for i in found)
    assert await items_of(d.other.organisation_id) == []
    by_kind = {i.kind: i for i in found}
    missing = by_kind[DifferenceKind.MISSING_TRANSFER]
    assert (missing.ours_pence, missing.stripe_pence) == (7100, 0)
    assert "reversed or never made" in missing.description
    short = by_kind[DifferenceKind.DIFFERENT_AMOUNT]
    assert (short.ours_pence, short.stripe_pence) == (7300, 6300)
    assert "£73.00" in short.description and "£63.00" in short.description
    twice = by_kind[DifferenceKind.PAID_TWICE]
    assert (twice.ours_pence, twice.stripe_pence) == (7200, 14400)
    assert d.extra.id in twice.description
    wrong = by_kind[DifferenceKind.WRONG_ACCOUNT]
    assert d.old_account in wrong.description and d.new_account in wrong.description
    assert (
        await AuditEvent.filter(
            action="reconciliation.run", organisation_id=d.t.organisation_id
        ).count()
        == 1
    )

    # Later the same London day: the day's run is done, so Stripe is not even asked. Two hours
    # on, unless that would cross London's midnight (the suite may run late in the evening).
    asked = listings(standin)
    day_ends = london_midnight(clock.today(NOW) + dt.timedelta(days=1))
    await worker.run_periodic_jobs(
        min(NOW + dt.timedelta(hours=2), day_ends - dt.timedelta(microseconds=1))
    )
    assert listings(standin) == asked
    assert await ReconciliationRun.all().count() == 1
    run = await ReconciliationRun.get()
    assert run.finished_at is not None and run.opened == len(d.expected)

    # The next day it runs again and finds the same differences, without copying them.
    await worker.run_periodic_jobs(NOW + dt.timedelta(days=1))
    assert listings(standin) > asked
    assert kinds(await items_of(d.t.organisation_id)) == sorted(d.expected, key=str)
    assert await ReconciliationRun.all().count() == 2


async def test_runs_at_the_same_moment_record_each_difference_once(
    world: Any, standin: StripeStandIn, gateway: StripeGateway
) -> None:
    d = await differences_in_stripe(world, gateway, standin)
    if BACKEND == "postgres":
        # Open several pooled connections first, so the runs really overlap on their own ones.
        db = connections.get("default")
        await asyncio.gather(*(db.execute_query("SELECT pg_sleep(0.05)") for _ in range(6)))

    outcomes = await asyncio.gather(
        reconciliation.reconcile(NOW),
        reconciliation.reconcile(NOW),
        reconciliation.run_now(d.t.finance),
        reconciliation.run_now(d.t.finance),
    )

    assert kinds(await items_of(d.t.organisation_id)) == sorted(d.expected, key=str)
    # Only one of the two daily runs took the day: the other found it taken and did nothing.
    assert 0 in outcomes[:2]
    assert await ReconciliationRun.all().count() == 1
    # And again, all at once, now that the items exist: nothing new.
    await asyncio.gather(
        reconciliation.reconcile(NOW + dt.timedelta(days=1)),
        reconciliation.reconcile(NOW + dt.timedelta(days=1)),
        reconciliation.run_now(d.t.finance),
    )
    assert kinds(await items_of(d.t.organisation_id)) == sorted(d.expected, key=str)


async def test_a_daily_run_left_by_a_dead_worker_is_taken_over_after_an_hour(
    world: Any, standin: StripeStandIn, gateway: StripeGateway
) -> None:
    d = await differences_in_stripe(world, gateway, standin)
    await ReconciliationRun.create(day=clock.today(NOW), started_at=NOW - dt.timedelta(minutes=30))
    assert await reconciliation.reconcile(NOW) == 0
    assert await items_of(d.t.organisation_id) == []

    await ReconciliationRun.filter().update(started_at=NOW - dt.timedelta(minutes=61))
    assert await reconciliation.reconcile(NOW) == len(d.expected)
    assert (await ReconciliationRun.get()).finished_at is not None


async def test_a_late_second_payment_of_an_old_claim_is_found(
    world: Any, standin: StripeStandIn, gateway: StripeGateway
) -> None:
    t = await trust(world)
    ada = await stripe_rep(t, gateway, standin, "Ada Able", "ada@people.example")
    assert ada.stripe_account_id
    claim = await claim_of(ada)
    await payouts.pay_run(t.finance)
    assert await payouts.process_payments(NOW) == 1
    # Forty days on, the claim and its transfer are older than the window: nothing to say.
    later = NOW + dt.timedelta(days=40)
    standin.advance(40 * 24 * 3600)
    assert await reconciliation.reconcile(later) == 0

    # Someone pays it again (a retry long after Stripe forgot the idempotency key, say).
    await by_hand(
        gateway,
        "late",
        7000,
        ada.stripe_account_id,
        claim_id=claim.id,
        organisation_id=t.organisation_id,
        group=payouts.transfer_group(claim.id),
    )
    assert await reconciliation.reconcile(later + dt.timedelta(days=1)) == 1
    [item] = await items_of(t.organisation_id)
    assert (item.kind, item.subject) == (DifferenceKind.PAID_TWICE, f"claim-{claim.id}")
    assert item.stripe_pence == 14000


# ---------------------------------------------------------------------------- finance


def ids_on_page(html: str) -> list[int]:
    return sorted({int(x) for x in re.findall(r'href="/finance/reconciliation/(\d+)"', html)})


async def test_finance_sees_resolves_and_the_differences_that_go_are_closed(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, client: Any
) -> None:
    d = await differences_in_stripe(world, gateway, standin)
    await sign_in(client, "finance@trust.example")

    ran = await client.api("POST", f"{A}/reconciliation-runs", {})
    assert ran.status_code == 200, ran.text
    assert ran.json() == {"opened": 7, "closed": 0, "open_items": 7}

    listed = await client.get(f"{A}/reconciliation-items")
    assert listed.status_code == 200
    api_items = listed.json()["items"]
    on_page = await client.get("/finance/reconciliation")
    assert on_page.status_code == 200
    assert ids_on_page(on_page.text) == sorted(i["id"] for i in api_items)
    assert len(api_items) == 7
    finance_page = await client.get("/finance")
    assert 'href="/finance/reconciliation"' in finance_page.text
    assert "7 differences need checking" in finance_page.text

    items = {(i["kind"], i["transfer_id"]): i for i in api_items}
    stray = next(i for i in api_items if i["kind"] == "unknown_transfer" and not i["claim_id"])
    cross = next(i for i in api_items if i["kind"] == "unknown_transfer" and i["id"] != stray["id"])
    assert len(items) == 7

    # A note is required: the page says so, field by field.
    refused = await client.post_form(f"/finance/reconciliation/{stray['id']}", {"note": " "})
    assert refused.status_code == 422
    assert "Enter what you did about it" in refused.text
    resolved = await client.post_form(
        f"/finance/reconciliation/{stray['id']}", {"note": "Reversed in Stripe on Monday"}
    )
    assert resolved.status_code == 303
    through_api = await client.api(
        "POST",
        f"{A}/reconciliation-items/{cross['id']}/resolve",
        {"note": "Southshire's claim: they repaid us"},
    )
    assert through_api.status_code == 200, through_api.text
    assert through_api.json()["resolved_by_user_id"] == d.t.finance.user.id  # type: ignore[union-attr]
    assert await AuditEvent.filter(action="reconciliation.resolve").count() == 2
    empty = await client.api("POST", f"{A}/reconciliation-items/{cross['id']}/resolve", {})
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["field"] == "note"

    # The extra transfer is reversed, and Cat's account is put back: those differences go.
    standin.reverse_transfer(d.extra.id)
    await Representative.filter(id=d.moved.id).update(stripe_account_id=d.old_account)
    again = await client.post_form("/finance/reconciliation", {})
    assert again.status_code == 200
    assert "0 new differences, 2 closed" in again.text
    closed = await ReconciliationItem.filter(resolved_by_id__isnull=True, resolved_at__isnull=False)
    assert sorted(i.kind for i in closed) == [
        DifferenceKind.PAID_TWICE,
        DifferenceKind.WRONG_ACCOUNT,
    ]
    assert all(i.note == reconciliation.GONE_NOTE for i in closed)
    # What finance resolved stays resolved, though the stray transfer is still in Stripe.
    for item_id in (stray["id"], cross["id"]):
        kept = await ReconciliationItem.get(id=item_id)
        assert kept.resolved_at is not None and kept.resolved_by_id is not None
    assert await ReconciliationItem.all().count() == 7
    now_open = (await client.get(f"{A}/reconciliation-items")).json()["items"]
    assert len(now_open) == 3
    assert "3 differences need checking" in (await client.get("/finance")).text
    assert ids_on_page((await client.get("/finance/reconciliation")).text) == sorted(
        i["id"] for i in now_open
    )
    done = (await client.get(f"{A}/reconciliation-items?state=resolved")).json()["items"]
    assert len(done) == 4

    # Cat's account changes again: the closed difference opens again, as the same item.
    wrong = next(i for i in closed if i.kind == DifferenceKind.WRONG_ACCOUNT)
    await Representative.filter(id=d.moved.id).update(stripe_account_id=d.new_account)
    await reconciliation.run_now(d.t.finance)
    back = await ReconciliationItem.get(id=wrong.id)
    assert back.resolved_at is None and back.note is None
    assert await ReconciliationItem.all().count() == 7

    page = await client.get(f"/finance/reconciliation/{stray['id']}")
    assert "Reversed in Stripe on Monday" in page.text and "Mark as resolved" not in page.text


async def test_only_finance_of_the_organisation_sees_its_differences(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, make_client: Any
) -> None:
    d = await differences_in_stripe(world, gateway, standin)
    await reconciliation.run_now(d.t.finance)
    item = (await items_of(d.t.organisation_id))[0]
    lead, south = make_client(), make_client()
    await sign_in(lead, "lead@trust.example")
    await sign_in(south, "finance@south.example")

    assert (await lead.get("/finance/reconciliation")).status_code == 403
    assert (await lead.get(f"{A}/reconciliation-items")).status_code == 403
    assert (await lead.api("POST", f"{A}/reconciliation-runs", {})).status_code == 403

    assert (await south.get(f"/finance/reconciliation/{item.id}")).status_code == 404
    assert (await south.get(f"{A}/reconciliation-items/{item.id}")).status_code == 404
    stolen = await south.api(
        "POST", f"{A}/reconciliation-items/{item.id}/resolve", {"note": "Not ours"}
    )
    assert stolen.status_code == 404
    assert (await south.get(f"{A}/reconciliation-items")).json()["items"] == []
    assert ids_on_page((await south.get("/finance/reconciliation")).text) == []
    # Southshire's own run sees only Southshire's transfers (all as recorded).
    ran = await south.api("POST", f"{A}/reconciliation-runs", {})
    assert ran.json() == {"opened": 0, "closed": 0, "open_items": 0}
    assert (await ReconciliationItem.get(id=item.id)).resolved_at is None


async def test_stripe_out_of_reach_is_a_plain_409(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, client: Any
) -> None:
    t = await trust(world)
    await sign_in(client, "finance@trust.example")
    standin.fail_next("/v1/transfers", 500, times=6, method="GET")
    ran = await client.api("POST", f"{A}/reconciliation-runs", {})
    assert ran.status_code == 409
    assert "could not compare with Stripe" in ran.json()["errors"][0]["message"]
    page = await client.post_form("/finance/reconciliation", {})
    assert page.status_code == 409 and "could not compare with Stripe" in page.text
    standin.clear_faults()
    assert (await reconciliation.run_now(t.finance)).opened == 0

    # With no Stripe key at all, finance is told what is missing, and the daily job waits.
    keyless = StripeGateway("", DEFAULT_WEBHOOK_SECRET, api_base=standin.url)
    payouts.use_gateway(keyless)
    try:
        ran = await client.api("POST", f"{A}/reconciliation-runs", {})
        assert ran.status_code == 409 and "STRIPE_API_KEY" in ran.json()["errors"][0]["message"]
        assert await reconciliation.reconcile(NOW) == 0
        assert await ReconciliationRun.all().count() == 0
    finally:
        payouts.use_gateway(gateway)
        await keyless.aclose()


async def test_the_pages_and_list_cost_the_same_at_3_and_30_differences(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, client: Any
) -> None:
    t = await trust(world)
    ada = await stripe_rep(t, gateway, standin, "Ada Able", "ada@people.example")
    assert ada.stripe_account_id
    await sign_in(client, "finance@trust.example")

    async def cost(n: int) -> dict[str, int]:
        for i in range(n - await ReconciliationItem.all().count()):
            await by_hand(
                gateway,
                f"stray-{n}-{i}",
                100 + i,
                ada.stripe_account_id or "",
                organisation_id=t.organisation_id,
            )
        await reconciliation.run_now(t.finance)
        assert await ReconciliationItem.filter(resolved_at__isnull=True).count() == n
        first = (await ReconciliationItem.all().order_by("id").first()).id  # type: ignore[union-attr]
        counts = {}
        for url in (
            "/finance/reconciliation",
            f"/finance/reconciliation/{first}",
            f"{A}/reconciliation-items",
            f"{A}/reconciliation-items/{first}",
        ):
            await client.get(url)
            async with counting() as statements:
                assert (await client.get(url)).status_code == 200
            counts[url] = statements.count
        return counts

    assert await cost(3) == await cost(30)
