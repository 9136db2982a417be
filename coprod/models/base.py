"""Shared model pieces."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class TimestampedModel(Model):
    id = fields.IntField(primary_key=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        abstract = True
