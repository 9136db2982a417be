"""Rate cards, claims with their fee and expense lines, payment attempts and payroll exports."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields

from coprod.models.base import TimestampedModel

if TYPE_CHECKING:
    from coprod.models.activities import Booking
    from coprod.models.org import Organisation
    from coprod.models.people import Representative
    from coprod.models.users import User


class RateCard(TimestampedModel):
    """The rates from `effective_from` until the next card: an uplift never changes a past day."""

    organisation_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="rate_cards", on_delete=fields.CASCADE
    )
    effective_from = fields.DateField()
    day_pence = fields.IntField()
    half_day_pence = fields.IntField()
    half_day_max_minutes = fields.IntField(default=240)
    day_max_minutes = fields.IntField(default=480)

    class Meta:
        table = "rate_card"
        ordering = ["effective_from"]
        unique_together = (("organisation", "effective_from"),)


class ClaimStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAID = "paid"
    FAILED = "failed"
    SENT_TO_PAYROLL = "sent_to_payroll"
    # Paid once, but the money did not reach them: reversed, or their bank returned it.
    PAYMENT_PROBLEM = "payment_problem"

    @property
    def label(self) -> str:
        return {
            "sent_to_payroll": "Sent to payroll",
            "payment_problem": "Payment problem",
        }.get(self.value, self.value.capitalize())


# A claim in these states is settled: never edited again, corrected only by adjustment lines.
SETTLED = (ClaimStatus.PAID, ClaimStatus.SENT_TO_PAYROLL)


class MoneyState(StrEnum):
    """Where a claim's bank-transfer money is, as Stripe last told us. Separate from the
    claim's status, which says what we decided; this says what happened to the money."""

    NONE = "none"  # no transfer yet
    HELD = "held"  # waiting: their Stripe account cannot receive it yet
    TRANSFERRED = "transferred"  # in their Stripe account, on its way to their bank
    PAID_OUT = "paid_out"  # in their bank account
    PAYOUT_FAILED = "payout_failed"  # their bank returned it; it waits in their Stripe balance
    REVERSED = "reversed"  # the transfer was taken back: nothing reached them

    @property
    def label(self) -> str:
        return {
            "none": "Not sent",
            "held": "Held",
            "transferred": "Transferred",
            "paid_out": "Paid out",
            "payout_failed": "Payout failed",
            "reversed": "Reversed",
        }[self.value]


# Money that did not reach them, or cannot yet: finance acts on it, and the person is told.
MONEY_TROUBLE = (MoneyState.HELD, MoneyState.PAYOUT_FAILED, MoneyState.REVERSED)


class Claim(TimestampedModel):
    organisation_id: int
    representative_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="claims", on_delete=fields.CASCADE
    )
    representative: fields.ForeignKeyRelation[Representative] = fields.ForeignKeyField(
        "models.Representative", related_name="claims", on_delete=fields.CASCADE
    )
    status = fields.CharEnumField(ClaimStatus, max_length=16, default=ClaimStatus.DRAFT)
    period_start = fields.DateField()
    period_end = fields.DateField()
    submitted_at = fields.DatetimeField(null=True)
    submitted_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="claims_submitted", null=True, on_delete=fields.SET_NULL
    )
    decided_at = fields.DatetimeField(null=True)
    decided_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="claims_decided", null=True, on_delete=fields.SET_NULL
    )
    rejection_reason = fields.TextField(null=True)
    paid_at = fields.DatetimeField(null=True)
    money = fields.CharEnumField(MoneyState, max_length=16, default=MoneyState.NONE)
    # Why the money is held or came back, and what to do, in words finance can act on.
    money_reason = fields.TextField(null=True)
    money_changed_at = fields.DatetimeField(null=True)
    # Whether the claim's fee and expenses count as spend in the reports (its involvements are
    # costed): only while its money has gone out (see payouts.money_went_out).
    spend_counted = fields.BooleanField(default=False)
    payroll_export_id: int | None
    payroll_export: fields.ForeignKeyNullableRelation[PayrollExport] = fields.ForeignKeyField(
        "models.PayrollExport", related_name="claims", null=True, on_delete=fields.SET_NULL
    )
    lines: fields.ReverseRelation[ClaimLine]
    expenses: fields.ReverseRelation[Expense]

    class Meta:
        table = "claim"
        ordering = ["-period_start", "-id"]


class LineKind(StrEnum):
    FEE = "fee"
    ADJUSTMENT = "adjustment"


