"""Representatives' records: creating, changing, archiving, breaks, and finding them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Lower
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from coprod import clock
from coprod.domain.contracts import ContractStatus, Term, status
from coprod.domain.phone_numbers import normalise_mobile
from coprod.errors import Forbidden
from coprod.models import (
    ContactChannel,
    Contract,
    Format,
    Membership,
    Mode,
    PaymentPreference,
    Representative,
    RepresentativeType,
    Role,
    Team,
    User,
)
from coprod.services import audit
from coprod.services.access import is_lead, is_self
from coprod.services.actor import Actor
from coprod.validation import Checker, ValidationFailed, record_id

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = dict(
    zip(
        DAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
PARTS = ("morning", "afternoon", "evening")
UNAVAILABLE_SLOTS = tuple(f"{d}:{p}" for d in DAYS for p in PARTS)
CHANNEL_ADDRESS = {
    ContactChannel.EMAIL.value: ("email", "an email address"),
    ContactChannel.PHONE.value: ("phone", "a phone number"),
    ContactChannel.TEXT.value: ("mobile", "a mobile number for texts"),
    ContactChannel.POST.value: ("postal_address", "a postal address"),
}
# What a representative may change about themselves; leads may change all of these and more.
SELF_SERVICE_FIELDS = frozenset(
    {
        "phone",
        "mobile",
        "postal_address",
        "contact_channels",
        "formats",
        "translated_language",
        "interpreter_language",
        "needs_transport",
        "wants_tech_test",
        "other_needs",
        "preferred_modes",
        "unavailable",
        "unavailable_note",
        "payment_preference",
        "break_until",
    }
)
LEAD_ONLY_FIELDS = frozenset({"full_name", "representative_type", "email", "team_ids", "lead_id"})
PROFILE_FIELDS = SELF_SERVICE_FIELDS | LEAD_ONLY_FIELDS


async def read_profile(
    organisation_id: int,
    data: Mapping[str, Any],
    *,
    fields: frozenset[str],
    partial: bool,
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Check the profile fields given (all of `fields` unless partial); return clean values.

    Rules across fields are checked on the record as it would be after the change (`current`
    plus these values), in the same pass, so a person sees every problem at once.
    """
    present = {f for f in fields if f in data} if partial else set(fields)
    c = Checker(data)
    out: dict[str, Any] = {}
    if "full_name" in present:
        out["full_name"] = c.text("full_name", "their full name")
    if "representative_type" in present:
        out["representative_type"] = c.choice(
            "representative_type",
            "whether they are a patient, a carer or both",
            [t.value for t in RepresentativeType],
        )
    if "email" in present:
        out["email"] = c.email("email", required=False) or None
    if "phone" in present:
        out["phone"] = c.phone("phone", "a phone number") or None
    if "mobile" in present:
        out["mobile"] = c.phone("mobile", "a mobile number") or None
    if "postal_address" in present:
        out["postal_address"] = (
            c.text("postal_address", "a postal address", required=False, max_length=500) or None
        )
    if "contact_channels" in present:
        out["contact_channels"] = c.many(
            "contact_channels", "how to contact them", [ch.value for ch in ContactChannel]
        )
        raw = data.get("contact_channels")
        given = [str(v).strip() for v in raw if str(v).strip()] if isinstance(raw, list) else []
        if len(given) != len(set(given)):
            # The order is the point: a way chosen twice leaves unclear which comes first.
            c.fail("contact_channels", "Choose each way to contact them once")
    if "formats" in present:
        out["formats"] = c.many("formats", "the formats they need", [f.value for f in Format])
    if "translated_language" in present:
        out["translated_language"] = (
            c.text(
                "translated_language",
                "the language for translated papers",
                required=False,
                max_length=100,
            )
            or None
        )
    if "interpreter_language" in present:
        out["interpreter_language"] = (
            c.text(
                "interpreter_language", "the interpreter's language", required=False, max_length=100
            )
            or None
        )
    for flag in ("needs_transport", "wants_tech_test"):
        if flag in present:
            out[flag] = c.boolean(flag)
    if "other_needs" in present:
        out["other_needs"] = (
            c.text("other_needs", "other needs", required=False, max_length=2000) or None
        )
    if "preferred_modes" in present:
        out["preferred_modes"] = c.many(
            "preferred_modes", "the ways they like to join", [m.value for m in Mode]
        )
    if "unavailable" in present:
        out["unavailable"] = c.many("unavailable", "the times they cannot do", UNAVAILABLE_SLOTS)
    if "unavailable_note" in present:
        out["unavailable_note"] = (
            c.text("unavailable_note", "a note about times", required=False, max_length=500) or None
        )
    if "payment_preference" in present:
        out["payment_preference"] = c.choice(
            "payment_preference",
            "whether they want to be paid",
            [p.value for p in PaymentPreference],
        )
    if "break_until" in present:
        out["break_until"] = c.date("break_until", "the date their break ends", required=False)
    if "team_ids" in present:
        raw = data.get("team_ids") or []
        ids = raw if isinstance(raw, list) else [raw]
        chosen = [record_id(i) for i in ids if str(i).strip()]
        # An id that cannot exist still counts as wanted, so it is refused as not on the list.
        wanted = {i if i is not None else -1 for i in chosen}
        found = set(
            await Team.filter(organisation_id=organisation_id, id__in=wanted).values_list(
                "id", flat=True
            )
        )
        if wanted - found:
            c.fail("team_ids", "Select teams or services from the list")
        out["team_ids"] = sorted(found)
    if "lead_id" in present:
        raw_lead = str(data.get("lead_id") or "").strip()
        out["lead_id"] = None
        if raw_lead:
            lead_id = record_id(raw_lead)
            ok = (
                lead_id is not None
                and await Membership.filter(
                    organisation_id=organisation_id,
                    user_id=lead_id,
                    role=Role.INVOLVEMENT_LEAD,
                ).exists()
            )
            if ok:
                out["lead_id"] = lead_id
            else:
                c.fail("lead_id", "Select an involvement lead from the list")
    check_consistency({**(current or {}), **out}, c)
    c.done()
    # Set on a record, these must be members, as they are when it is read back: callers use
    # `.value` on the record they are given after an update.
    for name, kind in _ENUM_FIELDS.items():
        if name in out:
            out[name] = kind(out[name])
    return out


