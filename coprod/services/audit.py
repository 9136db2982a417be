"""The one way services write to the audit log.

Call it inside the same transaction as the change, so the log and the change stand or fall
together.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, TypedDict, Unpack

from tortoise.models import Model

from coprod.models import AuditEvent
from coprod.services.actor import Actor

# Fields never copied into the log, whatever the model.
_SECRET_FIELDS = {
    "password_hash",
    "token_hash",
    "key_hash",
    # Encrypted at rest; an audit copy would outlive a key rotation.
    "national_insurance_encrypted",
    "file_encrypted",
}


def snapshot(instance: Model, *, exclude: set[str] | None = None) -> dict[str, Any]:
    """A JSON-safe copy of a model's own columns, for the before/after of an audit event."""
    skip = _SECRET_FIELDS | (exclude or set())
    data: dict[str, Any] = {}
    for name in sorted(instance._meta.db_fields):  # foreign keys appear as their *_id column
        if name in skip:
            continue
        data[name] = _jsonable(getattr(instance, name))
    return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return "<binary>"
    return value


class Details(TypedDict, total=False):
    """What an event may say besides who did what to which record."""

    before: dict[str, Any] | None
    after: dict[str, Any] | None
    organisation_id: int | None  # the actor's unless given
    on_behalf_of: str | None


def event(
    actor: Actor, action: str, entity: Model | tuple[str, Any], **details: Unpack[Details]
) -> AuditEvent:
    """An event not yet saved: `record` saves one, and a batch saves several at once with
    `AuditEvent.bulk_create`, in the transaction of the changes they describe."""
    if isinstance(entity, Model):
        entity_type, entity_id = type(entity).__name__, entity.pk
    else:
        entity_type, entity_id = entity
    organisation_id = details.get("organisation_id")
    return AuditEvent(
        organisation_id=organisation_id if organisation_id is not None else actor.organisation_id,
        actor=actor.user,
        actor_label=actor.label,
        on_behalf_of=details.get("on_behalf_of"),
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        before=details.get("before"),
        after=details.get("after"),
        via=actor.via,
    )


async def record(
    actor: Actor, action: str, entity: Model | tuple[str, Any], **details: Unpack[Details]
) -> AuditEvent:
    found = event(actor, action, entity, **details)
    await found.save(force_create=True)
    return found
