"""Opportunities: roles an organisation recruits representatives into, written and published by
its involvement leads (or administrators), and shown to the public on the organisation's page
and its networks' pages, with easy-read and large-print versions to print.

The public sees an opportunity only while it is open (published, not withdrawn, and not past its
closing day in London). Saying you are interested is never refused, even after one closes: the
interest form is separate from the opportunity, so a closed page still leads to it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from coprod import clock
from coprod.config import get_settings
from coprod.domain import opportunities as rules
from coprod.domain import pay
from coprod.errors import Conflict, Forbidden, NotFound
from coprod.models import Kind, MembershipStatus, Network, NetworkMembership, Organisation, Role
from coprod.models.people import Mode
from coprod.models.recruitment import Interest, Opportunity
from coprod.services import audit, rate_cards
from coprod.services.actor import Actor
from coprod.validation import Checker, ValidationFailed

Stage = rules.Stage

CLOSING_DATE_PASSED = "The closing date must be today or later"
NOT_OPEN_TO_WITHDRAW = "Only a published opportunity can be withdrawn"
FIELDS = (
    "title",
    "activity_kind",
    "involves",
    "easy_read",
    "time_commitment",
    "pay",
    "modes",
    "accessibility",
    "closes_on",
)


def may_manage(actor: Actor) -> bool:
    return actor.organisation_id is not None and actor.has(Role.INVOLVEMENT_LEAD, Role.ORG_ADMIN)


def _require_manager(actor: Actor) -> int:
    if not may_manage(actor) or actor.organisation_id is None:
        raise Forbidden
    return actor.organisation_id


def stage_of(opportunity: Opportunity, today: dt.date | None = None) -> Stage:
    return rules.stage(
        published=opportunity.published_at is not None,
        withdrawn=opportunity.withdrawn_at is not None,
        closes_on=opportunity.closes_on,
        today=today or clock.today(),
    )


def public_path(organisation: Organisation, opportunity: Opportunity) -> str:
    return f"/join/{organisation.slug}/opportunities/{opportunity.id}"


def public_url(organisation: Organisation, opportunity: Opportunity) -> str:
    """The web link on the prints (and in their QR code)."""
    return get_settings().base_url + public_path(organisation, opportunity)


# ---------------------------------------------------------------------------- for leads


async def opportunity_for(actor: Actor, opportunity_id: int) -> Opportunity:
    """One of the actor's organisation's opportunities: another organisation's is not found."""
    organisation_id = _require_manager(actor)
    found = await Opportunity.get_or_none(
        id=opportunity_id, organisation_id=organisation_id
    ).prefetch_related("organisation")
    if found is None:
        raise NotFound
    return found


def of_organisation(actor: Actor) -> QuerySet[Opportunity]:
    return Opportunity.filter(organisation_id=_require_manager(actor))


async def interest_counts(opportunity_ids: list[int]) -> dict[int, int]:
    """How many people said they were interested in each opportunity, in one query."""
    if not opportunity_ids:
        return {}
    rows = (
        await Interest.filter(opportunity_id__in=opportunity_ids)
        .group_by("opportunity_id")
        .annotate(n=Count("id"))
        .values("opportunity_id", "n")
    )
    return {row["opportunity_id"]: row["n"] for row in rows}


@dataclass(frozen=True)
class LeadList:
    organisation: Organisation
    drafts: list[Opportunity]
    open: list[Opportunity]
    ended: list[Opportunity]  # closed or withdrawn
    interest: dict[int, int]


async def for_lead(actor: Actor) -> LeadList:
    organisation = await Organisation.get(id=_require_manager(actor))
    found = list(await Opportunity.filter(organisation_id=organisation.id))
    today = clock.today()
    groups: dict[Stage, list[Opportunity]] = defaultdict(list)
    for o in found:
        groups[stage_of(o, today)].append(o)
    return LeadList(
        organisation=organisation,
        drafts=groups[Stage.DRAFT],
        open=groups[Stage.OPEN],
        ended=groups[Stage.CLOSED] + groups[Stage.WITHDRAWN],
        interest=await interest_counts([o.id for o in found]),
    )


