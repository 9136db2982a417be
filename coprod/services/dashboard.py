"""The home page's figures: what is waiting for someone, by their roles, counted in one
statement however many there are."""

from __future__ import annotations

from dataclasses import dataclass, field

from tortoise.queryset import CountQuery

from coprod import db
from coprod.models import Booking, BookingStatus, OutboxMessage, OutboxStatus, Role
from coprod.services import arrangements, contracts, interests, reminders, wellbeing
from coprod.services.actor import Actor


@dataclass(frozen=True)
class Figures:
    to_do: dict[str, int] = field(default_factory=dict)  # an involvement lead's lists
    failed_messages: int = 0  # for administrators


async def figures(actor: Actor) -> Figures:
    """Each count is its list's own rule (the call list's, the catch-ups', ...), so a figure
    on the home page always equals the list its link opens."""
    if actor.organisation_id is None:
        return Figures()
    queries: dict[str, CountQuery] = {}
    call_parts: dict[str, CountQuery] = {}
    if actor.has(Role.INVOLVEMENT_LEAD):
        call_parts = reminders.call_counts(actor)
        queries |= {
            "catch_ups": contracts.catch_ups_due_count(actor),
            "consents": wellbeing.consents_due_for_review_count(actor),
            "overdue": arrangements.overdue_count(actor),
            "letters": arrangements.transcriptions_count(actor),
            "checks": Booking.filter(
                activity__organisation_id=actor.organisation_id,
                status=BookingStatus.NEEDS_WELLBEING_CHECK,
            ).count(),
            "interest": interests.waiting_for_a_chat(actor),
            **call_parts,
        }
    if actor.has(Role.ORG_ADMIN):
        queries["failed_messages"] = OutboxMessage.filter(
            organisation_id=actor.organisation_id, status=OutboxStatus.FAILED
        ).count()
    found = await db.counts(**queries)
    failed_messages = found.pop("failed_messages", 0)
    if call_parts:
        found["calls"] = sum(found.pop(part) for part in call_parts)
    return Figures(to_do=found, failed_messages=failed_messages)
