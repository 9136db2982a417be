"""What becomes of a claim's money after a pay run: held while their Stripe account cannot take
it, transferred, paid out to their bank or returned by it, and reversed; and never paid twice,
even when a worker dies mid-payment or a retry comes after Stripe has forgotten its key.

Real database, the app in-process for webhooks, the real stripe library over real HTTP to the
Stripe stand-in, and a real SMTP server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tortoise import connections

from coprod import clock, worker
from coprod.config import get_settings
from coprod.domain import pay
from coprod.domain.payouts import PAYOUT_FAILED_ACTION, REVERSED_ACTION, why_held
from coprod.domain.reporting import financial_year, financial_year_of
from coprod.errors import Conflict
from coprod.integrations.stripe_gateway import StripeGateway
from coprod.models import (
    AttemptStatus,
    AuditEvent,
    Claim,
    ClaimStatus,
    Involvement,
    MoneyState,
    OutboxMessage,
    PaymentAttempt,
    Representative,
)
from coprod.services import earnings, payouts, payroll, reminders, reports
from tests import test_payouts
from tests.conftest import BACKEND, DATABASE_URL, deliver_mail, postgres_only, sign_in
from tests.involvement import took_part
from tests.stripe_standin import DEFAULT_WEBHOOK_SECRET, StripeStandIn
from tests.test_payouts import (
    NOW,
    Trust,
    claim_of,
    claims_from,
    received,
    reloaded,
    stripe_rep,
    transfers_for,
    trust,
)

# The payment tests' fixtures: the Stripe stand-in and gateways pointed at it.
standin = test_payouts.standin
use_gateway = test_payouts.use_gateway
gateway = test_payouts.gateway

HELD_REASON = "Bank details need attention: Ada Able needs to finish or update their Stripe set-up"


@pytest.fixture
def stale_soon(monkeypatch: pytest.MonkeyPatch) -> Iterator[float]:
    """An attempt left in progress is taken again after half a second."""
    monkeypatch.setenv("PAYMENT_STALE_SECONDS", "1")
    get_settings.cache_clear()
    yield 1.0
    monkeypatch.delenv("PAYMENT_STALE_SECONDS")
    get_settings.cache_clear()


def live_transfers(standin: StripeStandIn, claim: Claim) -> list[dict[str, Any]]:
    return [t for t in transfers_for(standin, claim) if not t["reversed"]]


async def paid_claim(
    t: Trust, gateway: StripeGateway, standin: StripeStandIn, name: str = "Ada Able"
) -> tuple[Claim, Representative, dict[str, Any]]:
    rep = await stripe_rep(t, gateway, standin, name, "ada@people.example")
    claim = await claim_of(rep)
    await payouts.start_pay_run(t.finance)
    assert await payouts.process_payments(NOW) == 1
    [transfer] = transfers_for(standin, claim)
    return claim, rep, transfer


# ---------------------------------------------------------------------------- point 2: held


@pytest.mark.parametrize(
    ("transfers_active", "payouts_enabled", "held"),
    [
        (True, True, False),
        (True, False, True),  # Stripe would accept it, but it would sit in their balance
        (False, True, True),  # Stripe would refuse it
        (False, False, True),
    ],
)
def test_a_payment_is_held_unless_the_account_can_receive_and_pay_out(
    transfers_active: bool, payouts_enabled: bool, held: bool
) -> None:
    reason = why_held(
        name="Ada Able", transfers_active=transfers_active, payouts_enabled=payouts_enabled
    )
    assert reason == (HELD_REASON if held else None)


async def test_a_payment_to_an_account_that_cannot_receive_waits_and_goes_once_it_can(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, mailbox: Any
) -> None:
    t = await trust(world)
    rep = await stripe_rep(t, gateway, standin, "Ada Able", "ada@people.example", onboarded=False)
    claim = await claim_of(rep)
    [attempt] = await payouts.start_pay_run(t.finance)

    assert await payouts.process_payments(NOW) == 0
    assert await payouts.process_payments(NOW) == 0

    held = await PaymentAttempt.get(id=attempt.id)
    assert held.status == AttemptStatus.HELD and held.transfer_id is None
    waiting = await reloaded(claim)
    assert waiting.status == ClaimStatus.APPROVED and waiting.money == MoneyState.HELD
    assert waiting.money_reason == HELD_REASON
    assert standin.requests_to("/v1/transfers") == []
    assert await AuditEvent.filter(action="payment.held").count() == 1
    # A second pay run neither queues it again nor hides why it waits.
    run = await payouts.pay_run(t.finance)
    assert run.queued == [] and [n.reason for n in run.not_paid] == [HELD_REASON]
    # Told once, in plain words, that the money is safe and what to do.
    assert await deliver_mail() == 1
    [email] = mailbox.to("ada@people.example")
    body = email.get_body(("plain",)).get_content()
    assert "your Stripe account needs attention" in body and "Your money is safe" in body

    assert rep.stripe_account_id is not None
    await standin.complete_onboarding_async(rep.stripe_account_id)
    assert received(standin.deliveries[-1]) == "account.updated"

    stored = await Representative.get(id=rep.id)
    assert stored.stripe_transfers_active is True and stored.stripe_payouts_enabled is True
    assert (await PaymentAttempt.get(id=attempt.id)).status == AttemptStatus.PENDING
    assert (await reloaded(claim)).money == MoneyState.NONE
    assert await payouts.process_payments(NOW) == 1
    [transfer] = transfers_for(standin, claim)
    assert transfer["transfer_group"] == payouts.transfer_group(claim.id)
    paid = await reloaded(claim)
    assert paid.status == ClaimStatus.PAID and paid.money == MoneyState.TRANSFERRED
    assert (await PaymentAttempt.get(id=attempt.id)).destination_payment == (
        transfer["destination_payment"]
    )


async def test_payouts_switched_off_by_stripe_hold_the_next_payment(
    world: Any, standin: StripeStandIn, gateway: StripeGateway
) -> None:
    t = await trust(world)
    rep = await stripe_rep(t, gateway, standin, "Ada Able", "ada@people.example")
    assert rep.stripe_account_id is not None
    await standin.update_account_async(rep.stripe_account_id, payouts_enabled=False)
    stored = await Representative.get(id=rep.id)
    assert stored.stripe_payouts_enabled is False and stored.stripe_transfers_active is True
    claim = await claim_of(rep)
    await payouts.start_pay_run(t.finance)

    assert await payouts.process_payments(NOW) == 0

    assert (await reloaded(claim)).money == MoneyState.HELD
    assert standin.transfers == {}


# ---------------------------------------------------------------------------- point 3: states


async def test_payout_paid_then_a_failed_one_and_a_later_payout_settle_the_claim(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, mailbox: Any
) -> None:
    t = await trust(world)
    claim, rep, transfer = await paid_claim(t, gateway, standin)
    account = rep.stripe_account_id
    assert account is not None

    # Their bank returns the payout: the money is back in their Stripe balance.
    failed = await standin.pay_out_async(account, fail_with="account_closed")

    problem = await reloaded(claim)
    assert problem.status == ClaimStatus.PAYMENT_PROBLEM
    assert problem.money == MoneyState.PAYOUT_FAILED
    assert problem.money_reason is not None and PAYOUT_FAILED_ACTION in problem.money_reason
    attempt = await PaymentAttempt.get(claim_id=claim.id)
    assert attempt.status == AttemptStatus.SUCCEEDED and attempt.payout_id == failed["id"]
    assert await AuditEvent.filter(action="payment.payout_failed").count() == 1
    # A late event about the transfer does not make it paid again.
    assert received(await standin.send_event_async("transfer.created", transfer)) == (
        "transfer.created"
    )
    assert (await reloaded(claim)).status == ClaimStatus.PAYMENT_PROBLEM
    # The account.updated that came with it switched their payouts off.
    assert (await Representative.get(id=rep.id)).stripe_payouts_enabled is False
    # The money is in their balance: paying again would pay twice.
    with pytest.raises(Conflict, match="paying again would pay twice"):
        await payouts.retry(t.finance, problem)
    rows = await earnings.statement(t.finance, rep, pay.tax_year_of(clock.today()))
    assert rows == []
    await deliver_mail()
    [_, returned] = mailbox.to("ada@people.example")
    assert "your bank sent it back" in returned.get_body(("plain",)).get_content()

    # They fix their bank details; Stripe pays the balance out again.
    await standin.update_account_async(account, payouts_enabled=True)
    await standin.pay_out_async(account)

    settled = await reloaded(claim)
    assert settled.status == ClaimStatus.PAID and settled.money == MoneyState.PAID_OUT
    assert len(standin.transfers) == 1
    rows = await earnings.statement(t.finance, rep, pay.tax_year_of(clock.today()))
    assert [r.claim_id for r in rows] == [claim.id]


async def test_a_payout_paid_marks_the_money_in_their_bank(
    world: Any, standin: StripeStandIn, gateway: StripeGateway
) -> None:
    t = await trust(world)
    claim, rep, _ = await paid_claim(t, gateway, standin)
    assert rep.stripe_account_id is not None
    payout = await standin.pay_out_async(rep.stripe_account_id)

    paid_out = await reloaded(claim)
    assert paid_out.status == ClaimStatus.PAID and paid_out.money == MoneyState.PAID_OUT
    assert (await PaymentAttempt.get(claim_id=claim.id)).payout_id == payout["id"]
    # Replayed: nothing more happens.
    await standin.replay_async(list(standin.events)[-1])
    assert await AuditEvent.filter(action="payment.paid_out").count() == 1


async def involved(t: Trust, rep: Representative) -> Involvement:
    """The report row of the day the test claims are for."""
    return await Involvement.create(
        organisation_id=t.organisation_id,
        representative_id=rep.id,
        representative_type="patient",
        kind="activity",
        mode="in_person",
        day=claims_from() + dt.timedelta(days=3),
        minutes=300,
    )


async def test_a_batch_of_payments_costs_each_persons_involvement_of_the_day_once(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, mailbox: Any
) -> None:
    t = await trust(world)
    day = claims_from() + dt.timedelta(days=3)
    people = [
        await stripe_rep(t, gateway, standin, name, f"{name.split()[0].lower()}@people.example")
        for name in ("Ada Able", "Ben Bold", "Cy Young")
    ]
    for rep in people:
        await took_part(t, rep, day, minutes=120, category="co_design")
    # Ada took part twice that day: her day's fee is shared between the two, by time.
    await took_part(t, people[0], day, minutes=360, category="co_evaluation")
    for rep in people:
        await claim_of(rep)
    period = financial_year(financial_year_of(day))
    await payouts.start_pay_run(t.finance)

    assert await payouts.process_payments(NOW) == 3  # one batch

    fees = {
        (row.representative_id, row.minutes): row.fee_pence
        for row in await Involvement.filter(day=day)
    }
    ada, ben, cy = (rep.id for rep in people)
    assert fees == {(ada, 120): 1750, (ada, 360): 5250, (ben, 120): 7000, (cy, 120): 7000}
    report = await reports.organisation_report(t.finance, period)
    assert report.spend["fees_pence"] == 21000
    by_category = {row["key"]: row["fees_pence"] for row in report.by_category}
    assert by_category["co_design"] == 1750 + 7000 + 7000
    assert by_category["co_evaluation"] == 5250
    # Paid once: the roll-ups do not count them again when the worker looks once more.
    assert await payouts.process_payments(NOW) == 0
    assert (await reports.organisation_report(t.finance, period)).spend["fees_pence"] == 21000


async def test_a_reversed_transfer_unpays_the_claim_and_paying_again_makes_one_new_transfer(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, mailbox: Any
) -> None:
    t = await trust(world)
    rep = await stripe_rep(t, gateway, standin, "Ada Able", "ada@people.example")
    day = claims_from() + dt.timedelta(days=3)
    await took_part(t, rep, day)  # a payments Trust will do: only its lead is used
    [involvement] = await Involvement.filter(representative_id=rep.id)
    claim = await claim_of(rep)
    period = financial_year(financial_year_of(day))

    async def report_fees() -> int:
        report = await reports.organisation_report(t.finance, period)
        return int(report.spend["fees_pence"])

    await payouts.start_pay_run(t.finance)
    assert await report_fees() == 0  # approved is not spent
    assert await payouts.process_payments(NOW) == 1
    [transfer] = transfers_for(standin, claim)
    # Counted as spend once the money went out.
    assert (await Involvement.get(id=involvement.id)).fee_pence == 7000
    assert await report_fees() == 7000
    tax_year = pay.tax_year_of(clock.today())
    assert len(await earnings.statement(t.finance, rep, tax_year)) == 1

    await standin.reverse_transfer_async(transfer["id"])

    reversed_ = await reloaded(claim)
    assert reversed_.status == ClaimStatus.PAYMENT_PROBLEM
    assert reversed_.money == MoneyState.REVERSED and reversed_.money_reason == REVERSED_ACTION
    [attempt] = await PaymentAttempt.filter(claim_id=claim.id)
    assert attempt.status == AttemptStatus.REVERSED and attempt.transfer_id == transfer["id"]
    assert await AuditEvent.filter(action="payment.reversed").count() == 1
    assert await earnings.statement(t.finance, rep, tax_year) == []
    assert (await Involvement.get(id=involvement.id)).fee_pence == 0
    assert await report_fees() == 0
    await deliver_mail()
    assert any(
        "taken back before it reached you" in m.get_body(("plain",)).get_content()
        for m in mailbox.to("ada@people.example")
    )
    # Replayed, nothing more.
    await standin.replay_async(list(standin.events)[-1])
    assert await AuditEvent.filter(action="payment.reversed").count() == 1

    again = await payouts.retry(t.finance, reversed_)

    assert again.idempotency_key == f"coprod-claim-{claim.id}-1" != attempt.idempotency_key
    assert await payouts.process_payments(NOW) == 1
    [live] = live_transfers(standin, claim)
    assert live["id"] != transfer["id"]
    assert live["transfer_group"] == transfer["transfer_group"]
    paid = await reloaded(claim)
    assert paid.status == ClaimStatus.PAID and paid.money == MoneyState.TRANSFERRED
    assert len(await earnings.statement(t.finance, rep, tax_year)) == 1
    assert (await Involvement.get(id=involvement.id)).fee_pence == 7000
    assert await report_fees() == 7000


# ---------------------------------------------------------------------------- point 4: never twice


async def test_a_lost_reply_retried_after_stripe_forgot_the_key_does_not_pay_twice(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, use_gateway: Any
) -> None:
    t = await trust(world)
    rep = await stripe_rep(t, gateway, standin, "Ada Able", "ada@people.example")
    claim = await claim_of(rep)
    [first] = await payouts.start_pay_run(t.finance)
    use_gateway(timeout=0.5, retries=0)
    standin.hang_next("/v1/transfers", seconds=10, method="POST", lose_reply=True)
    assert await payouts.process_payments(NOW) == 0
    standin.release_hangs()
    standin.wait_idle()
    [made] = standin.transfers.values()
    # A day later, Stripe no longer knows the key: sending it again would make a new transfer.
    standin.advance(25 * 3600)
    again = await payouts.retry(t.finance, await reloaded(claim))
    assert again.idempotency_key == first.idempotency_key

    assert await payouts.process_payments(NOW) == 1

    assert list(standin.transfers) == [made["id"]]
    assert (await reloaded(claim)).status == ClaimStatus.PAID
    assert (await PaymentAttempt.get(id=again.id)).transfer_id == made["id"]


async def test_the_group_lookup_failing_sends_nothing_and_the_retry_pays_once(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, use_gateway: Any
) -> None:
    t = await trust(world)
    claim = await claim_of(await stripe_rep(t, gateway, standin, "Ada Able", "ada@a.example"))
    await payouts.start_pay_run(t.finance)
    use_gateway(timeout=0.5, retries=0)
    standin.fail_next("/v1/transfers", 500, method="POST")
    assert await payouts.process_payments(NOW) == 0
    assert (await reloaded(claim)).status == ClaimStatus.FAILED
    await payouts.retry(t.finance, await reloaded(claim))
    standin.fail_next("/v1/transfers", 500, method="GET")

    assert await payouts.process_payments(NOW) == 0

    assert standin.transfers == {}
    assert (await reloaded(claim)).status == ClaimStatus.FAILED
    await payouts.retry(t.finance, await reloaded(claim))
    assert await payouts.process_payments(NOW) == 1
    assert len(live_transfers(standin, claim)) == 1
    assert (await reloaded(claim)).status == ClaimStatus.PAID


async def _fail_recording_once() -> None:
    """Make the database refuse to record a transfer as made, as a database that fails between
    Stripe's reply and our commit would."""
    client = connections.get("default")
    if BACKEND == "postgres":
        await client.execute_script(
            "CREATE OR REPLACE FUNCTION refuse_paid() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'database unavailable'; END; $$ LANGUAGE plpgsql; "
            "CREATE TRIGGER refuse_paid BEFORE UPDATE ON payment_attempt FOR EACH ROW "
            "WHEN (NEW.status = 'succeeded') EXECUTE FUNCTION refuse_paid();"
        )
    else:
        await client.execute_script(
            "CREATE TRIGGER refuse_paid BEFORE UPDATE ON payment_attempt "
            "WHEN NEW.status = 'succeeded' BEGIN SELECT RAISE(ABORT, 'database unavailable'); END;"
        )


