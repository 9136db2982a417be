"""The audit log: who did what, when, with the record before and after."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields

from coprod.models.base import TimestampedModel

if TYPE_CHECKING:
    from coprod.models.org import Organisation
    from coprod.models.users import User


class AuditEvent(TimestampedModel):
    organisation: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="audit_events", null=True, on_delete=fields.CASCADE
    )
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="audit_events", null=True, on_delete=fields.SET_NULL
    )
    # Kept as text too, so the log still reads right if the user is later removed.
    actor_label = fields.CharField(max_length=255)
    # "by <lead> on behalf of <representative>": who the action was for, when not the actor.
    on_behalf_of = fields.CharField(max_length=255, null=True)
    action = fields.CharField(max_length=100, db_index=True)
    entity_type = fields.CharField(max_length=50)
    entity_id = fields.CharField(max_length=50, null=True)
    before: Any = fields.JSONField(null=True)
    after: Any = fields.JSONField(null=True)
    via = fields.CharField(max_length=20, default="web")  # web | api | worker | cli

    class Meta:
        table = "audit_event"
        ordering = ["-created_at", "-id"]
