"""Paying claims: Stripe onboarding, signed webhooks, pay runs made by the worker job, failures
and retries that never pay twice. The payroll export is tested in test_payroll.py.

Real database, the app in-process for webhooks, the real stripe library over real HTTP to the
Stripe stand-in, and a real SMTP server for the remittance emails.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from tortoise import connections

from coprod import clock
from coprod.domain.payouts import why_not_paid
from coprod.errors import Conflict, Forbidden
from coprod.integrations.stripe_gateway import StripeGateway
from coprod.models import (
    AttemptStatus,
    AuditEvent,
    Claim,
    ClaimLine,
    ClaimStatus,
    Expense,
    LineKind,
    Organisation,
    OutboxMessage,
    PaymentAttempt,
    Representative,
    Role,
    StripeEvent,
    User,
)
from coprod.services import auth, contracts, payouts, representatives, wellbeing
from coprod.services.actor import Actor
from tests.conftest import agree_to_contact, deliver_mail, postgres_only, sign_in
from tests.statements import counting
from tests.stripe_standin import DEFAULT_WEBHOOK_SECRET, Delivery, StripeStandIn, running_standin

WEBHOOK = "/api/v1/stripe/webhook"


def claims_from() -> dt.date:
    return clock.today() - dt.timedelta(days=30)


NOW = dt.datetime.now(dt.UTC)


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture
def standin() -> Iterator[StripeStandIn]:
    with running_standin() as s:
        yield s


@pytest.fixture
async def use_gateway(standin: StripeStandIn) -> AsyncIterator[Any]:
    """Point the payment services at the stand-in; `use_gateway(timeout=..., retries=...)`
    swaps in another gateway. All are closed and the services reset afterwards."""
    made: list[StripeGateway] = []

    def factory(**kwargs: Any) -> StripeGateway:
        options: dict[str, Any] = {
            "api_key": standin.api_key,
            "webhook_secret": DEFAULT_WEBHOOK_SECRET,
            "api_base": standin.url,
            "timeout": 5.0,
            "retries": 2,
            **kwargs,
        }
        gateway = StripeGateway(**options)
        made.append(gateway)
        payouts.use_gateway(gateway)
        return gateway

    yield factory
    payouts.use_gateway(None)
    standin.release_hangs()
    for gateway in made:
        await gateway.aclose()


@pytest.fixture
async def gateway(use_gateway: Any, standin: StripeStandIn, client: Any) -> StripeGateway:
    """The default gateway, with webhooks delivered to the app in-process."""
    standin.webhook_target(WEBHOOK, DEFAULT_WEBHOOK_SECRET, client=client.http)
    made: StripeGateway = use_gateway()
    return made


@dataclass
class Trust:
    lead: Actor
    finance: Actor
    organisation_id: int


async def trust(world: Any, name: str = "Northshire NHS Trust", slug: str = "trust") -> Trust:
    org = await world.org(name)
    lead = await world.user(org, f"lead@{slug}.example", Role.INVOLVEMENT_LEAD)
    finance = await world.user(org, f"finance@{slug}.example", Role.FINANCE_OFFICER)
    return Trust(
        lead=await auth.actor_for(lead, org.id),
        finance=await auth.actor_for(finance, org.id),
        organisation_id=org.id,
    )


async def new_rep(t: Trust, name: str, email: str | None = None, **fields: Any) -> Representative:
    data: dict[str, Any] = {
        "full_name": name,
        "representative_type": "patient",
        "phone": "01632 960 001",
        "contact_channels": ["phone"],
    }
    if email:
        data.update(email=email, contact_channels=["email"])
    rep = await representatives.create(t.lead, data)
    await agree_to_contact(t.lead, rep)
    await contracts.create(
        t.lead,
        rep,
        {"role_title": "Patient representative", "starts_on": claims_from().isoformat()},
    )
    for key, value in fields.items():
        setattr(rep, key, value)
    if fields:
        await rep.save(update_fields=list(fields))
    return rep


async def stripe_rep(
    t: Trust,
    gateway: StripeGateway,
    standin: StripeStandIn,
    name: str,
    email: str,
    *,
    onboarded: bool = True,
) -> Representative:
    """Someone paid by Stripe whose Express account exists in the stand-in (and is set up)."""
    rep = await new_rep(t, name, email, payout_method="stripe")
    account_id = await gateway.create_express_account(email=email, reference=f"test-{rep.id}")
    rep.stripe_account_id = account_id
    await rep.save(update_fields=["stripe_account_id"])
    if onboarded:
        await standin.complete_onboarding_async(account_id)
        await Representative.filter(id=rep.id).update(
            stripe_payouts_enabled=True, stripe_transfers_active=True
        )
    return await Representative.get(id=rep.id)


async def claim_of(
    rep: Representative,
    *,
    fee: int = 7000,
    status: ClaimStatus = ClaimStatus.APPROVED,
    expense: int | None = None,
    approved_expense: int | None = None,
    adjustment: int | None = None,
) -> Claim:
    claim = await Claim.create(
        organisation_id=rep.organisation_id,
        representative=rep,
        period_start=claims_from(),
        period_end=clock.today(),
        status=status,
    )
    await ClaimLine.create(
        claim=claim,
        kind=LineKind.FEE,
        day=claims_from() + dt.timedelta(days=3),
        minutes=300,
        band="day",
        amount_pence=fee,
        description="Full day: Service design workshop",
    )
    if adjustment is not None:
        await ClaimLine.create(
            claim=claim,
            kind=LineKind.ADJUSTMENT,
            amount_pence=adjustment,
            description="Correction",
        )
    if expense is not None:
        await Expense.create(
            claim=claim,
            kind="public_transport",
            day=claims_from() + dt.timedelta(days=3),
            amount_pence=expense,
            approved_pence=approved_expense,
        )
    return claim


async def reloaded(claim: Claim) -> Claim:
    return await Claim.get(id=claim.id)


def transfers_for(standin: StripeStandIn, claim: Claim) -> list[dict[str, Any]]:
    return [t for t in standin.transfers.values() if t["metadata"].get("claim_id") == str(claim.id)]


def received(delivery: Delivery) -> str:
    assert delivery.status == 200, (delivery.status, delivery.response_body, delivery.error)
    outcome: str = json.loads(delivery.response_body)["received"]
    return outcome


async def remittances() -> list[OutboxMessage]:
    return await OutboxMessage.filter(dedupe_key__endswith=":remittance")


# ---------------------------------------------------------------------------- onboarding


async def test_onboarding_makes_one_express_account_and_the_webhook_switches_payouts_on(
    world: Any, standin: StripeStandIn, gateway: StripeGateway
) -> None:
    t = await trust(world)
    rep = await new_rep(t, "Ada Able", "ada@people.example")

    link = await payouts.onboarding_link(t.lead, rep)

    rep = await Representative.get(id=rep.id)
    account_id = rep.stripe_account_id
    assert account_id is not None and account_id in standin.accounts
    assert link.startswith(f"{standin.url}/onboarding/{account_id}/")
    assert rep.payout_method == "stripe" and rep.stripe_payouts_enabled is False
    account = standin.accounts[account_id]
    assert account["type"] == "express" and account["email"] == "ada@people.example"
    assert account["metadata"] == {"coprod_ref": f"representative-{rep.id}"}
    assert standin.account_links[-1]["return_url"] == "http://testserver/my/payments?returned=1"

    # Asking again (finance, this time) reuses the account and makes a fresh link.
    again = await payouts.onboarding_link(t.finance, rep)
    assert again != link and again.startswith(f"{standin.url}/onboarding/{account_id}/")
    assert list(standin.accounts) == [account_id]
    assert len(standin.requests_to("/v1/accounts")) == 1
    assert await AuditEvent.filter(action="payout.stripe_account").count() == 1

    # A signed event claiming payouts are on is only a trigger: Stripe says they are not yet.
    early = await standin.send_event_async(
        "account.updated", {**account, "payouts_enabled": True}, account=account_id
    )
    assert received(early) == "account.updated"
    assert (await Representative.get(id=rep.id)).stripe_payouts_enabled is False

    event = await standin.complete_onboarding_async(account_id)

    assert received(standin.deliveries[-1]) == "account.updated"
    assert (await Representative.get(id=rep.id)).stripe_payouts_enabled is True
    assert await StripeEvent.filter(event_id=event["id"]).count() == 1
    assert await AuditEvent.filter(action="payout.enabled").count() == 1

    # Replays change nothing more: even if our record were changed since, they are not acted on.
    await Representative.filter(id=rep.id).update(stripe_payouts_enabled=False)
    replays = await standin.replay_async(event["id"], times=3)
    assert [received(d) for d in replays] == ["already handled"] * 3
    assert (await Representative.get(id=rep.id)).stripe_payouts_enabled is False
    assert await StripeEvent.filter(event_id=event["id"]).count() == 1
    assert await StripeEvent.all().count() == 2  # the early event and the onboarding one
    assert await AuditEvent.filter(action="payout.enabled").count() == 1


async def test_a_webhook_with_a_bad_signature_is_refused_and_nothing_is_recorded(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, client: Any
) -> None:
    t = await trust(world)
    rep = await stripe_rep(t, gateway, standin, "Bea Bold", "bea@people.example")
    await Representative.filter(id=rep.id).update(stripe_payouts_enabled=False)
    await StripeEvent.all().delete()
    assert rep.stripe_account_id is not None
    account = standin.accounts[rep.stripe_account_id]
    event = standin.record_event("account.updated", account, account=rep.stripe_account_id)
    body = json.dumps(event).encode()
    events_read = len(standin.requests_to(f"/v1/events/{event['id']}", "GET"))

    forged = standin.signature_header(body, secret="whsec_someone_else")
    tampered = json.dumps({**event, "id": "evt_forged"}).encode()
    for payload, signature in [
        (body, forged),
        (body, ""),
        (tampered, standin.signature_header(body)),
    ]:
        response = await client.http.post(
            WEBHOOK,
            content=payload,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        )
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "signature"
        assert "signature" in error["message"].lower()

    assert await StripeEvent.all().count() == 0
    assert (await Representative.get(id=rep.id)).stripe_payouts_enabled is False
    assert len(standin.requests_to(f"/v1/events/{event['id']}", "GET")) == events_read

    # The same body signed properly is acted on: the signature was the only thing wrong.
    good = await client.http.post(
        WEBHOOK, content=body, headers={"Stripe-Signature": standin.signature_header(body)}
    )
    assert good.status_code == 200, good.text
    assert (await Representative.get(id=rep.id)).stripe_payouts_enabled is True
    assert await StripeEvent.all().count() == 1


async def test_a_webhook_that_could_not_be_acted_on_is_acted_on_when_stripe_sends_it_again(
    world: Any, standin: StripeStandIn, gateway: StripeGateway
) -> None:
    t = await trust(world)
    rep = await stripe_rep(t, gateway, standin, "Bea Bold", "bea@people.example", onboarded=False)
    assert rep.stripe_account_id is not None
    # Stripe cannot be asked about the account just now (beyond the library's retries).
    standin.fail_next(f"/v1/accounts/{rep.stripe_account_id}", 500, times=3, method="GET")

    event = await standin.complete_onboarding_async(rep.stripe_account_id)

    assert standin.deliveries[-1].status != 200  # so Stripe will send it again
    assert (await Representative.get(id=rep.id)).stripe_payouts_enabled is False
    assert not await StripeEvent.filter(event_id=event["id"]).exists()

    [again] = await standin.replay_async(event["id"])

    assert received(again) == "account.updated"
    assert (await Representative.get(id=rep.id)).stripe_payouts_enabled is True
    assert await StripeEvent.filter(event_id=event["id"]).count() == 1


# ---------------------------------------------------------------------------- pay runs


async def test_a_pay_run_pays_each_approved_stripe_claim_once_with_one_remittance(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, mailbox: Any
) -> None:
    t = await trust(world)
    ada = await stripe_rep(t, gateway, standin, "Ada Able", "ada@people.example")
    due = await claim_of(ada, fee=7000, expense=500, approved_expense=380)
    submitted = await claim_of(ada, status=ClaimStatus.SUBMITTED)
    bob = await new_rep(
        t, "Bob Baker", "bob@people.example", payout_method="payroll", payroll_reference="PR-1"
    )
    by_payroll = await claim_of(bob)
    other = await trust(world, "Southshire NHS Trust", "south")
    elsewhere = await claim_of(
        await stripe_rep(other, gateway, standin, "Cy Young", "cy@people.example")
    )

    with pytest.raises(Forbidden):
        await payouts.start_pay_run(t.lead)
    queued = await payouts.start_pay_run(t.finance)

    [attempt] = queued
    assert attempt.claim_id == due.id
    assert attempt.status == AttemptStatus.PENDING and attempt.transfer_id is None
    assert attempt.amount_pence == 7380  # the fee and the approved expense
    assert attempt.idempotency_key == f"coprod-claim-{due.id}-0"
    assert await PaymentAttempt.all().count() == 1
    assert standin.transfers == {}  # a pay run only queues; the worker job pays
    assert await AuditEvent.filter(action="pay_run.start").count() == 1

    assert await payouts.process_payments(NOW) == 1

    [transfer] = standin.transfers.values()
    assert transfer["amount"] == 7380 and transfer["currency"] == "gbp"
    assert transfer["destination"] == ada.stripe_account_id
    assert transfer["metadata"] == {
        "claim_id": str(due.id),
        "organisation_id": str(t.organisation_id),
    }
    assert transfer["transfer_group"] == payouts.transfer_group(due.id)
    [request] = standin.requests_to("/v1/transfers")
    assert request.idempotency_key == attempt.idempotency_key
    paid = await reloaded(due)
    assert paid.status == ClaimStatus.PAID and paid.paid_at is not None
    stored = await PaymentAttempt.get(id=attempt.id)
    assert stored.status == AttemptStatus.SUCCEEDED and stored.transfer_id == transfer["id"]
    assert (await reloaded(submitted)).status == ClaimStatus.SUBMITTED
    assert (await reloaded(by_payroll)).status == ClaimStatus.APPROVED
    assert (await reloaded(elsewhere)).status == ClaimStatus.APPROVED

    # Nothing is left to do, and recording the payment again changes nothing.
    assert await payouts.process_payments(NOW) == 0
    await payouts.mark_paid(stored, transfer["id"])
    assert (await reloaded(due)).paid_at == paid.paid_at
    assert len(standin.transfers) == 1
    assert await AuditEvent.filter(action="payment.succeeded").count() == 1
    assert len(await remittances()) == 1

    assert await deliver_mail() == 1
    assert await deliver_mail() == 0
    [email] = mailbox.to("ada@people.example")
    assert email["Subject"] == "You have been paid £73.80"
    text = mailbox.text(email)
    assert f"claim {due.id}" in text and "Fees: £70.00" in text and "back: £3.80" in text
    assert len(mailbox.messages) == 1


async def test_someone_who_withdrew_consent_to_be_contacted_is_paid_without_a_remittance_email(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, mailbox: Any
) -> None:
    t = await trust(world)
    ada = await stripe_rep(t, gateway, standin, "Ada Able", "ada@people.example")
    wil = await stripe_rep(t, gateway, standin, "Wil Withdrew", "wil@people.example")
    await wellbeing.withdraw_consent(t.lead, wil, "contact")
    claims = [await claim_of(ada), await claim_of(wil)]
    await payouts.start_pay_run(t.finance)
    assert await payouts.process_payments(NOW) == 2
    assert [(await reloaded(c)).status for c in claims] == [ClaimStatus.PAID, ClaimStatus.PAID]
    await deliver_mail()
    assert [m["To"] for m in mailbox.messages] == ["ada@people.example"]


async def pay_three(t: Trust, gateway: StripeGateway, standin: StripeStandIn) -> list[Claim]:
    return [
        await claim_of(
            await stripe_rep(
                t, gateway, standin, name, f"{name.split()[0].lower()}@people.example"
            ),
            fee=fee,
        )
        for name, fee in [("Ann Able", 7000), ("Ben Bold", 3500), ("Cat Cole", 10500)]
    ]


async def replay_transfer_events(standin: StripeStandIn, *, concurrently: bool) -> list[str]:
    """Stripe tells us about every transfer, and then tells us three more times."""
    ids = [
        standin.record_event("transfer.created", transfer)["id"]
        for transfer in list(standin.transfers.values())
    ]
    if concurrently:
        deliveries = await asyncio.gather(
            *(standin.deliver_async(event_id) for event_id in ids for _ in range(4))
        )
    else:
        deliveries = [d for event_id in ids for d in await standin.replay_async(event_id, 4)]
    return [received(d) for d in deliveries]


async def assert_each_paid_once(
    claims: list[Claim], standin: StripeStandIn, mailbox: Any, outcomes: list[str]
) -> None:
    assert sorted(outcomes) == ["already handled"] * 9 + ["transfer.created"] * 3
    assert len(standin.transfers) == len(claims)
    for claim in claims:
        [transfer] = transfers_for(standin, claim)
        [attempt] = await PaymentAttempt.filter(claim_id=claim.id)
        assert attempt.status == AttemptStatus.SUCCEEDED
        assert transfer["id"] == attempt.transfer_id
        assert transfer["amount"] == attempt.amount_pence
        assert (await reloaded(claim)).status == ClaimStatus.PAID
    assert await StripeEvent.filter(type="transfer.created").count() == len(claims)
    assert await AuditEvent.filter(action="payment.succeeded").count() == len(claims)
    assert len(await remittances()) == len(claims)
    assert await deliver_mail() == len(claims)
    for address in ("ann@people.example", "ben@people.example", "cat@people.example"):
        assert len(mailbox.to(address)) == 1


async def test_two_pay_runs_and_replayed_webhooks_pay_each_claim_once(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, mailbox: Any
) -> None:
    t = await trust(world)
    claims = await pay_three(t, gateway, standin)

    assert len(await payouts.start_pay_run(t.finance)) == 3
    assert await payouts.start_pay_run(t.finance) == []
    assert await payouts.process_payments(NOW) == 3
    assert await payouts.process_payments(NOW) == 0
    outcomes = await replay_transfer_events(standin, concurrently=False)

    await assert_each_paid_once(claims, standin, mailbox, outcomes)


@postgres_only
async def test_concurrent_pay_runs_workers_and_webhooks_pay_each_claim_once(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, mailbox: Any
) -> None:
    t = await trust(world)
    claims = await pay_three(t, gateway, standin)
    # Open several pooled connections first, so the two runs really do overlap.
    db = connections.get("default")
    await asyncio.gather(*(db.execute_query("SELECT pg_sleep(0.05)") for _ in range(6)))

    runs = await asyncio.gather(payouts.start_pay_run(t.finance), payouts.start_pay_run(t.finance))
    assert sorted(len(r) for r in runs) == [0, 3]
    workers = await asyncio.gather(payouts.process_payments(NOW), payouts.process_payments(NOW))
    assert sum(workers) == 3
    outcomes = await replay_transfer_events(standin, concurrently=True)

    await assert_each_paid_once(claims, standin, mailbox, outcomes)


# ---------------------------------------------------------------------------- failures


async def test_a_500_then_success_makes_one_transfer(
    world: Any, standin: StripeStandIn, gateway: StripeGateway
) -> None:
    t = await trust(world)
    claim = await claim_of(await stripe_rep(t, gateway, standin, "Ada Able", "ada@people.example"))
    [attempt] = await payouts.start_pay_run(t.finance)
    standin.fail_next("/v1/transfers", 500)

    assert await payouts.process_payments(NOW) == 1

    requests = standin.requests_to("/v1/transfers")
    assert [r.status for r in requests] == [500, 200]
    assert {r.idempotency_key for r in requests} == {attempt.idempotency_key}
    assert len(transfers_for(standin, claim)) == len(standin.transfers) == 1
    assert (await reloaded(claim)).status == ClaimStatus.PAID


async def test_500s_beyond_the_retries_fail_retryably_and_a_retry_keeps_the_key(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, mailbox: Any
) -> None:
    t = await trust(world)
    claim = await claim_of(await stripe_rep(t, gateway, standin, "Ada Able", "ada@people.example"))
    [first] = await payouts.start_pay_run(t.finance)
    standin.fail_next("/v1/transfers", 500, times=3)  # the first try and the library's two

    assert await payouts.process_payments(NOW) == 0

    failed = await PaymentAttempt.get(id=first.id)
    assert failed.status == AttemptStatus.FAILED and failed.retryable is True
    assert failed.transfer_id is None
    assert failed.failure_reason == (
        "Stripe had a problem on its side. Trying again is safe and will not pay twice."
    )
    assert (await reloaded(claim)).status == ClaimStatus.FAILED
    assert standin.transfers == {}
    assert await AuditEvent.filter(action="payment.failed").count() == 1
    # A failed claim is not picked up again by the worker or by another pay run.
    assert await payouts.process_payments(NOW) == 0
    assert await payouts.start_pay_run(t.finance) == []
    assert len(standin.requests_to("/v1/transfers")) == 3

    with pytest.raises(Forbidden):
        await payouts.retry(t.lead, await reloaded(claim))
    again = await payouts.retry(t.finance, await reloaded(claim))

    assert again.id != first.id and again.status == AttemptStatus.PENDING
    assert again.idempotency_key == first.idempotency_key == f"coprod-claim-{claim.id}-0"
    assert (await reloaded(claim)).status == ClaimStatus.APPROVED
    with pytest.raises(Conflict, match="Only a claim whose payment failed"):
        await payouts.retry(t.finance, await reloaded(claim))

    assert await payouts.process_payments(NOW) == 1
    assert await payouts.process_payments(NOW) == 0
    [transfer] = standin.transfers.values()
    assert transfer["metadata"]["claim_id"] == str(claim.id)
    assert (await reloaded(claim)).status == ClaimStatus.PAID
    assert (await PaymentAttempt.get(id=again.id)).transfer_id == transfer["id"]
    assert await deliver_mail() == 1


async def test_a_definite_refusal_is_not_retryable_and_a_retry_after_onboarding_uses_a_new_key(
    world: Any, standin: StripeStandIn, gateway: StripeGateway
) -> None:
    t = await trust(world)
    rep = await stripe_rep(t, gateway, standin, "Ada Able", "ada@people.example", onboarded=False)
    # What we stored says the account can receive, but Stripe knows better and refuses.
    await Representative.filter(id=rep.id).update(
        stripe_payouts_enabled=True, stripe_transfers_active=True
    )
    claim = await claim_of(rep)
    no_account = await claim_of(await new_rep(t, "Ben Bold", payout_method="stripe"))
    assert len(await payouts.start_pay_run(t.finance)) == 2

    assert await payouts.process_payments(NOW) == 0

    [refused] = await PaymentAttempt.filter(claim_id=claim.id)
    assert refused.status == AttemptStatus.FAILED and refused.retryable is False
    assert refused.failure_reason == (
        "The representative's Stripe account cannot receive payments yet. They need to "
        "finish setting it up with Stripe (the onboarding link)."
    )
    assert (await reloaded(claim)).status == ClaimStatus.FAILED
    [not_set_up] = await PaymentAttempt.filter(claim_id=no_account.id)
    assert not_set_up.status == AttemptStatus.FAILED and not_set_up.retryable is False
    assert not_set_up.failure_reason == "They have not set up a Stripe account yet"
    assert (await reloaded(no_account)).status == ClaimStatus.FAILED
    assert standin.transfers == {}

    assert rep.stripe_account_id is not None
    await standin.complete_onboarding_async(rep.stripe_account_id)
    assert (await Representative.get(id=rep.id)).stripe_payouts_enabled is True

    again = await payouts.retry(t.finance, await reloaded(claim))

    assert again.idempotency_key == f"coprod-claim-{claim.id}-1" != refused.idempotency_key
    assert await payouts.process_payments(NOW) == 1
    [transfer] = standin.transfers.values()
    assert transfer["metadata"]["claim_id"] == str(claim.id)
    assert (await reloaded(claim)).status == ClaimStatus.PAID
    assert (await reloaded(no_account)).status == ClaimStatus.FAILED


async def test_a_lost_reply_fails_retryably_though_paid_and_the_retry_does_not_pay_twice(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, use_gateway: Any, mailbox: Any
) -> None:
    t = await trust(world)
    claim = await claim_of(await stripe_rep(t, gateway, standin, "Ada Able", "ada@people.example"))
    [first] = await payouts.start_pay_run(t.finance)
    use_gateway(timeout=0.5, retries=0)
    standin.hang_next("/v1/transfers", seconds=10, method="POST", lose_reply=True)

    assert await payouts.process_payments(NOW) == 0

    failed = await PaymentAttempt.get(id=first.id)
    assert failed.status == AttemptStatus.FAILED and failed.retryable is True
    assert failed.failure_reason is not None
    assert "may or may not have gone through" in failed.failure_reason
    assert (await reloaded(claim)).status == ClaimStatus.FAILED
    [made] = standin.transfers.values()  # Stripe did make it; only the reply was lost
    standin.release_hangs()
    standin.wait_idle()

    again = await payouts.retry(t.finance, await reloaded(claim))
    assert again.idempotency_key == first.idempotency_key

    assert await payouts.process_payments(NOW) == 1

    assert list(standin.transfers) == [made["id"]]
    # The outcome of the first try was unknown, so the retry looked in Stripe by the claim's
    # transfer group, found the transfer, and sent nothing.
    assert [r.replayed for r in standin.requests_to("/v1/transfers")] == [False]
    assert len(standin.requests_to("/v1/transfers", method="GET")) == 1
    assert (await PaymentAttempt.get(id=again.id)).transfer_id == made["id"]
    assert (await reloaded(claim)).status == ClaimStatus.PAID
    assert await deliver_mail() == 1
    assert len(mailbox.to("ada@people.example")) == 1


async def test_a_lost_reply_is_settled_by_stripes_transfer_webhook(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, use_gateway: Any, mailbox: Any
) -> None:
    t = await trust(world)
    claim = await claim_of(await stripe_rep(t, gateway, standin, "Ada Able", "ada@people.example"))
    [attempt] = await payouts.start_pay_run(t.finance)
    use_gateway(timeout=0.5, retries=0)
    standin.hang_next("/v1/transfers", seconds=10, method="POST")
    assert await payouts.process_payments(NOW) == 0
    assert (await reloaded(claim)).status == ClaimStatus.FAILED
    standin.release_hangs()
    standin.wait_idle()
    [made] = standin.transfers.values()

    delivery = await standin.send_event_async("transfer.created", made)

    assert received(delivery) == "transfer.created"
    paid = await reloaded(claim)
    assert paid.status == ClaimStatus.PAID and paid.paid_at is not None
    settled = await PaymentAttempt.get(id=attempt.id)
    assert settled.status == AttemptStatus.SUCCEEDED and settled.transfer_id == made["id"]
    with pytest.raises(Conflict):
        await payouts.retry(t.finance, paid)
    assert await payouts.process_payments(NOW) == 0
    assert list(standin.transfers) == [made["id"]]
    assert await deliver_mail() == 1
    assert len(mailbox.to("ada@people.example")) == 1


async def test_a_webhook_during_a_lost_reply_is_not_undone_by_the_timeout(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, use_gateway: Any
) -> None:
    t = await trust(world)
    claim = await claim_of(await stripe_rep(t, gateway, standin, "Ada Able", "ada@people.example"))
    [attempt] = await payouts.start_pay_run(t.finance)
    use_gateway(timeout=2.0, retries=0)
    standin.hang_next("/v1/transfers", seconds=10, method="POST")
    worker = asyncio.create_task(payouts.process_payments(NOW))
    for _ in range(100):
        if standin.transfers:
            break
        await asyncio.sleep(0.01)
    [made] = standin.transfers.values()

    # Stripe's webhook arrives while the worker is still waiting for the reply.
    assert received(await standin.send_event_async("transfer.created", made)) == "transfer.created"
    assert not worker.done()
    assert await worker == 0

    settled = await PaymentAttempt.get(id=attempt.id)
    assert settled.status == AttemptStatus.SUCCEEDED and settled.transfer_id == made["id"]
    assert (await reloaded(claim)).status == ClaimStatus.PAID
    assert list(standin.transfers) == [made["id"]]


async def test_a_reversed_transfer_does_not_mark_a_claim_paid(
    world: Any, standin: StripeStandIn, gateway: StripeGateway
) -> None:
    t = await trust(world)
    rep = await stripe_rep(t, gateway, standin, "Ada Able", "ada@people.example")
    claim = await claim_of(rep)
    await payouts.start_pay_run(t.finance)
    # Someone pays it by hand in Stripe and reverses it before our worker gets to it.
    transfer = await gateway.transfer(
        amount_pence=7000,
        account_id=rep.stripe_account_id or "",
        idempotency_key="by-hand",
        description="By hand",
        metadata={"claim_id": str(claim.id)},
        transfer_group=payouts.transfer_group(claim.id),
    )
    event = standin.reverse_transfer(transfer.id)

    [delivery] = await standin.replay_async(event["id"])

    assert received(delivery) == "transfer.reversed"
    assert (await reloaded(claim)).status == ClaimStatus.APPROVED
    assert await OutboxMessage.all().count() == 0


@pytest.mark.parametrize(
    ("method", "under_way", "expected"),
    [
        ("stripe", False, None),
        (
            None,
            False,
            "No payment method chosen: ask Sam Okafor to choose how they are paid, "
            "or record payroll for them",
        ),
        ("payroll", False, "Paid through payroll: export the payroll claims to pay it"),
        (
            "stripe",
            True,
            "A payment is already under way: it goes out within a minute, so nothing to do",
        ),
    ],
)
def test_why_a_pay_run_leaves_a_claim_unpaid(
    method: str | None, under_way: bool, expected: str | None
) -> None:
    assert (
        why_not_paid(name="Sam Okafor", payout_method=method, payment_under_way=under_way)
        == expected
    )


async def test_a_pay_run_says_why_each_approved_claim_was_not_paid(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, client: Any
) -> None:
    t = await trust(world)
    paid = await claim_of(await stripe_rep(t, gateway, standin, "Ada Able", "ada@people.example"))
    sam = await new_rep(t, "Sam Okafor")
    undecided = await claim_of(sam)
    payroll = await claim_of(
        await new_rep(t, "Pat Green", payout_method="payroll", payroll_reference="P-1")
    )
    await claim_of(sam, status=ClaimStatus.SUBMITTED)  # not approved yet: not a pay run's business
    await sign_in(client, "finance@trust.example")

    response = await client.api("POST", "/api/v1/pay-runs", {})
    assert response.status_code == 201, response.text
    assert [a["claim_id"] for a in response.json()["items"]] == [paid.id]
    assert {n["claim_id"]: n["reason"] for n in response.json()["not_paid"]} == {
        undecided.id: "No payment method chosen: ask Sam Okafor to choose how they are paid, "
        "or record payroll for them",
        payroll.id: "Paid through payroll: export the payroll claims to pay it",
    }
    assert {n["representative_id"] for n in response.json()["not_paid"]} == {
        sam.id,
        payroll.representative_id,
    }

    again = await client.post_form("/finance", {"action": "pay_run"}, token_from="/finance")
    assert again.status_code == 200
    assert "0 payments queued" in again.text
    assert "No payment method chosen: ask Sam Okafor to choose how they are paid" in again.text
    assert "A payment is already under way" in again.text
    assert f'href="/claims/{paid.id}"' in again.text


async def test_a_missing_stripe_key_is_shown_to_administrators_never_to_representatives(
    world: Any, client: Any, make_client: Any
) -> None:
    t = await trust(world)  # no gateway: the settings' Stripe key is empty
    org = await Organisation.get(id=t.organisation_id)
    await world.user(org, "admin@trust.example", Role.ORG_ADMIN)
    rep = await new_rep(t, "Ada Able", "ada@people.example")
    ada = make_client()
    ada.http.cookies.set(
        "coprod_session", await auth.start_session(await User.get(email="ada@people.example"))
    )
    kind = (
        "Payment set-up is not available yet. "
        "Your involvement lead will tell you how you will be paid."
    )

    mine = await ada.get("/my/payments")
    assert kind in mine.text
    assert "Set up bank transfer" not in mine.text and "STRIPE_API_KEY" not in mine.text
    refused = await ada.post_form("/my/payments", {"action": "stripe"}, token_from="/my/payments")
    assert refused.status_code == 422 and kind in refused.text
    assert "STRIPE_API_KEY" not in refused.text and "Stripe key" not in refused.text
    assert (await Representative.get(id=rep.id)).stripe_account_id is None

    # A pay run made anyway fails with the set-up problem, which the person never sees.
    await Representative.filter(id=rep.id).update(
        payout_method="stripe",
        stripe_account_id="acct_1Example",
        stripe_payouts_enabled=True,
        stripe_transfers_active=True,
    )
    claim = await claim_of(rep)
    await payouts.start_pay_run(t.finance)
    try:
        assert await payouts.process_payments(NOW) == 0
    finally:
        payouts.use_gateway(None)
    [attempt] = await PaymentAttempt.filter(claim_id=claim.id)
    assert attempt.failure_reason is not None and "STRIPE_API_KEY" in attempt.failure_reason
    theirs = await ada.get(f"/my/claims/{claim.id}")
    assert "The payment has not gone through yet" in theirs.text
    assert "STRIPE_API_KEY" not in theirs.text and "Stripe key" not in theirs.text

    await sign_in(client, "finance@trust.example")
    assert "the Stripe key (STRIPE_API_KEY) is empty" in (await client.get("/finance")).text
    admin = make_client()
    await sign_in(admin, "admin@trust.example")
    assert "the Stripe key (STRIPE_API_KEY) is empty" in (await admin.get("/")).text


async def test_a_lead_corrects_a_paid_claim_in_pounds(world: Any, client: Any) -> None:
    t = await trust(world)
    paid = await claim_of(await new_rep(t, "Ada Able"), status=ClaimStatus.PAID)
    await sign_in(client, "lead@trust.example")
    page = f"/claims/{paid.id}"
    assert "Correction in pounds" in (await client.get(page)).text
    for typed, message in (
        ("-12.345", "The correction must be in pounds and pence, like 12.50"),
        ("twelve", "Enter the correction in pounds, like 12.50"),
        ("0", "Enter a correction other than 0"),
    ):
        refused = await client.post_form(
            f"{page}/correct", {"amount": typed, "reason": "Overpaid"}, token_from=page
        )
        assert refused.status_code == 422 and message in refused.text, typed
    assert await Claim.all().count() == 1
    made = await client.post_form(
        f"{page}/correct", {"amount": "-12.50", "reason": "Overpaid"}, token_from=page
    )
    assert made.status_code == 303
    [line] = await ClaimLine.filter(kind=LineKind.ADJUSTMENT)
    assert line.amount_pence == -1250 and line.claim_id != paid.id


# ---------------------------------------------------------------------------- batches


async def test_in_a_batch_a_refused_transfer_fails_alone_and_the_rest_are_paid_once(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, mailbox: Any
) -> None:
    t = await trust(world)
    people = [
        await stripe_rep(t, gateway, standin, f"Person {i}", f"person{i}@people.example")
        for i in range(5)
    ]
    # Not yet set up on Stripe's side, though what we stored says it is: the transfer is
    # refused, and nothing is paid.
    unready = await stripe_rep(
        t, gateway, standin, "Una Ready", "una@people.example", onboarded=False
    )
    await Representative.filter(id=unready.id).update(
        stripe_payouts_enabled=True, stripe_transfers_active=True
    )
    claims = [await claim_of(rep) for rep in people]
    refused = await claim_of(unready)
    assert len(await payouts.start_pay_run(t.finance)) == 6

    async with counting() as statements:
        assert await payouts.process_payments(NOW) == 5
    # The batch's five payments are recorded together: the attempts, the claims and the audit
    # events each in one statement (and the refused one's audit event on its own).
    sql = statements.sql
    assert sum(s.startswith('UPDATE "payment_attempt" SET "status"=CASE') for s in sql) == 1
    assert sum(s.startswith('UPDATE "claim" SET') and '"paid_at"' in s for s in sql) == 1
    assert sum(s.startswith('INSERT INTO "audit_event"') for s in sql) == 2

    for claim in claims:
        assert len(transfers_for(standin, claim)) == 1
        assert (await reloaded(claim)).status == ClaimStatus.PAID
    assert transfers_for(standin, refused) == []
    assert (await reloaded(refused)).status == ClaimStatus.FAILED
    assert await AuditEvent.filter(action="payment.succeeded").count() == 5
    assert await AuditEvent.filter(action="payment.failed").count() == 1
    remittances = await OutboxMessage.filter(dedupe_key__startswith="claim:").values_list(
        "dedupe_key", flat=True
    )
    assert sorted(remittances) == sorted(f"claim:{c.id}:remittance" for c in claims)
    # Nothing left for a second pass to pay again.
    assert await payouts.process_payments(NOW) == 0
    assert len(standin.transfers) == 5


async def test_a_transfer_recorded_twice_at_once_is_audited_and_remitted_once(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, mailbox: Any
) -> None:
    t = await trust(world)
    claim = await claim_of(await stripe_rep(t, gateway, standin, "Ada Able", "ada@people.example"))
    [attempt] = await payouts.start_pay_run(t.finance)
    assert await payouts.process_payments(NOW) == 1
    [transfer] = standin.transfers.values()
    await Claim.filter(id=claim.id).update(status=ClaimStatus.APPROVED)  # as if not yet recorded
    await AuditEvent.filter(action="payment.succeeded").delete()

    # The worker and a webhook record the same transfer at the same moment.
    copies = [await PaymentAttempt.get(id=attempt.id) for _ in range(2)]
    await asyncio.gather(*(payouts.mark_paid(copy, transfer["id"]) for copy in copies))

    assert (await reloaded(claim)).status == ClaimStatus.PAID
    assert await AuditEvent.filter(action="payment.succeeded").count() == 1
    assert await OutboxMessage.filter(dedupe_key=f"claim:{claim.id}:remittance").count() == 1