async def _database_back() -> None:
    client = connections.get("default")
    if BACKEND == "postgres":
        await client.execute_script("DROP TRIGGER refuse_paid ON payment_attempt")
    else:
        await client.execute_script("DROP TRIGGER refuse_paid")


async def test_a_transfer_made_but_not_recorded_is_found_in_stripe_once_stale(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, stale_soon: float
) -> None:
    t = await trust(world)
    claim = await claim_of(await stripe_rep(t, gateway, standin, "Ada Able", "ada@a.example"))
    [attempt] = await payouts.start_pay_run(t.finance)
    await _fail_recording_once()
    with pytest.raises(Exception, match="database unavailable"):
        await payouts.process_payments(NOW)
    await _database_back()
    [made] = standin.transfers.values()
    stuck = await PaymentAttempt.get(id=attempt.id)
    assert stuck.status == AttemptStatus.PENDING and stuck.transfer_id == payouts.IN_PROGRESS
    # Not taken again while its worker might still be at it.
    assert await payouts.process_payments(NOW) == 0

    await asyncio.sleep(stale_soon + 0.2)
    assert await payouts.process_payments(NOW) == 1

    assert list(standin.transfers) == [made["id"]]
    assert len(standin.requests_to("/v1/transfers")) == 1  # looked, did not send again
    settled = await PaymentAttempt.get(id=attempt.id)
    assert settled.status == AttemptStatus.SUCCEEDED and settled.transfer_id == made["id"]
    assert settled.tries == 2
    assert (await reloaded(claim)).status == ClaimStatus.PAID


