"""What a representative can say about an activity they attended, in the words they see, and
which answers a lead should follow up: no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# How it went, best first, as the form asks it.
RATINGS: dict[int, str] = {
    5: "Very well",
    4: "Well",
    3: "OK",
    2: "Not very well",
    1: "Badly",
}
LISTENED: dict[str, str] = {"yes": "Yes", "partly": "Partly", "no": "No"}
# "not_needed" is what the form says for an empty access_met: they needed nothing.
NOT_NEEDED = "not_needed"
ACCESS: dict[str, str] = {
    "yes": "Yes",
    "partly": "Partly",
    "no": "No",
    NOT_NEEDED: "I did not need anything",
}


def follow_up(listened_to: str, access_met: str | None) -> list[str]:
    """Why a lead should get in touch about this answer, in words for the lead: anything short
    of being listened to or of having their access needs met."""
    reasons = []
    if listened_to in ("no", "partly"):
        reasons.append(
            "did not feel listened to" if listened_to == "no" else "felt only partly listened to"
        )
    if access_met in ("no", "partly"):
        reasons.append(
            "access needs not met" if access_met == "no" else "access needs only partly met"
        )
    return reasons


@dataclass(frozen=True)
class Summary:
    given: int
    average_rating: float | None  # to one decimal place
    listened_percent: int | None  # of everyone who answered
    # Of those who needed something: "I did not need anything" is left out.
    access_met_percent: int | None
    needed_access: int


def summarise(answers: Iterable[tuple[int, str, str | None]]) -> Summary:
    """(rating, listened_to, access_met) for each answer. Only a plain "yes" counts as
    listened to or as access met."""
    rows = list(answers)
    needed = [a for _, _, a in rows if a is not None]
    return Summary(
        given=len(rows),
        average_rating=round(sum(r for r, _, _ in rows) / len(rows), 1) if rows else None,
        listened_percent=share(sum(1 for _, listened, _ in rows if listened == "yes"), len(rows)),
        access_met_percent=share(sum(1 for a in needed if a == "yes"), len(needed)),
        needed_access=len(needed),
    )


def share(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None
