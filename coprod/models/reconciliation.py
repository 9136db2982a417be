"""Daily reconciliation: differences between Stripe's transfers and our claims, and the runs that
found them."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields

from coprod.models.base import TimestampedModel

if TYPE_CHECKING:
    from coprod.models.org import Organisation
    from coprod.models.pay import Claim
    from coprod.models.users import User


class DifferenceKind(StrEnum):
    UNKNOWN_TRANSFER = "unknown_transfer"  # a transfer no claim of ours accounts for
    UNRECORDED_TRANSFER = "unrecorded_transfer"  # a transfer for a claim we do not show as paid
    MISSING_TRANSFER = "missing_transfer"  # a claim we show as paid, with no live transfer
    DIFFERENT_AMOUNT = "different_amount"
    PAID_TWICE = "paid_twice"  # two or more live transfers for one claim
    WRONG_ACCOUNT = "wrong_account"  # paid to an account that is not the representative's

    @property
    def label(self) -> str:
        return {
            "unknown_transfer": "Transfer with no claim",
            "unrecorded_transfer": "Transfer not recorded",
            "missing_transfer": "Paid claim with no transfer",
            "different_amount": "Different amount",
            "paid_twice": "Paid twice",
            "wrong_account": "Paid to a different account",
        }[self.value]


class ReconciliationItem(TimestampedModel):
    """One difference, found once. The unique (organisation, kind, subject) is what stops two
    runs at the same moment recording it twice; a later run finds the row already there."""

    organisation_id: int
    claim_id: int | None
    resolved_by_id: int | None
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="reconciliation_items", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(DifferenceKind, max_length=24)
    # The Stripe transfer's id, or "claim-<id>" for a difference about a claim as a whole.
    subject = fields.CharField(max_length=100)
    transfer_id = fields.CharField(max_length=100, null=True)
    claim: fields.ForeignKeyNullableRelation[Claim] = fields.ForeignKeyField(
        "models.Claim", related_name="reconciliation_items", null=True, on_delete=fields.SET_NULL
    )
    ours_pence = fields.IntField(null=True)  # what we recorded paying
    stripe_pence = fields.IntField(null=True)  # what Stripe holds as transferred (net)
    description = fields.TextField()
    found_at = fields.DatetimeField()
    resolved_at = fields.DatetimeField(null=True)
    # Null with resolved_at set: a later run found the difference had gone and closed it.
    resolved_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="reconciliation_items", null=True, on_delete=fields.SET_NULL
    )
    note = fields.TextField(null=True)

    class Meta:
        table = "reconciliation_item"
        ordering = ["-found_at", "-id"]
        unique_together = (("organisation", "kind", "subject"),)
        indexes = (("organisation_id", "resolved_at", "found_at"),)


class ReconciliationRun(TimestampedModel):
    """The daily job's run for one London date. The unique date is what lets only one worker
    walk Stripe's transfers each day."""

    day = fields.DateField(unique=True)
    started_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)
    opened = fields.IntField(default=0)
    closed = fields.IntField(default=0)

    class Meta:
        table = "reconciliation_run"