async def test_a_transfer_reversed_before_we_recorded_it_is_not_paid_blindly(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, stale_soon: float
) -> None:
    t = await trust(world)
    claim = await claim_of(await stripe_rep(t, gateway, standin, "Ada Able", "ada@a.example"))
    await payouts.start_pay_run(t.finance)
    await _fail_recording_once()
    with pytest.raises(Exception, match="database unavailable"):
        await payouts.process_payments(NOW)
    await _database_back()
    [made] = standin.transfers.values()
    standin.reverse_transfer(made["id"])  # no webhook target: we only learn by looking
    await asyncio.sleep(stale_soon + 0.2)

    assert await payouts.process_payments(NOW) == 0

    assert list(standin.transfers) == [made["id"]]
    problem = await reloaded(claim)
    assert problem.status == ClaimStatus.PAYMENT_PROBLEM and problem.money == MoneyState.REVERSED


@pytest.mark.parametrize(("path", "method"), [("/v1/accounts", "GET"), ("/v1/events", "GET")])
async def test_a_webhook_whose_rereading_fails_is_acted_on_when_sent_again(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, path: str, method: str
) -> None:
    t = await trust(world)
    rep = await stripe_rep(t, gateway, standin, "Ada Able", "ada@a.example", onboarded=False)
    claim = await claim_of(rep)
    await payouts.start_pay_run(t.finance)
    assert await payouts.process_payments(NOW) == 0
    assert rep.stripe_account_id is not None
    standin.fail_next(path, 500, method=method, times=3)

    event = await standin.complete_onboarding_async(rep.stripe_account_id)

    assert standin.deliveries[-1].status != 200  # so Stripe sends it again
    assert (await reloaded(claim)).money == MoneyState.HELD
    [delivery] = await standin.replay_async(event["id"])
    assert received(delivery) == "account.updated"
    assert await payouts.process_payments(NOW) == 1
    assert len(live_transfers(standin, claim)) == 1


