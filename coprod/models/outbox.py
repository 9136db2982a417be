"""Outgoing messages, written in the same transaction as the change that causes them."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields

from coprod.models.base import TimestampedModel

if TYPE_CHECKING:
    from coprod.models.org import Organisation


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(TimestampedModel):
    organisation_id: int | None
    organisation: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="outbox", null=True, on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=20, default="email")
    to_address = fields.CharField(max_length=254)
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

    class Meta:
        table = "outbox_message"
        ordering = ["-created_at"]
