"""Consent, acute episodes (special-category health data) and equality monitoring.

Health data is encrypted at rest (coprod.crypto), readable only by the person and their
organisation's involvement leads, and every view and change is audited, without the content.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.queryset import CountQuery, QuerySet
from tortoise.transactions import in_transaction

from coprod import clock
from coprod.config import get_settings
from coprod.crypto import decrypt_json, encrypt_json
from coprod.domain import consent as consent_rules
from coprod.domain import scheduling
from coprod.domain.equality import QUESTIONS
from coprod.errors import Forbidden, NotFound
from coprod.models import (
    AcuteEpisode,
    Booking,
    BookingStatus,
    Consent,
    ConsentPurpose,
    EqualityResponse,
    Representative,
)
from coprod.services import audit
from coprod.services.access import is_lead, is_self
from coprod.services.actor import Actor
from coprod.services.representatives import on_behalf
from coprod.validation import Checker, ValidationFailed


def _may_act_for(actor: Actor, rep: Representative) -> None:
    # A lead acts only for their own organisation's people (as in _may_see_health).
    if rep.organisation_id != actor.organisation_id or not (is_lead(actor) or is_self(actor, rep)):
        raise NotFound


# --------------------------------------------------------------------------- consent


async def current_consent(rep: Representative, purpose: ConsentPurpose) -> Consent | None:
    """The latest record not withdrawn, even if past its review day: the one a renewal or a
    withdrawal replaces. Whether it is in force is `has_consent`."""
    return (
        await Consent.filter(representative=rep, purpose=purpose, withdrawn_on__isnull=True)
        .order_by("-given_on", "-id")
        .first()
    )


async def consent_reason(
    rep: Representative, purpose: ConsentPurpose, day: dt.date | None = None
) -> consent_rules.NotInForce | None:
    """Why someone's consent for a purpose is not in force on a London day (today unless
    given), or None if it is."""
    records = [
        consent_rules.Record(c.given_on, c.review_on, c.withdrawn_on)
        for c in await Consent.filter(representative_id=rep.id, purpose=purpose)
    ]
    return consent_rules.why_not(records, day or scheduling.london_date(dt.datetime.now(dt.UTC)))


async def consent_reasons(
    reps: Iterable[Representative], purpose: ConsentPurpose, day: dt.date | None = None
) -> dict[int, consent_rules.NotInForce]:
    """`consent_reason` for many people in one query: the reason by representative id, for
    those whose consent is not in force."""
    ids = [rep.id for rep in reps]
    records: dict[int, list[consent_rules.Record]] = {i: [] for i in ids}
    if ids:
        for c in await Consent.filter(representative_id__in=ids, purpose=purpose):
            records[c.representative_id].append(
                consent_rules.Record(c.given_on, c.review_on, c.withdrawn_on)
            )
    day = day or scheduling.london_date(dt.datetime.now(dt.UTC))
    return {
        rep_id: reason
        for rep_id, found in records.items()
        if (reason := consent_rules.why_not(found, day)) is not None
    }


async def has_consent(rep: Representative, purpose: ConsentPurpose) -> bool:
    """Given, not withdrawn, and not past its review day."""
    return await consent_reason(rep, purpose) is None


async def give_consent(actor: Actor, rep: Representative, data: Mapping[str, Any]) -> Consent:
    _may_act_for(actor, rep)
    c = Checker(data)
    purpose = c.choice("purpose", "what they agree to", [p.value for p in ConsentPurpose])
    given_on = c.date("given_on", "the date consent was given", required=False) or clock.today()
    c.done()
    if given_on > clock.today():
        raise ValidationFailed.one(
            "given_on", "The date consent was given must be today or in the past"
        )
    review_on = given_on + dt.timedelta(days=get_settings().consent_review_after_days)
    async with in_transaction():
        existing = await current_consent(rep, ConsentPurpose(purpose))
        if existing is not None:  # a renewal replaces the old record
            existing.withdrawn_on = clock.today()
            await existing.save(update_fields=["withdrawn_on"])
        consent = await Consent.create(
            representative=rep,
            purpose=purpose,
            given_on=given_on,
            review_on=review_on,
            recorded_by=actor.user,
        )
        await audit.record(
            actor,
            "consent.give",
            consent,
            after=audit.snapshot(consent),
            organisation_id=rep.organisation_id,
            on_behalf_of=on_behalf(actor, rep),
        )
    return consent


async def withdraw_consent(actor: Actor, rep: Representative, purpose: str) -> int:
    """Withdraw consent for a purpose. Withdrawing health consent deletes their episodes.
    Returns how many episodes were deleted."""
    _may_act_for(actor, rep)
    if purpose not in {p.value for p in ConsentPurpose}:
        raise ValidationFailed.one("purpose", "Select what they no longer agree to")
    consent = await current_consent(rep, ConsentPurpose(purpose))
    if consent is None:
        raise ValidationFailed.one("purpose", "There is no consent for this to withdraw")
    deleted = 0
    async with in_transaction():
        consent.withdrawn_on = clock.today()
        await consent.save(update_fields=["withdrawn_on"])
        await audit.record(
            actor,
            "consent.withdraw",
            consent,
            after={"purpose": purpose, "withdrawn_on": consent.withdrawn_on.isoformat()},
            organisation_id=rep.organisation_id,
            on_behalf_of=on_behalf(actor, rep),
        )
        if purpose == ConsentPurpose.HEALTH.value:
            ids = list(await AcuteEpisode.filter(representative=rep).values_list("id", flat=True))
            deleted = await AcuteEpisode.filter(representative=rep).delete()
            await audit.record(
                actor,
                "health.delete_all",
                ("Representative", rep.id),
                before={"episode_ids": ids},
                after={"episodes": 0, "reason": "health consent withdrawn"},
                organisation_id=rep.organisation_id,
                on_behalf_of=on_behalf(actor, rep),
            )
        elif purpose == ConsentPurpose.EQUALITY.value:
            await EqualityResponse.filter(representative=rep).delete()
    return deleted


def _due_for_review(actor: Actor, within_days: int) -> QuerySet[Consent]:
    if not is_lead(actor):
        raise Forbidden
    horizon = clock.today() + dt.timedelta(days=within_days)
    return Consent.filter(
        representative__organisation_id=actor.organisation_id,
        representative__archived_at__isnull=True,
        withdrawn_on__isnull=True,
        review_on__lte=horizon,
    )


def consents_due_query(actor: Actor, within_days: int = 30) -> QuerySet[Consent]:
    """The consents due for review, as a query so that a page can read one page of it."""
    return (
        _due_for_review(actor, within_days)
        .order_by("review_on", "id")
        .prefetch_related("representative")
    )


async def consents_due_for_review(actor: Actor, within_days: int = 30) -> list[Consent]:
    return list(await consents_due_query(actor, within_days))


def consents_due_for_review_count(actor: Actor, within_days: int = 30) -> CountQuery:
    return _due_for_review(actor, within_days).count()


def in_force_on(day: dt.date, purpose: ConsentPurpose) -> Subquery:
    """The ids of people whose consent for a purpose is in force on a day: `consent_reason`'s
    rule (consent_rules.in_force) as a subquery, for counting in the database."""
    return Subquery(
        Consent.filter(purpose=purpose, given_on__lte=day, review_on__gte=day)
        .filter(Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gt=day))
        .values("representative_id")
    )


# --------------------------------------------------------------------------- acute episodes


@dataclass(frozen=True)
class Episode:
    id: int
    started_on: dt.date
    ended_on: dt.date | None
    under_crisis_team: bool
    note: str

    @property
    def ongoing(self) -> bool:
        return self.ended_on is None


def _decode(row: AcuteEpisode) -> Episode:
    data = decrypt_json(row.payload)
    return Episode(
        id=row.id,
        started_on=dt.date.fromisoformat(data["started_on"]),
        ended_on=dt.date.fromisoformat(data["ended_on"]) if data.get("ended_on") else None,
        under_crisis_team=bool(data["under_crisis_team"]),
        note=data.get("note", ""),
    )


def _read_episode(data: Mapping[str, Any]) -> dict[str, Any]:
    c = Checker(data)
    started_on = c.date("started_on", "the date it started")
    ended_on = c.date("ended_on", "the date it ended", required=False)
    crisis = c.choice("under_crisis_team", "whether they were under the crisis team", ["yes", "no"])
    note = c.text("note", "a note", required=False, max_length=2000)
    c.done()
    assert started_on is not None
    if started_on > clock.today():
        raise ValidationFailed.one("started_on", "The date it started must be today or in the past")
    if ended_on is not None and ended_on < started_on:
        raise ValidationFailed.one(
            "ended_on", "The date it ended must be on or after the date it started"
        )
    return {
        "started_on": started_on.isoformat(),
        "ended_on": ended_on.isoformat() if ended_on else None,
        "under_crisis_team": crisis == "yes",
        "note": note,
    }


def _may_see_health(actor: Actor, rep: Representative) -> None:
    # Only the person and their own organisation's involvement leads; reporters, finance and
    # admins never see it.
    if rep.organisation_id != actor.organisation_id or not (is_lead(actor) or is_self(actor, rep)):
        raise NotFound


async def episodes(actor: Actor, rep: Representative) -> list[Episode]:
    """Read someone's episodes. This is itself recorded in the audit log."""
    _may_see_health(actor, rep)
    rows = await AcuteEpisode.filter(representative=rep).order_by("-created_at")
    await audit.record(
        actor,
        "health.view",
        ("Representative", rep.id),
        after={"episodes": len(rows)},
        organisation_id=rep.organisation_id,
    )
    return sorted((_decode(r) for r in rows), key=lambda e: e.started_on, reverse=True)


