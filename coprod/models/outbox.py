"""Outgoing messages, written in the same transaction as the change that causes them."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields

from coprod.models.base import TimestampedModel

if TYPE_CHECKING:
    from coprod.models.org import Organisation
    from coprod.models.people import Representative
    from coprod.models.users import User


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


# One message on one channel (coprod.domain.notifications.Channel, kept in `kind`): an email,
# a text or a letter.
class OutboxMessage(TimestampedModel):
    organisation_id: int | None
    representative_id: int | None
    followed_up_by_id: int | None
    organisation: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="outbox", null=True, on_delete=fields.CASCADE
    )
    # Who it is for, when it is for a representative: the lead sees their messages.
    representative: fields.ForeignKeyNullableRelation[Representative] = fields.ForeignKeyField(
        "models.Representative", related_name="messages", null=True, on_delete=fields.SET_NULL
    )
    kind = fields.CharField(max_length=20, default="email")
    # The notification kind (coprod.domain.notifications.KINDS).
    notification = fields.CharField(max_length=40, null=True)
    # An email address, a mobile number, or for a letter the addressee's name.
    to_address = fields.CharField(max_length=254)
    # A letter's address lines, one a line, and the print it is drawn in.
    postal_address = fields.TextField(null=True)
    letter_variant = fields.CharField(max_length=12, null=True)
    subject = fields.CharField(max_length=255)
    text_body = fields.TextField()
    html_body = fields.TextField()
    # [{"filename", "content_type", "content" (base64), "method" (for text/calendar)}]
    attachments: Any = fields.JSONField(default=list)
    # Fixed when the row is written, so a retried delivery carries the same Message-ID.
    message_id = fields.CharField(max_length=255, unique=True)
    # Set for messages that must go once only (e.g. "contract ends in 30 days").
    dedupe_key = fields.CharField(max_length=200, unique=True, null=True)
    status = fields.CharEnumField(OutboxStatus, max_length=10, default=OutboxStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    locked_until = fields.DatetimeField(null=True)
    locked_by = fields.CharField(max_length=64, null=True)
    last_error = fields.TextField(null=True)
    sent_at = fields.DatetimeField(null=True)
    # How many times a worker has taken it to send. More than once means an earlier send may
    # have reached GOV.UK Notify without us hearing back, so the worker looks it up first.
    claims = fields.IntField(default=0)
    # GOV.UK Notify's id for it, and the latest delivery status Notify reported.
    provider_id = fields.CharField(max_length=64, null=True, db_index=True)
    delivery_status = fields.CharField(max_length=30, null=True)
    delivery_status_at = fields.DatetimeField(null=True)
    # A message that did not arrive stays on the lead's call list until they have phoned the
    # person and said so.
    followed_up_at = fields.DatetimeField(null=True)
    followed_up_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="messages_followed_up", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "outbox_message"
        ordering = ["-created_at"]
        # The home page counts an organisation's failed messages on every visit.
        indexes = (("organisation_id", "status"),)


# A letter someone reads in Braille or listens to: the printed letter goes as usual, and the
# lead has it transcribed or recorded, an access task on their checklist until ticked done.
class TranscriptionTask(TimestampedModel):
    organisation_id: int
    representative_id: int
    message_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="transcription_tasks", on_delete=fields.CASCADE
    )
    representative: fields.ForeignKeyRelation[Representative] = fields.ForeignKeyField(
        "models.Representative", related_name="transcription_tasks", on_delete=fields.CASCADE
    )
    message: fields.ForeignKeyRelation[OutboxMessage] = fields.ForeignKeyField(
        "models.OutboxMessage", related_name="transcription_tasks", on_delete=fields.CASCADE
    )
    format = fields.CharField(max_length=20)  # braille or audio
    label = fields.CharField(max_length=200)
    due_on = fields.DateField()
    done_at = fields.DatetimeField(null=True)
    done_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="transcriptions_done", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "transcription_task"
        ordering = ["due_on", "id"]
        unique_together = (("message", "format"),)
        indexes = (("organisation_id", "done_at", "due_on"),)