async def standard_pay(organisation_id: int) -> str:
    """The organisation's fee today, in the words a new opportunity's pay starts from."""
    rates = pay.rates_on(clock.today(), await rate_cards.rate_card(organisation_id))
    return rules.standard_pay(rates.day_pence, rates.half_day_pence)


async def new_form(actor: Actor) -> dict[str, Any]:
    """What the new-opportunity form starts with."""
    organisation_id = _require_manager(actor)
    return {"pay": await standard_pay(organisation_id), "modes": []}


def _values(opportunity: Opportunity) -> dict[str, Any]:
    return {
        name: (value.isoformat() if isinstance(value, dt.date) else value)
        for name in FIELDS
        for value in [getattr(opportunity, name)]
    }


def _check(data: Mapping[str, Any], today: dt.date, was: dt.date | None) -> dict[str, Any]:
    """Every field checked at once; a closing date that is changed may not be in the past."""
    c = Checker(data)
    title = c.text("title", "the role", max_length=rules.MAX_TITLE)
    kind = c.raw("activity_kind")
    if kind and kind not in {k.value for k in Kind}:
        c.fail("activity_kind", "Select the kind of activity")
    involves = c.text("involves", "what the role involves", max_length=rules.MAX_TEXT)
    easy_read = c.text(
        "easy_read", "the easy-read version", required=False, max_length=rules.MAX_TEXT
    )
    time_commitment = c.text(
        "time_commitment", "how much time it takes", max_length=rules.MAX_SHORT
    )
    pay_words = c.text("pay", "what it pays", max_length=rules.MAX_SHORT)
    modes = c.many("modes", "the ways to take part", [m.value for m in Mode])
    if not modes:
        c.fail("modes", "Select at least one way to take part")
    accessibility = c.text(
        "accessibility",
        "the support you offer so that everyone can take part",
        max_length=rules.MAX_TEXT,
    )
    closes_on = c.date("closes_on", "the closing date", required=False)
    if closes_on is not None and closes_on != was and closes_on < today:
        c.fail("closes_on", CLOSING_DATE_PASSED)
    c.done()
    return {
        "title": title,
        "activity_kind": kind or None,
        "involves": involves,
        "easy_read": easy_read or None,
        "time_commitment": time_commitment,
        "pay": pay_words,
        "modes": modes,
        "accessibility": accessibility,
        "closes_on": closes_on,
    }


async def create(actor: Actor, data: Mapping[str, Any]) -> Opportunity:
    """A new draft opportunity; the public sees it once it is published."""
    organisation_id = _require_manager(actor)
    fields = _check(data, clock.today(), None)
    async with in_transaction():
        opportunity = await Opportunity.create(
            organisation_id=organisation_id, created_by=actor.user, **fields
        )
        await audit.record(
            actor, "opportunity.create", opportunity, after=audit.snapshot(opportunity)
        )
    return opportunity


def _merged(opportunity: Opportunity, data: Mapping[str, Any]) -> dict[str, Any]:
    """The opportunity's fields with those given replacing them: fields left out stay as they
    are (the API's PATCH), and a page sends them all. A page's date comes as day, month and
    year boxes, which stand for the whole date when any is sent."""
    current = _values(opportunity)
    if any(key.startswith("closes_on[") for key in data) and "closes_on" not in data:
        current.pop("closes_on")
    return current | dict(data)


async def update(actor: Actor, opportunity: Opportunity, data: Mapping[str, Any]) -> Opportunity:
    """Change an opportunity in any state: a published one changes on the public page too."""
    _require_manager(actor)
    fields = _check(_merged(opportunity, data), clock.today(), opportunity.closes_on)
    async with in_transaction():
        locked = await Opportunity.select_for_update().get(id=opportunity.id)
        before = audit.snapshot(locked)
        for name, value in fields.items():
            setattr(locked, name, value)
        await locked.save(update_fields=list(fields))
        await audit.record(
            actor, "opportunity.update", locked, before=before, after=audit.snapshot(locked)
        )
    return locked


