"""Outreach: the visits and posts that told people about involvement, logged by involvement
leads so the report can show who was reached and how much interest each kind of outreach
brought in (an interest names the outreach it came from, `Interest.outreach_id`).

Leads of the organisation do everything here; any other member of staff is forbidden, and
another organisation's outreach is not found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tortoise.functions import Count, Sum
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from coprod import clock
from coprod.errors import NotFound
from coprod.models import Interest, Outreach, OutreachKind, Team
from coprod.services import audit
from coprod.services.access import require_lead
from coprod.services.actor import Actor
from coprod.validation import Checker, record_id

KINDS = {k.value: k.label for k in OutreachKind}
PLACE_MAX = 200
NOTE_MAX = 2000
# Larger than any one event or post could reach: a typing slip, not a figure to report.
PEOPLE_MAX = 1_000_000


async def outreach_for(actor: Actor, outreach_id: int) -> Outreach:
    found = await Outreach.get_or_none(id=outreach_id, organisation_id=actor.organisation_id)
    if found is None:
        raise NotFound
    require_lead(actor)
    return found


@dataclass(frozen=True)
class Filters:
    start: dt.date | None = None
    end: dt.date | None = None
    kind: OutreachKind | None = None


def filters(query: Mapping[str, Any]) -> Filters:
    """The dates (either may be left out) and kind a list is narrowed to, as the page's query
    string or the API's query gives them."""
    c = Checker(query)
    start = c.date("start", "the start date", required=False)
    end = c.date("end", "the end date", required=False)
    if start and end and end < start:
        c.fail("end", "The end date must be the same as or after the start date")
    kind = c.choice("kind", "a kind of outreach", ["", *KINDS]) if c.raw("kind") else ""
    c.done()
    return Filters(start, end, OutreachKind(kind) if kind else None)


def listing(actor: Actor, chosen: Filters) -> QuerySet[Outreach]:
    """The organisation's outreach held between the dates and of the kind chosen, newest
    first."""
    require_lead(actor)
    found = Outreach.filter(organisation_id=actor.organisation_id)
    if chosen.start:
        found = found.filter(held_on__gte=chosen.start)
    if chosen.end:
        found = found.filter(held_on__lte=chosen.end)
    if chosen.kind:
        found = found.filter(kind=chosen.kind)
    return found.order_by("-held_on", "-id")


@dataclass(frozen=True)
class Totals:
    events: int
    people_reached: int


async def totals(found: QuerySet[Outreach]) -> Totals:
    """How many events a listing holds and the people they reached, in one query."""
    # Without the listing's order, which an aggregate over every row cannot have.
    rows = (
        await found.order_by()
        .annotate(n=Count("id"), reached=Sum("people_reached"))
        .values("n", "reached")
    )
    row = rows[0] if rows else {}
    return Totals(int(row.get("n") or 0), int(row.get("reached") or 0))


async def interests_linked(outreach: Iterable[Outreach]) -> dict[int, int]:
    """How many people said they heard through each outreach (spam held aside not counted), in
    one grouped query."""
    ids = [o.id for o in outreach]
    if not ids:
        return {}
    rows = (
        await Interest.filter(outreach_id__in=ids, held_as_spam=False)
        .annotate(n=Count("id"))
        .group_by("outreach_id")
        .values("outreach_id", "n")
    )
    return dict.fromkeys(ids, 0) | {int(r["outreach_id"]): int(r["n"]) for r in rows}


async def _read(actor: Actor, data: Mapping[str, Any], current: Outreach | None) -> dict[str, Any]:
    """The fields asked for, checked; a field left out keeps its value when changing."""
    c = Checker(data)
    values: dict[str, Any] = {}

    def given(field: str) -> bool:
        return current is None or field in data or any(k.startswith(f"{field}[") for k in data)

    if given("kind"):
        values["kind"] = c.choice("kind", "the kind of outreach", KINDS)
    if given("held_on"):
        held_on = c.date("held_on", "the date")
        if held_on is not None and held_on > clock.today():
            c.fail("held_on", "The date must be today or in the past")
        values["held_on"] = held_on
    if given("place"):
        values["place"] = c.text("place", "where it was", max_length=PLACE_MAX)
    if given("people_reached") and not c.raw("people_reached"):
        c.fail("people_reached", "Enter the number of people reached")
    elif given("people_reached"):
        values["people_reached"] = c.integer(
            "people_reached", "the number of people reached", minimum=0, maximum=PEOPLE_MAX
        )
    if given("team_id"):
        raw = c.raw("team_id")
        team_id = record_id(raw) if raw else None
        if raw and (
            team_id is None
            or not await Team.exists(id=team_id, organisation_id=actor.organisation_id)
        ):
            c.fail("team_id", "Select a team in your organisation, or no team")
        values["team_id"] = team_id
    if given("note"):
        values["note"] = c.text("note", "a note", required=False, max_length=NOTE_MAX) or None
    c.done()
    if "kind" in values:
        values["kind"] = OutreachKind(values["kind"])
    return values


async def create(actor: Actor, data: Mapping[str, Any]) -> Outreach:
    require_lead(actor)
    values = await _read(actor, data, None)
    async with in_transaction():
        made = await Outreach.create(
            organisation_id=actor.organisation_id, recorded_by=actor.user, **values
        )
        await audit.record(actor, "outreach.create", made, after=audit.snapshot(made))
    return made


async def update(actor: Actor, outreach: Outreach, data: Mapping[str, Any]) -> Outreach:
    """Correct an outreach record; fields left out stay as they are."""
    if outreach.organisation_id != actor.organisation_id:
        raise NotFound
    require_lead(actor)
    values = await _read(actor, data, outreach)
    async with in_transaction():
        locked = await Outreach.select_for_update().get(id=outreach.id)
        before = audit.snapshot(locked)
        for name, value in values.items():
            setattr(locked, name, value)
        await locked.save()
        await audit.record(
            actor, "outreach.update", locked, before=before, after=audit.snapshot(locked)
        )
    return locked


async def delete(actor: Actor, outreach: Outreach) -> None:
    """Remove a record logged by mistake. Interest that named it stays, without the link."""
    if outreach.organisation_id != actor.organisation_id:
        raise NotFound
    require_lead(actor)
    async with in_transaction():
        before = audit.snapshot(outreach)
        await Interest.filter(outreach_id=outreach.id).update(outreach_id=None)
        await outreach.delete()
        await audit.record(actor, "outreach.delete", outreach, before=before)