def _worker(standin: StripeStandIn, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "STRIPE_API_KEY": standin.api_key,
        "STRIPE_WEBHOOK_SECRET": DEFAULT_WEBHOOK_SECRET,
        "STRIPE_API_BASE": standin.url,
        "PAYMENT_STALE_SECONDS": "2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "coprod", "worker", "--poll", "0.2"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


async def test_a_worker_killed_mid_payment_is_finished_by_another_once(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, tmp_path: Path
) -> None:
    t = await trust(world)
    claim = await claim_of(await stripe_rep(t, gateway, standin, "Ada Able", "ada@a.example"))
    [attempt] = await payouts.start_pay_run(t.finance)
    # Stripe makes the transfer but the reply never comes back.
    standin.hang_next("/v1/transfers", seconds=60, method="POST", lose_reply=True)
    log = tmp_path / "worker.log"
    first = _worker(standin, log)
    try:
        for _ in range(300):
            if standin.transfers:
                break
            await asyncio.sleep(0.05)
        assert standin.transfers, log.read_text()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    [made] = standin.transfers.values()
    stuck = await PaymentAttempt.get(id=attempt.id)
    assert stuck.transfer_id == payouts.IN_PROGRESS and stuck.status == AttemptStatus.PENDING
    standin.release_hangs()

    second = _worker(standin, log)
    try:
        for _ in range(200):
            if (await reloaded(claim)).status == ClaimStatus.PAID:
                break
            await asyncio.sleep(0.05)
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(10)
        except subprocess.TimeoutExpired:
            second.kill()

    assert (await reloaded(claim)).status == ClaimStatus.PAID, log.read_text()
    assert list(standin.transfers) == [made["id"]]
    settled = await PaymentAttempt.get(id=attempt.id)
    assert settled.transfer_id == made["id"] and settled.tries == 2
    assert await OutboxMessage.filter(dedupe_key=f"claim:{claim.id}:remittance").count() == 1


async def test_claims_sent_to_payroll_count_as_spend_once_the_worker_has_costed_them(
    world: Any,
) -> None:
    t = await trust(world)
    rep = await test_payouts.new_rep(
        t, "Pat Payroll", payout_method="payroll", payroll_reference="P123"
    )
    involvement = await involved(t, rep)
    claim = await claim_of(rep)
    assert (await Involvement.get(id=involvement.id)).fee_pence == 0  # approved, not paid

    await payouts.set_payout_method(
        t.lead,
        rep,
        {
            "payout_method": "payroll",
            "payroll_reference": "P123",
            "national_insurance_number": "AB123456C",
        },
    )
    await payroll.export_payroll(t.finance, {"payment_date": clock.today().isoformat()})
    await worker.run_periodic_jobs()
    await worker.run_periodic_jobs()

    assert (await reloaded(claim)).spend_counted is True
    assert (await Involvement.get(id=involvement.id)).fee_pence == 7000


# ---------------------------------------------------------------------------- point 7: seen


async def test_finance_the_lead_and_the_api_see_held_and_reversed_payments_and_pay_again(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, client: Any, make_client: Any
) -> None:
    t = await trust(world)
    ada = await stripe_rep(t, gateway, standin, "Ada Able", "ada@people.example", onboarded=False)
    held = await claim_of(ada)
    # Ben has no email address: he hears about his money from his lead, by phone.
    ben = await test_payouts.new_rep(t, "Ben Bold", payout_method="stripe")
    account = await gateway.create_express_account(email=None, reference=f"test-{ben.id}")
    await standin.complete_onboarding_async(account)
    await Representative.filter(id=ben.id).update(
        stripe_account_id=account, stripe_payouts_enabled=True, stripe_transfers_active=True
    )
    taken_back = await claim_of(ben)
    await payouts.start_pay_run(t.finance)
    assert await payouts.process_payments(NOW) == 1
    [transfer] = transfers_for(standin, taken_back)
    await standin.reverse_transfer_async(transfer["id"])
    assert (await reloaded(taken_back)).money == MoneyState.REVERSED

    finance = make_client()
    await sign_in(finance, "finance@trust.example")
    page = (await finance.get("/finance")).text
    assert "Payments that need attention" in page
    assert HELD_REASON in page and "Reversed on" in page
    assert REVERSED_ACTION in page and f"Pay claim {taken_back.id} again" in page
    detail = (await finance.get(f"/claims/{taken_back.id}")).text
    assert "Where the money is" in detail and "Pay again" in detail

    listed = (await finance.get("/api/v1/claims?money=held")).json()["items"]
    assert [(c["id"], c["money"], c["money_reason"]) for c in listed] == [
        (held.id, "held", HELD_REASON)
    ]
    reversed_reply = (await finance.get(f"/api/v1/claims/{taken_back.id}")).json()
    assert reversed_reply["status"] == "payment_problem"
    assert reversed_reply["money"] == "reversed" and reversed_reply["money_changed_at"]
    attempts = (await finance.get("/api/v1/pay-runs?status=reversed")).json()["items"]
    assert [(a["claim_id"], a["money"]) for a in attempts] == [(taken_back.id, "reversed")]

    lead = make_client()
    await sign_in(lead, "lead@trust.example")
    calls = (await lead.get("/api/v1/call-list")).json()["items"]
    assert [(c["name"], c["about"], c["claim_id"], c["money"]) for c in calls] == [
        ("Ben Bold", "payment", taken_back.id, "reversed")
    ]
    assert calls[0]["money_news"].startswith("Taken back on")
    assert f"claim {taken_back.id}</a>: Taken back on" in (await lead.get("/call-list")).text
    assert await reminders.call_count(t.lead) == 1

    response = await finance.post_form(
        f"/claims/{taken_back.id}/retry", {}, token_from=f"/claims/{taken_back.id}"
    )
    assert response.status_code == 303, response.text
    assert await payouts.process_payments(NOW) == 1
    assert len(live_transfers(standin, taken_back)) == 1
    assert (await reloaded(taken_back)).money == MoneyState.TRANSFERRED
    assert (await lead.get("/api/v1/call-list")).json()["items"] == []
    assert await reminders.call_count(t.lead) == 0


@postgres_only
async def test_workers_racing_for_stale_payments_pay_each_claim_once(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, stale_soon: float
) -> None:
    t = await trust(world)
    claims = [
        await claim_of(await stripe_rep(t, gateway, standin, f"Person {i}", f"p{i}@a.example"))
        for i in range(6)
    ]
    assert len(await payouts.start_pay_run(t.finance)) == 6
    await _fail_recording_once()
    with pytest.raises(Exception, match="database unavailable"):
        await payouts.process_payments(NOW)
    await _database_back()
    assert len(standin.transfers) == 6
    await asyncio.sleep(stale_soon + 0.2)

    paid = await asyncio.gather(*(payouts.process_payments(NOW) for _ in range(4)))

    assert sum(paid) == 6
    assert len(standin.requests_to("/v1/transfers")) == 6  # none sent again
    for claim in claims:
        assert len(live_transfers(standin, claim)) == 1
        assert (await reloaded(claim)).status == ClaimStatus.PAID
    assert await AuditEvent.filter(action="payment.succeeded").count() == 6


async def test_a_payment_held_again_after_its_release_is_told_again(
    world: Any, standin: StripeStandIn, gateway: StripeGateway, mailbox: Any
) -> None:
    t = await trust(world)
    rep = await stripe_rep(t, gateway, standin, "Ada Able", "ada@people.example", onboarded=False)
    claim = await claim_of(rep)
    await payouts.start_pay_run(t.finance)
    assert await payouts.process_payments(NOW) == 0
    assert rep.stripe_account_id is not None
    await standin.complete_onboarding_async(rep.stripe_account_id)
    # Before the worker sends it, Stripe switches their payouts off again.
    await standin.update_account_async(rep.stripe_account_id, payouts_enabled=False)

    assert await payouts.process_payments(NOW) == 0
    assert await payouts.process_payments(NOW) == 0

    assert (await reloaded(claim)).money == MoneyState.HELD
    assert standin.transfers == {}
    assert await AuditEvent.filter(action="payment.held").count() == 2
    assert await deliver_mail() == 2
    assert len(mailbox.to("ada@people.example")) == 2


async def test_a_transfer_reversed_only_in_part_leaves_the_claim_paid(
    world: Any, standin: StripeStandIn, gateway: StripeGateway
) -> None:
    t = await trust(world)
    claim, _, transfer = await paid_claim(t, gateway, standin)

    await standin.reverse_transfer_async(transfer["id"], amount=1000)

    still = await reloaded(claim)
    assert still.status == ClaimStatus.PAID and still.money == MoneyState.TRANSFERRED
    assert (await PaymentAttempt.get(claim_id=claim.id)).status == AttemptStatus.SUCCEEDED
    assert await AuditEvent.filter(action="payment.reversed").count() == 0


async def test_a_payment_whose_key_is_nearly_a_day_old_looks_in_stripe_before_sending(
    world: Any, standin: StripeStandIn, gateway: StripeGateway
) -> None:
    t = await trust(world)
    claim = await claim_of(await stripe_rep(t, gateway, standin, "Ada Able", "ada@a.example"))
    [attempt] = await payouts.start_pay_run(t.finance)
    fresh = await claim_of(await stripe_rep(t, gateway, standin, "Ben Bold", "ben@a.example"))
    await payouts.start_pay_run(t.finance)
    # Queued a day ago (held, say, until now): Stripe may have forgotten its key.
    await PaymentAttempt.filter(id=attempt.id).update(
        created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=24)
    )

    assert await payouts.process_payments(NOW) == 2

    # One look, for the old one only; nothing found, so each is sent once.
    assert len(standin.requests_to("/v1/transfers", method="GET")) == 1
    assert len(live_transfers(standin, claim)) == len(live_transfers(standin, fresh)) == 1