_ENUM_FIELDS: dict[str, type[StrEnum]] = {
    "representative_type": RepresentativeType,
    "payment_preference": PaymentPreference,
}


def check_consistency(values: Mapping[str, Any], errors: Checker) -> None:
    channels = values.get("contact_channels") or []
    if not channels:
        errors.fail("contact_channels", "Select at least one way to contact them")
    for channel in channels:
        if channel not in CHANNEL_ADDRESS:
            continue  # already refused as not on the list; nothing to check it against
        field, label = CHANNEL_ADDRESS[channel]
        if not values.get(field):
            errors.fail(field, f"Enter {label}, or choose a different way to contact them")
        elif channel == ContactChannel.TEXT.value and not normalise_mobile(values[field]):
            errors.fail(
                field,
                "Enter a mobile number that can receive texts, like 07700 900 982, "
                "or choose a different way to contact them",
            )
    formats = values.get("formats") or []
    if Format.TRANSLATED.value in formats and not values.get("translated_language"):
        errors.fail("translated_language", "Enter the language for translated papers")
    if Format.INTERPRETER.value in formats and not values.get("interpreter_language"):
        errors.fail("interpreter_language", "Enter the language the interpreter should speak")


def _profile_snapshot(rep: Representative, team_ids: list[int]) -> dict[str, Any]:
    return {**audit.snapshot(rep), "team_ids": team_ids}


async def _team_ids(rep: Representative) -> list[int]:
    return sorted(t.id for t in await rep.lived_experience_teams.all())


def on_behalf(actor: Actor, rep: Representative) -> str | None:
    return None if is_self(actor, rep) else rep.full_name