async def publish(actor: Actor, opportunity: Opportunity) -> Opportunity:
    """Show it on the public pages (again, if it was withdrawn). It must not have closed."""
    _require_manager(actor)
    today = clock.today()
    async with in_transaction():
        locked = await Opportunity.select_for_update().get(id=opportunity.id)
        was = stage_of(locked, today)
        if was == Stage.OPEN:
            return locked
        if locked.closes_on is not None and locked.closes_on < today:
            raise ValidationFailed.one("closes_on", CLOSING_DATE_PASSED)
        locked.published_at = dt.datetime.now(dt.UTC)
        locked.withdrawn_at = None
        await locked.save(update_fields=["published_at", "withdrawn_at"])
        await audit.record(
            actor,
            "opportunity.publish",
            locked,
            before={"stage": was.value},
            after={"stage": Stage.OPEN.value},
        )
    return locked


async def withdraw(actor: Actor, opportunity: Opportunity) -> Opportunity:
    """Take it off the public pages before its closing date (or after: it stays off)."""
    _require_manager(actor)
    async with in_transaction():
        locked = await Opportunity.select_for_update().get(id=opportunity.id)
        was = stage_of(locked)
        if was == Stage.WITHDRAWN:
            return locked
        if was == Stage.DRAFT:
            raise Conflict(NOT_OPEN_TO_WITHDRAW)
        locked.withdrawn_at = dt.datetime.now(dt.UTC)
        await locked.save(update_fields=["withdrawn_at"])
        await audit.record(
            actor,
            "opportunity.withdraw",
            locked,
            before={"stage": was.value},
            after={"stage": Stage.WITHDRAWN.value},
        )
    return locked


# ---------------------------------------------------------------------------- for the public


def open_on(found: QuerySet[Opportunity], today: dt.date) -> QuerySet[Opportunity]:
    """The opportunities open on `today`: the query the public pages share with `stage`."""
    return found.filter(
        Q(closes_on__isnull=True) | Q(closes_on__gte=today),
        published_at__isnull=False,
        withdrawn_at__isnull=True,
    )


async def organisation_by_slug(slug: str) -> Organisation:
    if not slug or len(slug) > 80:
        raise NotFound
    organisation = await Organisation.get_or_none(slug=slug)
    if organisation is None:
        raise NotFound
    return organisation


async def open_at(organisation: Organisation) -> list[Opportunity]:
    return list(await open_on(Opportunity.filter(organisation_id=organisation.id), clock.today()))


@dataclass(frozen=True)
class Public:
    organisation: Organisation
    opportunity: Opportunity
    stage: Stage


async def for_public(slug: str, opportunity_id: int) -> Public:
    """An opportunity as the public may see it: open, or closed (to say so); a draft or a
    withdrawn one, or another organisation's, is not found."""
    organisation = await organisation_by_slug(slug)
    found = await Opportunity.get_or_none(id=opportunity_id, organisation_id=organisation.id)
    if found is None:
        raise NotFound
    now = stage_of(found)
    if now not in (Stage.OPEN, Stage.CLOSED):
        raise NotFound
    return Public(organisation, found, now)


async def open_for_public(slug: str, opportunity_id: int) -> Public:
    """An open opportunity (its prints and QR code): any other is not found."""
    found = await for_public(slug, opportunity_id)
    if found.stage != Stage.OPEN:
        raise NotFound
    return found


@dataclass(frozen=True)
class NetworkOpportunities:
    network: Network
    # Each accepted member with open opportunities, by name, and those opportunities.
    members: list[tuple[Organisation, list[Opportunity]]]


async def open_in_network(network_id: int) -> NetworkOpportunities:
    """The open opportunities of a network's members: only organisations that accepted."""
    network = await Network.get_or_none(id=network_id)
    if network is None:
        raise NotFound
    members = NetworkMembership.filter(
        network_id=network_id, status=MembershipStatus.ACCEPTED
    ).values("organisation_id")
    found = await open_on(
        Opportunity.filter(organisation_id__in=Subquery(members)), clock.today()
    ).prefetch_related("organisation")
    by_organisation: dict[int, list[Opportunity]] = defaultdict(list)
    for o in found:
        by_organisation[o.organisation_id].append(o)
    organisations = sorted(
        (opportunities[0].organisation for opportunities in by_organisation.values()),
        key=lambda org: (org.name, org.id),
    )
    return NetworkOpportunities(network, [(org, by_organisation[org.id]) for org in organisations])
