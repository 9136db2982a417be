"""What a lead decides for each booking that a move or a contract ending puts at risk:
cancel it, or keep it with a reason."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from coprod.errors import Conflict
from coprod.models import (
    Booking,
)
from coprod.validation import Checker, FieldError


class Decision(StrEnum):
    CANCEL = "cancel"
    KEEP = "keep"


@dataclass
class AtRisk:
    """A booking that a change would leave breaking a rule, and the rules it would break."""

    booking: Booking
    reasons: list[str]


class DecisionsNeeded(Conflict):
    """The change would leave these bookings breaking a rule: the lead must decide, for each,
    to cancel it or to keep it with a reason. `errors` says, field by field, what is missing."""

    def __init__(self, at_risk: Sequence[AtRisk], errors: Sequence[FieldError]) -> None:
        self.at_risk = list(at_risk)
        self.errors = list(errors)
        self.undecided = all(e.field.startswith("decision_") for e in self.errors) and len(
            self.errors
        ) == len(self.at_risk)
        super().__init__(". ".join(e.message for e in self.errors), self.errors[0].field)


def read_decisions(
    data: Mapping[str, Any], at_risk: Sequence[AtRisk]
) -> dict[int, tuple[Decision, str]]:
    """The lead's decision for each booking at risk, as `decisions` (a list of
    {booking_id, decision, reason}) or as the page's `decision_<id>` and `reason_<id>` fields.
    Raises DecisionsNeeded unless every booking at risk has a decision (keeping needs a reason)."""
    raw = data.get("decisions")
    flat: dict[str, Any] = dict(data)
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, dict) and str(item.get("booking_id", "")).isdigit():
                flat[f"decision_{item['booking_id']}"] = item.get("decision")
                flat[f"reason_{item['booking_id']}"] = item.get("reason")
    c = Checker(flat)
    out: dict[int, tuple[Decision, str]] = {}
    for risk in at_risk:
        booking = risk.booking
        name = booking.representative.full_name
        choice = c.raw(f"decision_{booking.id}")
        if choice not in {d.value for d in Decision}:
            c.fail(
                f"decision_{booking.id}",
                f"Choose whether to cancel or keep {name}'s booking. {'. '.join(risk.reasons)}",
            )
            continue
        reason = c.text(
            f"reason_{booking.id}",
            f"why you are keeping {name}'s booking",
            required=choice == Decision.KEEP,
            max_length=2000,
        )
        out[booking.id] = (Decision(choice), reason)
    if c.errors:
        raise DecisionsNeeded(at_risk, c.errors)
    return out