async def _link_account(actor: Actor, rep: Representative, email: str | None) -> None:
    """Someone with an email address signs in by link, and someone with only a mobile number
    by a code sent by text, so each gets an account. An email address is one person's, so it
    joins their records in several organisations to one account; a number never does, as
    people share phones (a number held by two people is sent no codes)."""
    if rep.user_id is not None:
        if email is not None:
            await _add_email(actor, rep, email)
        return
    email = email or rep.email
    if email is None:
        if normalise_mobile(rep.mobile) is None:
            return  # a lead acts for them
        user = await User.create(email=None, full_name=rep.full_name)
        await audit.record(actor, "user.create", user, after=audit.snapshot(user))
    else:
        found = await User.get_or_none(email=email)
        if found is None:
            found = await User.create(email=email, full_name=rep.full_name)
            await audit.record(actor, "user.create", found, after=audit.snapshot(found))
        user = found
        if (
            await Representative.filter(organisation_id=rep.organisation_id, user=user)
            .exclude(id=rep.id)
            .exists()
        ):
            raise ValidationFailed.one(
                "email", "Another representative here already uses this email address"
            )
    await Membership.get_or_create(
        user=user, organisation_id=rep.organisation_id, role=Role.REPRESENTATIVE
    )
    rep.user = user


async def _add_email(actor: Actor, rep: Representative, email: str) -> None:
    """An account made for a mobile number takes the email address given later, so its owner
    can sign in by link too."""
    user = await User.get(id=rep.user_id)
    if user.email is not None:
        return
    if await User.filter(email=email).exists():
        raise ValidationFailed.one(
            "email",
            "Another account already uses this email address",
        )
    user.email = email
    await user.save(update_fields=["email"])
    await audit.record(actor, "user.update", user, after={"email": email})


async def create(actor: Actor, data: Mapping[str, Any]) -> Representative:
    if not is_lead(actor):
        raise Forbidden
    # Being paid is the default; declining is the person's choice to make.
    data = {"payment_preference": PaymentPreference.PAID.value, **data}
    values = await read_profile(
        actor.organisation_id or 0, data, fields=PROFILE_FIELDS, partial=False
    )
    team_ids = values.pop("team_ids")
    async with in_transaction():
        rep = Representative(organisation_id=actor.organisation_id, **values)
        await rep.save()
        if team_ids:
            await rep.lived_experience_teams.add(*await Team.filter(id__in=team_ids))
        await _link_account(actor, rep, values.get("email"))
        await rep.save()
        await audit.record(
            actor,
            "representative.create",
            rep,
            after=_profile_snapshot(rep, team_ids),
            on_behalf_of=on_behalf(actor, rep),
        )
    return rep


async def update(
    actor: Actor, rep: Representative, data: Mapping[str, Any], *, partial: bool
) -> Representative:
    """Leads change anything on the profile; a representative changes their own needs,
    preferences, contact details and break."""
    allowed = PROFILE_FIELDS if is_lead(actor) else SELF_SERVICE_FIELDS
    if not (is_lead(actor) or is_self(actor, rep)):
        raise Forbidden
    if partial:
        refused = sorted(set(data) & (PROFILE_FIELDS - allowed))
        if refused:
            raise ValidationFailed.one(refused[0], "Ask your involvement lead to change this")
    current = {f: getattr(rep, f) for f in PROFILE_FIELDS - {"team_ids", "lead_id"}}
    values = await read_profile(
        rep.organisation_id, data, fields=allowed, partial=partial, current=current
    )
    current_teams = await _team_ids(rep)
    before = _profile_snapshot(rep, current_teams)
    team_ids = values.pop("team_ids", None)
    async with in_transaction():
        for key, value in values.items():
            setattr(rep, key, value)
        await _link_account(actor, rep, values.get("email"))
        await rep.save()
        if team_ids is not None:
            await rep.lived_experience_teams.clear()
            if team_ids:
                await rep.lived_experience_teams.add(*await Team.filter(id__in=team_ids))
        after = _profile_snapshot(rep, team_ids if team_ids is not None else current_teams)
        changed_before = {k: v for k, v in before.items() if after.get(k) != v}
        changed_after = {k: after[k] for k in changed_before}
        if changed_after:
            await audit.record(
                actor,
                "representative.update",
                rep,
                before=changed_before,
                after=changed_after,
                on_behalf_of=on_behalf(actor, rep),
            )
    return rep