async def episode_dates(rep: Representative) -> list[tuple[dt.date, dt.date | None]]:
    """For the six-week rule: decrypted dates only, for a check that runs on the server."""
    rows = await AcuteEpisode.filter(representative=rep)
    return [(e.started_on, e.ended_on) for e in map(_decode, rows)]


async def episode_dates_for(
    reps: Iterable[Representative],
) -> dict[int, list[tuple[dt.date, dt.date | None]]]:
    """`episode_dates` for many people in one query, by representative id."""
    found: dict[int, list[tuple[dt.date, dt.date | None]]] = {rep.id: [] for rep in reps}
    if found:
        for row in await AcuteEpisode.filter(representative_id__in=list(found)):
            episode = _decode(row)
            found[row.representative_id].append((episode.started_on, episode.ended_on))
    return found


async def reflag_bookings(actor: Actor, rep: Representative) -> int:
    """An episode recorded (or changed) later flags upcoming confirmed bookings in the window,
    so the lead talks with the person before they take part."""
    episodes = await episode_dates(rep)
    window = get_settings().recovery_window_days
    count = 0
    upcoming = await Booking.filter(
        representative=rep, status=BookingStatus.CONFIRMED, starts_at__gt=dt.datetime.now(dt.UTC)
    )
    for booking in upcoming:
        if scheduling.needs_wellbeing_check(
            scheduling.london_date(booking.starts_at), episodes, window
        ):
            booking.status = BookingStatus.NEEDS_WELLBEING_CHECK
            await booking.save(update_fields=["status"])
            await audit.record(
                actor,
                "booking.flag",
                booking,
                after={"status": booking.status.value},
                organisation_id=rep.organisation_id,
            )
            count += 1
    return count