class ClaimLine(TimestampedModel):
    """A fee for one Europe/London day, or an adjustment (which may be negative)."""

    claim_id: int
    claim: fields.ForeignKeyRelation[Claim] = fields.ForeignKeyField(
        "models.Claim", related_name="lines", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(LineKind, max_length=12)
    day = fields.DateField(null=True)
    minutes = fields.IntField(default=0)
    band = fields.CharField(max_length=10, null=True)
    amount_pence = fields.IntField()
    description = fields.CharField(max_length=500)
    needs_review = fields.BooleanField(default=False)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="claim_lines", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "claim_line"
        ordering = ["day", "id"]


class FeeDay(TimestampedModel):
    """A day a claim's fee line has taken. The unique key, not the code, is what stops one day
    being paid twice, even when two drafts are made at the same moment. A rejected claim gives
    its days back."""

    organisation_id: int
    representative_id: int
    claim_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="fee_days", on_delete=fields.CASCADE
    )
    representative: fields.ForeignKeyRelation[Representative] = fields.ForeignKeyField(
        "models.Representative", related_name="fee_days", on_delete=fields.CASCADE
    )
    day = fields.DateField()
    claim: fields.ForeignKeyRelation[Claim] = fields.ForeignKeyField(
        "models.Claim", related_name="fee_days", on_delete=fields.CASCADE
    )

    class Meta:
        table = "fee_day"
        unique_together = (("organisation", "representative", "day"),)


class Expense(TimestampedModel):
    claim_id: int
    booking_id: int | None
    claim: fields.ForeignKeyRelation[Claim] = fields.ForeignKeyField(
        "models.Claim", related_name="expenses", on_delete=fields.CASCADE
    )
    booking: fields.ForeignKeyNullableRelation[Booking] = fields.ForeignKeyField(
        "models.Booking", related_name="expenses", null=True, on_delete=fields.SET_NULL
    )
    kind = fields.CharField(max_length=20)
    day = fields.DateField()
    description = fields.CharField(max_length=500, null=True)
    miles_tenths = fields.IntField(null=True)
    amount_pence = fields.IntField()
    approved_pence = fields.IntField(null=True)
    adjustment_reason = fields.TextField(null=True)
    agreed_beforehand = fields.BooleanField(default=False)
    # Receipts live outside the web root (see services/claims.py) and are served only to people
    # entitled to see them.
    receipt_path = fields.CharField(max_length=300, null=True)
    receipt_type = fields.CharField(max_length=30, null=True)
    receipt_name = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "expense"
        ordering = ["day", "id"]


class AttemptStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"  # a transfer was made (whatever became of the money later)
    FAILED = "failed"
    HELD = "held"  # not tried: their account could not receive it; pending again once it can
    REVERSED = "reversed"  # a transfer was made and then taken back in full


class PaymentAttempt(TimestampedModel):
    """One try at paying a claim through Stripe. Every try is kept, and the idempotency key comes
    from the claim, so a retry can never pay twice."""

    claim_id: int
    claim: fields.ForeignKeyRelation[Claim] = fields.ForeignKeyField(
        "models.Claim", related_name="attempts", on_delete=fields.CASCADE
    )
    idempotency_key = fields.CharField(max_length=100)
    amount_pence = fields.IntField()
    status = fields.CharEnumField(AttemptStatus, max_length=10, default=AttemptStatus.PENDING)
    transfer_id = fields.CharField(max_length=100, null=True)
    failure_reason = fields.TextField(null=True)
    retryable = fields.BooleanField(default=False)
    # Times a worker has taken it: more than one means an earlier worker's outcome is unknown.
    tries = fields.IntField(default=0)
    # The payment (py_...) the transfer made in their account, which their payout lists.
    destination_payment = fields.CharField(max_length=100, null=True)
    # The payout that last carried (or failed to carry) this money to their bank.
    payout_id = fields.CharField(max_length=100, null=True)
    started_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="payment_attempts", null=True, on_delete=fields.SET_NULL
    )
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "payment_attempt"
        ordering = ["-created_at", "-id"]


class PayrollExport(TimestampedModel):
    organisation_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="payroll_exports", on_delete=fields.CASCADE
    )
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="payroll_exports", null=True, on_delete=fields.SET_NULL
    )
    # Exports made before National Insurance numbers were added kept the file here; newer ones
    # hold full National Insurance numbers, so their file is encrypted in `file_encrypted`.
    csv = fields.TextField()
    file_encrypted = fields.TextField(null=True)
    payment_date = fields.DateField(null=True)
    claim_count = fields.IntField()
    reason = fields.TextField(null=True)  # why a re-export was made

    class Meta:
        table = "payroll_export"
        ordering = ["-created_at"]


class PayElement(TimestampedModel):
    """An organisation's own payroll code for one pay element (the fee, or an expense type).
    Elements without a row use the default code in coprod.domain.pay.PAY_ELEMENTS."""

    organisation_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="pay_elements", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=20)
    code = fields.CharField(max_length=20)

    class Meta:
        table = "pay_element"
        unique_together = (("organisation", "key"),)


class StripeEvent(TimestampedModel):
    """Webhook events already handled, so a replayed event does nothing twice."""

    event_id = fields.CharField(max_length=100, unique=True)
    type = fields.CharField(max_length=100)

    class Meta:
        table = "stripe_event"