async def set_break(
    actor: Actor, rep: Representative, until: Mapping[str, Any] | str | dt.date | None
) -> Representative:
    """`until` is a date, an ISO string, empty to end the break, or the submitted form."""
    data = until if isinstance(until, Mapping) else {"break_until": str(until or "")}
    checker = Checker(data)
    day = checker.date("break_until", "the date your break ends", required=False)
    if day is not None and day < clock.today():
        checker.fail("break_until", "The date your break ends must be today or in the future")
    checker.done()
    return await update(actor, rep, {"break_until": day.isoformat() if day else ""}, partial=True)


async def archive(actor: Actor, rep: Representative) -> None:
    if not is_lead(actor):
        raise Forbidden
    async with in_transaction():
        rep.archived_at = dt.datetime.now(dt.UTC)
        await rep.save(update_fields=["archived_at"])
        await audit.record(actor, "representative.archive", rep, after={"archived": True})


def contract_state(contracts: list[Contract], day: dt.date) -> ContractStatus | None:
    """The most relevant status across someone's contracts: in force beats upcoming beats past."""
    order = [
        ContractStatus.ACTIVE,
        ContractStatus.EXPIRING,
        ContractStatus.UPCOMING,
        ContractStatus.EXPIRED,
        ContractStatus.ENDED,
    ]
    states = {status(Term(c.starts_on, c.ends_on, c.ended_on), day) for c in contracts}
    return next((s for s in order if s in states), None)


@dataclass(frozen=True)
class Filters:
    q: str = ""
    mode: str = ""
    need: str = ""
    rep_type: str = ""
    team_id: int | None = None
    contract: str = ""
    on_break: str = ""  # "yes" | "no" | ""
    archived: bool = False


NEED_FILTERS = {f.value for f in Format} | {"transport", "tech_test"}


async def search(
    actor: Actor, filters: Filters
) -> list[tuple[Representative, ContractStatus | None]]:
    return with_contract_states(await (await search_query(actor, filters)))


async def search_query(actor: Actor, filters: Filters) -> QuerySet[Representative]:
    """Everyone the filters match, ordered by name (any case) then id, with their contracts, as a
    query so that a page can read one page of it."""
    if not is_lead(actor):
        raise Forbidden
    query = Representative.filter(organisation_id=actor.organisation_id)
    query = query.filter(archived_at__isnull=not filters.archived)
    if filters.q:
        query = query.filter(Q(full_name__icontains=filters.q) | Q(email__icontains=filters.q))
    if filters.rep_type in {t.value for t in RepresentativeType}:
        query = query.filter(representative_type=filters.rep_type)
    if filters.team_id:
        query = query.filter(lived_experience_teams__id=filters.team_id)
    day = clock.today()
    if filters.on_break == "yes":
        query = query.filter(break_until__gte=day)
    elif filters.on_break == "no":
        query = query.filter(Q(break_until__isnull=True) | Q(break_until__lt=day))
    if filters.mode or filters.need or filters.contract:
        # JSON list columns and contract states are matched here: a trust has hundreds of
        # representatives, not millions, and this keeps the query the same on SQLite and
        # PostgreSQL. The matches go back to the database as ids so that it can page them.
        reps = await query.distinct().prefetch_related("contracts")
        query = Representative.filter(id__in=[r.id for r in reps if _matches(r, filters, day)])
    return (
        query.distinct()
        .annotate(name_key=Lower("full_name"))
        .order_by("name_key", "id")
        .prefetch_related("contracts")
    )


def _matches(rep: Representative, filters: Filters, day: dt.date) -> bool:
    if filters.mode and filters.mode not in (rep.preferred_modes or []):
        return False
    if filters.need:
        needs = set(rep.formats or [])
        needs |= {"transport"} if rep.needs_transport else set()
        needs |= {"tech_test"} if rep.wants_tech_test else set()
        if filters.need not in needs:
            return False
    if filters.contract:
        state = contract_state(list(rep.contracts), day)
        if filters.contract == "none":
            return state is None
        return state is not None and state.value == filters.contract
    return True


def with_contract_states(
    reps: list[Representative],
) -> list[tuple[Representative, ContractStatus | None]]:
    """Each person with their contract status today, from their prefetched contracts."""
    day = clock.today()
    return [(rep, contract_state(list(rep.contracts), day)) for rep in reps]