async def record_episode(
    actor: Actor, rep: Representative, data: Mapping[str, Any]
) -> AcuteEpisode:
    _may_see_health(actor, rep)
    if not await has_consent(rep, ConsentPurpose.HEALTH):
        raise ValidationFailed.one(
            "started_on", "Record their consent to hold health information before recording this"
        )
    payload = _read_episode(data)
    async with in_transaction():
        row = await AcuteEpisode.create(representative=rep, payload=encrypt_json(payload))
        await audit.record(
            actor,
            "health.create",
            row,
            after={"fields": sorted(payload)},
            organisation_id=rep.organisation_id,
            on_behalf_of=on_behalf(actor, rep),
        )
        await reflag_bookings(actor, rep)
    return row


async def get_episode_row(actor: Actor, rep: Representative, episode_id: int) -> AcuteEpisode:
    _may_see_health(actor, rep)
    row = await AcuteEpisode.get_or_none(id=episode_id, representative=rep)
    if row is None:
        raise NotFound
    return row


async def view_episode(actor: Actor, rep: Representative, episode_id: int) -> Episode:
    row = await get_episode_row(actor, rep, episode_id)
    await audit.record(
        actor,
        "health.view",
        row,
        organisation_id=rep.organisation_id,
    )
    return _decode(row)


