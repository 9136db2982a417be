"""API operations for payment set-up, pay runs, failed payments and payroll exports. The rules
live in coprod.services.payouts."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from coprod.models import (
    AttemptStatus,
    MoneyState,
    PaymentAttempt,
    PayrollExport,
    Representative,
    Role,
)
from coprod.services import claims, payouts, payroll, stripe_webhooks
from coprod.services.actor import Actor
from coprod.web.api.claims import FINANCE, PAYMENTS, READERS
from coprod.web.api.paging import keyset_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, DateTime, Id, NoBody, Page, Paging, Reply, text
from coprod.web.render import csv_download

# ---------------------------------------------------------------------------- payment set-up

PayoutMethod = Literal["stripe", "payroll"]


class PayoutSetUp(Reply):
    representative_id: int
    payout_method: PayoutMethod | None = Field(description="Null until it has been chosen")
    payroll_reference: str | None
    national_insurance_number: str | None = Field(
        description="Masked, like •• •• •• 56 C: only the payroll file has it in full"
    )
    stripe_account: bool = Field(description="Whether they have a Stripe account with us")
    stripe_payouts_enabled: bool = Field(
        description="Whether Stripe pays their Stripe balance out to their bank"
    )
    stripe_transfers_active: bool = Field(
        description="Whether their Stripe account can receive transfers. Payments to them are "
        "held until both this and stripe_payouts_enabled are true"
    )
    stripe_ready: bool = Field(description="Whether this service can set up bank transfers now")


class PayoutMethodInput(Body):
    payout_method: PayoutMethod = Field(title="how they are paid")
    payroll_reference: str | None = text(
        50,
        required=False,
        default=None,
        title="their payroll reference",
        description="Needed for payroll",
    )
    national_insurance_number: str | None = text(
        20,
        required=False,
        default=None,
        title="their National Insurance number",
        description="Needed for payroll; finance and leads only. Write-only: replies mask it",
    )


class OnboardingLink(Reply):
    url: str = Field(
        description="Stripe's page where they give their bank details; it works once, soon"
    )


def _set_up(rep: Representative) -> PayoutSetUp:
    return PayoutSetUp(
        representative_id=rep.id,
        payout_method=rep.payout_method,  # type: ignore[arg-type]
        payroll_reference=rep.payroll_reference,
        national_insurance_number=rep.national_insurance_masked,
        stripe_account=bool(rep.stripe_account_id),
        stripe_payouts_enabled=rep.stripe_payouts_enabled,
        stripe_transfers_active=rep.stripe_transfers_active,
        stripe_ready=payouts.stripe_ready(),
    )


@api.operation(
    "GET",
    "/representatives/{id:int}/payout-method",
    summary="How someone is paid: bank transfer through Stripe, or payroll (the person, their "
    "involvement leads, finance)",
    tag=PAYMENTS,
    roles=READERS,
    reply=PayoutSetUp,
)
async def get_payout_method(request: Request, actor: Actor, id: int) -> PayoutSetUp:
    return _set_up(await payouts.payee_for(actor, id))


@api.operation(
    "PUT",
    "/representatives/{id:int}/payout-method",
    summary="Choose how someone is paid: bank transfer through Stripe, or payroll with their "
    "payroll reference",
    tag=PAYMENTS,
    roles=READERS,
    body=PayoutMethodInput,
    reply=PayoutSetUp,
)
async def set_payout_method(
    request: Request, actor: Actor, id: int, body: PayoutMethodInput
) -> PayoutSetUp:
    rep = await payouts.payee_for(actor, id)
    return _set_up(await payouts.set_payout_method(actor, rep, body.data()))


@api.operation(
    "POST",
    "/representatives/{id:int}/stripe-onboarding-link",
    summary="A fresh link to Stripe's page for giving bank details; makes their Stripe account "
    "the first time. Asks Stripe while you wait",
    description="409 when bank transfers are not set up here, or Stripe cannot be reached.",
    tag=PAYMENTS,
    roles=READERS,
    body=NoBody,
    reply=OnboardingLink,
)
async def create_onboarding_link(
    request: Request, actor: Actor, id: int, body: NoBody
) -> OnboardingLink:
    rep = await payouts.payee_for(actor, id)
    return OnboardingLink(url=await payouts.onboarding_link(actor, rep))


@api.operation(
    "POST",
    "/representatives/{id:int}/stripe-account/refresh",
    summary="Ask Stripe now what their account can do (receive transfers, pay out to their "
    "bank), as after they come back from Stripe's set-up; payments held for it are sent",
    description="Stripe's own webhook does the same later, so a Stripe outage here is not an "
    "error: the reply is what was stored before.",
    tag=PAYMENTS,
    roles=READERS,
    body=NoBody,
    reply=PayoutSetUp,
)
async def refresh_stripe_account(
    request: Request, actor: Actor, id: int, body: NoBody
) -> PayoutSetUp:
    rep = await payouts.payee_for(actor, id)
    return _set_up(await stripe_webhooks.refresh_on_return(actor, rep))


class PaymentsConfiguration(Reply):
    stripe_ready: bool
    problems: list[str] = Field(
        description="Set-up problems only whoever runs Coprod can fix; payroll exports work "
        "regardless"
    )


@api.operation(
    "GET",
    "/payments/configuration",
    summary="Whether bank transfers through Stripe can be made, and what is missing if not",
    tag=PAYMENTS,
    roles=(Role.ORG_ADMIN, Role.FINANCE_OFFICER),
    reply=PaymentsConfiguration,
)
async def get_payments_configuration(request: Request, actor: Actor) -> PaymentsConfiguration:
    return PaymentsConfiguration(
        stripe_ready=payouts.stripe_ready(), problems=payouts.configuration_problems()
    )


# ---------------------------------------------------------------------------- pay runs


class AttemptReply(Reply):
    id: int
    claim_id: int
    representative_id: int
    amount_pence: int
    status: AttemptStatus
    failure_reason: str | None
    retryable: bool = Field(
        description="The failure may have been passing (Stripe was unreachable): a retry keeps "
        "the same idempotency key, so it cannot pay twice"
    )
    money: MoneyState = Field(description="Where the claim's money is (see the claim)")
    money_reason: str | None = Field(
        description="Why the claim's money is held or came back, and what to do"
    )
    created_at: DateTime
    updated_at: DateTime


class NotPaid(Reply):
    claim_id: int
    representative_id: int
    reason: str = Field(description="Why the pay run left it, and what to do next")


class PayRunReply(Reply):
    items: list[AttemptReply] = Field(description="The payments queued")
    not_paid: list[NotPaid] = Field(description="Approved claims this pay run did not pay")


class AttemptsQuery(Paging):
    status: AttemptStatus | None = Field(None, title="a status")


def _attempt(a: PaymentAttempt) -> AttemptReply:
    return AttemptReply(
        id=a.id,
        claim_id=a.claim_id,
        representative_id=a.claim.representative_id,
        amount_pence=a.amount_pence,
        status=a.status,
        failure_reason=a.failure_reason,
        retryable=a.retryable,
        money=a.claim.money,
        money_reason=a.claim.money_reason,
        created_at=a.created_at,
        updated_at=a.updated_at,
    )


@api.operation(
    "GET",
    "/pay-runs",
    summary="Payment attempts for the organisation's claims, newest first, with any failure",
    tag=PAYMENTS,
    roles=FINANCE,
    query=AttemptsQuery,
    reply=Page[AttemptReply],
)
async def list_pay_runs(request: Request, actor: Actor, query: AttemptsQuery) -> Page[AttemptReply]:
    found = PaymentAttempt.filter(claim__organisation_id=actor.organisation_id)
    if query.status is not None:
        found = found.filter(status=query.status)
    rows, cursor = await keyset_page(found, query, ("-created_at", "-id"))
    await PaymentAttempt.fetch_for_list(rows, "claim")
    return Page(items=[_attempt(a) for a in rows], next_cursor=cursor)


@api.operation(
    "POST",
    "/pay-runs",
    summary="Queue a payment for each approved claim of people paid by Stripe; the worker "
    "makes the transfers, and a claim is never paid twice",
    tag=PAYMENTS,
    roles=FINANCE,
    body=NoBody,
    reply=PayRunReply,
    status=201,
)
async def start_pay_run(request: Request, actor: Actor, body: NoBody) -> PayRunReply:
    run = await payouts.pay_run(actor)
    await PaymentAttempt.fetch_for_list(run.queued, "claim")
    return PayRunReply(
        items=[_attempt(a) for a in run.queued],
        not_paid=[
            NotPaid(
                claim_id=n.claim.id, representative_id=n.claim.representative_id, reason=n.reason
            )
            for n in run.not_paid
        ],
    )


@api.operation(
    "POST",
    "/claims/{id:int}/retry",
    summary="Try a failed payment again, or pay again a claim whose transfer was reversed: "
    "the claim is approved again and a payment queued",
    description="409 when the payment is under way, or its payout failed: that money is in "
    "their Stripe balance, and Stripe pays it out once their bank details are right.",
    tag=PAYMENTS,
    roles=FINANCE,
    body=NoBody,
    reply=AttemptReply,
    status=201,
)
async def retry_payment(request: Request, actor: Actor, id: int, body: NoBody) -> AttemptReply:
    claim = await claims.claim_for(actor, id)
    attempt = await payouts.retry(actor, claim)
    await attempt.fetch_related("claim")
    return _attempt(attempt)


# ---------------------------------------------------------------------------- payroll


class PayrollExportReply(Reply):
    id: int
    created_at: DateTime
    claim_count: int
    reason: str | None = Field(description="Why the claims were exported again, if they were")
    payment_date: dt.date | None = Field(description="Payroll's pay day for these claims")
    csv: str | None = Field(
        description="The CSV file, in the reply that makes the export only (it holds National "
        "Insurance numbers); download it again from its /csv address, which is audited"
    )


class ExportInput(Body):
    payment_date: dt.date | None = Field(
        None,
        title="the payment date",
        description="Payroll's pay day (needed for a new export); it decides the tax year "
        "and tax month",
    )
    export_id: Id | None = Field(
        None, title="the export", description="Export these claims again (needs a reason)"
    )
    reason: str | None = text(
        500, required=False, default=None, title="why it needs exporting again"
    )


def _export(e: PayrollExport, csv: str | None = None) -> PayrollExportReply:
    return PayrollExportReply(
        id=e.id,
        created_at=e.created_at,
        claim_count=e.claim_count,
        reason=e.reason,
        payment_date=e.payment_date,
        csv=csv,
    )


@api.operation(
    "GET",
    "/payroll-exports",
    summary="Payroll exports made, newest first",
    tag=PAYMENTS,
    roles=FINANCE,
    query=Paging,
    reply=Page[PayrollExportReply],
)
async def list_payroll_exports(
    request: Request, actor: Actor, query: Paging
) -> Page[PayrollExportReply]:
    rows, cursor = await keyset_page(
        PayrollExport.filter(organisation_id=actor.organisation_id), query, ("-created_at", "-id")
    )
    return Page(items=[_export(e) for e in rows], next_cursor=cursor)


@api.operation(
    "POST",
    "/payroll-exports",
    summary="Export approved claims of people paid through payroll as CSV, each claim once; "
    "with export_id and a reason, export the same claims again",
    tag=PAYMENTS,
    roles=FINANCE,
    body=ExportInput,
    reply=PayrollExportReply,
    status=201,
)
async def create_payroll_export(
    request: Request, actor: Actor, body: ExportInput
) -> PayrollExportReply:
    export = await payroll.export_payroll(actor, body.data())
    return _export(export, payroll.file_text(export))


@api.operation(
    "GET",
    "/payroll-exports/{id:int}/csv",
    summary="A payroll export as the CSV file finance downloads",
    tag=PAYMENTS,
    roles=FINANCE,
    content_type="text/csv",
)
async def download_payroll_export(request: Request, actor: Actor, id: int) -> Response:
    export, file = await payroll.download(actor, id)
    return csv_download(file, f"payroll-{export.id}.csv")
