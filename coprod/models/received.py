"""Text messages people send us, as GOV.UK Notify's inbound callback delivers them."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields

from coprod.models.base import TimestampedModel

if TYPE_CHECKING:
    from coprod.models.activities import Invitation
    from coprod.models.org import Organisation
    from coprod.models.people import Representative
    from coprod.models.users import User


class TextOutcome(StrEnum):
    ANSWERED = "answered"  # recorded as their answer to the poll
    UNCLEAR = "unclear"
    UNKNOWN_NUMBER = "unknown_number"  # nobody here has the sender's number
    SHARED_NUMBER = "shared_number"  # two or more people have it: never guessed
    NOTHING_OPEN = "nothing_open"  # no invitation by text still open to answer


# What the lead must phone about.
NEEDS_A_CALL = (TextOutcome.UNCLEAR, TextOutcome.SHARED_NUMBER, TextOutcome.NOTHING_OPEN)


class ReceivedText(TimestampedModel):
    """One text, once for each organisation it concerns: a number two organisations' people
    share puts it on both call lists. A text from a number nobody has is kept once, with no
    organisation, for the log. The unique (Notify id, organisation) is what makes a replayed
    callback change nothing."""

    organisation_id: int | None
    representative_id: int | None
    invitation_id: int | None
    dealt_with_by_id: int | None
    notify_id = fields.CharField(max_length=64)
    organisation: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="received_texts", null=True, on_delete=fields.CASCADE
    )
    representative: fields.ForeignKeyNullableRelation[Representative] = fields.ForeignKeyField(
        "models.Representative",
        related_name="received_texts",
        null=True,
        on_delete=fields.SET_NULL,
    )
    invitation: fields.ForeignKeyNullableRelation[Invitation] = fields.ForeignKeyField(
        "models.Invitation", related_name="received_texts", null=True, on_delete=fields.SET_NULL
    )
    from_number = fields.CharField(max_length=40)  # as Notify gave it: 447700900123
    message = fields.TextField()
    received_at = fields.DatetimeField()
    outcome = fields.CharEnumField(TextOutcome, max_length=16)
    # Why it could not be read, in words for the lead ("The reply said nothing about 2").
    problem = fields.CharField(max_length=200, null=True)
    dealt_with_at = fields.DatetimeField(null=True)
    dealt_with_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="texts_dealt_with", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "received_text"
        unique_together = (("notify_id", "organisation"),)
        indexes = (("organisation_id", "dealt_with_at", "outcome"),)