def _stored(episode: Episode) -> dict[str, Any]:
    """An episode as `_read_episode` stores it."""
    return {
        "started_on": episode.started_on.isoformat(),
        "ended_on": episode.ended_on.isoformat() if episode.ended_on else None,
        "under_crisis_team": episode.under_crisis_team,
        "note": episode.note,
    }


async def update_episode(
    actor: Actor,
    rep: Representative,
    episode_id: int,
    data: Mapping[str, Any],
    *,
    partial: bool = False,
) -> AcuteEpisode:
    """Change an episode. The page sends every field; with `partial` (the API's PATCH), fields
    left out keep their values, merged here so the client never has to read (and so be audited
    as viewing) the episode to change one field of it."""
    row = await get_episode_row(actor, rep, episode_id)
    old = _stored(_decode(row))
    if partial:
        kept = old | {"under_crisis_team": "yes" if old["under_crisis_team"] else "no"}
        data = kept | dict(data)
    payload = _read_episode(data)
    changed = sorted(k for k, v in payload.items() if v != old[k])
    async with in_transaction():
        row.payload = encrypt_json(payload)
        await row.save(update_fields=["payload", "updated_at"])
        await audit.record(
            actor,
            "health.update",
            row,
            after={"changed": changed},
            organisation_id=rep.organisation_id,
            on_behalf_of=on_behalf(actor, rep),
        )
        await reflag_bookings(actor, rep)
    return row


async def delete_episode(actor: Actor, rep: Representative, episode_id: int) -> None:
    row = await get_episode_row(actor, rep, episode_id)
    async with in_transaction():
        await row.delete()
        await audit.record(
            actor,
            "health.delete",
            ("AcuteEpisode", episode_id),
            organisation_id=rep.organisation_id,
            on_behalf_of=on_behalf(actor, rep),
        )


# --------------------------------------------------------------------------- equality monitoring


def read_equality(data: Mapping[str, Any]) -> dict[str, str | None]:
    """The equality answers given, each one of its question's answers or skipped (None)."""
    c = Checker(data)
    answers: dict[str, str | None] = {}
    for question in QUESTIONS:
        raw = c.raw(question.key)
        if raw and raw not in question.values:
            c.fail(question.key, "Select one of the answers, or 'Prefer not to say'")
        answers[question.key] = raw or None
    c.done()
    return answers


async def save_equality(
    actor: Actor, rep: Representative, data: Mapping[str, Any]
) -> EqualityResponse:
    """Voluntary answers. Leads may record them for someone (e.g. by phone) but never read them
    back; the audit log notes that answers changed, not what they are."""
    _may_act_for(actor, rep)
    if not await has_consent(rep, ConsentPurpose.EQUALITY):
        raise ValidationFailed.one(
            QUESTIONS[0].key, "Record consent for equality monitoring before these answers"
        )
    answers = read_equality(data)
    async with in_transaction():
        response, _ = await EqualityResponse.get_or_create(representative=rep)
        for key, value in answers.items():
            setattr(response, key, value)
        await response.save()
        await audit.record(
            actor,
            "equality.update",
            ("Representative", rep.id),
            after={"answered": sum(v is not None for v in answers.values())},
            organisation_id=rep.organisation_id,
            on_behalf_of=on_behalf(actor, rep),
        )
    return response


async def own_equality(actor: Actor, rep: Representative) -> EqualityResponse | None:
    if not is_self(actor, rep):
        raise NotFound
    return await EqualityResponse.get_or_none(representative=rep)
