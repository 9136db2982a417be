"""Courses for representatives: the organisation's list of courses and the formats each comes
in, the place (format) someone takes on a course session, the courses they have done, their
training record, and the warnings a lead sees when booking someone who has not done a course
an activity's kind asks for.

Leads manage courses; anyone else is refused (403), and another organisation's course is not
found (404). A course's name is unique in its organisation: the database says so too, so two
leads adding the same course at once get the same plain message, not a second course.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from coprod import clock
from coprod.domain import courses as rules
from coprod.domain.scheduling import london_date
from coprod.errors import NotFound
from coprod.models import (
    HOLDING,
    Activity,
    Booking,
    BookingStatus,
    Course,
    CourseCompletion,
    CoursePlace,
    Kind,
    Representative,
)
from coprod.services import arrangements, audit, rollups
from coprod.services.access import chosen, is_lead, representative_for, require_lead
from coprod.services.actor import Actor
from coprod.validation import Checker, ValidationFailed

NAME_TAKEN = "There is already a course with this name"
_ALREADY = "This course is already recorded for them on that day"


# ---------------------------------------------------------------------------- reading


def offer_of(course: Course) -> rules.Offer:
    return rules.Offer(tuple(course.formats or ()), tuple(course.languages or ()))


def needs_of(rep: Representative) -> rules.Needs:
    return rules.Needs(tuple(rep.formats or ()), rep.translated_language, rep.interpreter_language)


async def course_for(actor: Actor, course_id: int) -> Course:
    course = await Course.get_or_none(id=course_id, organisation_id=actor.organisation_id)
    if course is None:
        raise NotFound
    require_lead(actor)
    return course


async def list_courses(actor: Actor) -> list[Course]:
    require_lead(actor)
    return list(
        await Course.filter(organisation_id=actor.organisation_id, archived_at__isnull=True)
    )


async def sessions_of(course: Course) -> list[Activity]:
    return list(await Activity.filter(course_id=course.id).order_by("-starts_at", "-id"))


async def completions_of(course: Course) -> list[CourseCompletion]:
    return list(
        await CourseCompletion.filter(course_id=course.id).prefetch_related("representative")
    )


# ---------------------------------------------------------------------------- managing


def _languages(c: Checker, data: Mapping[str, Any]) -> list[str]:
    """A JSON list, or the page's one box with the languages separated by commas."""
    raw = data.get("languages")
    values = raw if isinstance(raw, list) else str(raw or "").split(",")
    languages = list(dict.fromkeys(str(v).strip() for v in values if str(v).strip()))
    if len(languages) > rules.MAX_LANGUAGES:
        c.fail("languages", f"Enter {rules.MAX_LANGUAGES} languages or fewer")
    elif any(len(v) > rules.MAX_LANGUAGE for v in languages):
        c.fail("languages", f"Each language must be {rules.MAX_LANGUAGE} characters or fewer")
    return languages


async def _read(
    actor: Actor, data: Mapping[str, Any], current: Course | None = None
) -> dict[str, Any]:
    present = (
        set(data) if current else {"name", "description", "formats", "languages", "required_for"}
    )
    c = Checker(data)
    out: dict[str, Any] = {}
    if "name" in present:
        out["name"] = c.text("name", "the course's name", max_length=rules.MAX_NAME)
    if "description" in present:
        out["description"] = (
            c.text("description", "a description", required=False, max_length=rules.MAX_DESCRIPTION)
            or None
        )
    if "formats" in present:
        out["formats"] = c.many("formats", "the formats", rules.FORMATS)
    if "languages" in present:
        out["languages"] = _languages(c, data)
    if "required_for" in present:
        out["required_for"] = c.many(
            "required_for", "the kinds of activity", [k.value for k in Kind]
        )
    formats = out.get("formats", current.formats if current else [])
    languages = out.get("languages", current.languages if current else [])
    if "translated" in formats and not languages:
        c.fail("languages", "Enter the languages it is translated into")
    if "translated" not in formats and languages:
        out["languages"] = []  # they would mean nothing without translated papers
    c.done()
    name = out.get("name")
    if name is not None:
        taken = Course.filter(organisation_id=actor.organisation_id, name__iexact=name)
        if current is not None:
            taken = taken.exclude(id=current.id)
        if await taken.exists():
            raise ValidationFailed.one("name", NAME_TAKEN)
    return out


async def create_course(actor: Actor, data: Mapping[str, Any]) -> Course:
    require_lead(actor)
    values = await _read(actor, data)
    try:
        async with in_transaction():
            course = await Course.create(organisation_id=actor.organisation_id, **values)
            await audit.record(actor, "course.create", course, after=audit.snapshot(course))
    except IntegrityError:  # the same name added at the same moment
        raise ValidationFailed.one("name", NAME_TAKEN) from None
    return course


async def update_course(actor: Actor, course: Course, data: Mapping[str, Any]) -> Course:
    require_lead(actor)
    values = await _read(actor, data, current=course)
    before = audit.snapshot(course)
    try:
        async with in_transaction():
            for key, value in values.items():
                setattr(course, key, value)
            await course.save()
            after = audit.snapshot(course)
            changed = {k for k in after if after[k] != before.get(k)}
            await audit.record(
                actor,
                "course.update",
                course,
                before={k: before.get(k) for k in changed},
                after={k: after[k] for k in changed},
            )
    except IntegrityError:
        await course.refresh_from_db()
        raise ValidationFailed.one("name", NAME_TAKEN) from None
    return course


async def add_usual(actor: Actor) -> list[Course]:
    """Induction, confidence and assertiveness, and recruitment-panel training, each unless
    the organisation already has a course of that name."""
    require_lead(actor)
    added = []
    async with in_transaction():
        for usual in rules.USUAL:
            if await Course.filter(
                organisation_id=actor.organisation_id, name__iexact=usual.name
            ).exists():
                continue
            course = await Course.create(
                organisation_id=actor.organisation_id,
                name=usual.name,
                description=usual.description,
                formats=list(usual.formats),
                required_for=list(usual.required_for),
            )
            await audit.record(actor, "course.create", course, after=audit.snapshot(course))
            added.append(course)
    return added


async def record_completion(
    actor: Actor, course: Course, data: Mapping[str, Any]
) -> CourseCompletion:
    """A lead records a course someone did before, e.g. before the organisation used Coprod."""
    require_lead(actor)
    c = Checker(data)
    rep = await chosen(
        c,
        "representative_id",
        Representative,
        actor.organisation_id,
        "Select a person from the list",
    )
    completed_on = c.date("completed_on", "the day they finished the course")
    if completed_on is not None and completed_on > clock.today():
        c.fail("completed_on", "The day they finished the course must be today or in the past")
    fmt = c.choice("format", "the format they took it in", (rules.STANDARD, *rules.FORMATS))
    language = c.text("language", "the language", required=False, max_length=rules.MAX_LANGUAGE)
    if fmt in rules.NEEDS_LANGUAGE and not language:
        c.fail("language", "Enter the language")
    c.done()
    assert rep is not None and completed_on is not None
    if await CourseCompletion.filter(
        representative=rep, course_id=course.id, completed_on=completed_on
    ).exists():
        raise ValidationFailed.one("completed_on", _ALREADY)
    try:
        async with in_transaction():
            completion = await CourseCompletion.create(
                organisation_id=actor.organisation_id,
                representative=rep,
                course_id=course.id,
                completed_on=completed_on,
                format=fmt,
                language=(language or None) if fmt in rules.NEEDS_LANGUAGE else None,
                recorded_by=actor.user,
            )
            await audit.record(
                actor,
                "course.completion",
                completion,
                after=audit.snapshot(completion),
                on_behalf_of=rep.full_name,
            )
    except IntegrityError:
        raise ValidationFailed.one("completed_on", _ALREADY) from None
    return completion


# ---------------------------------------------------------------------------- sessions


async def place(booking: Booking, rep: Representative, activity: Activity) -> None:
    """Someone booked onto a session of a course: the format chosen from their needs. Called
    by `bookings.book` in its transaction, before the access arrangements are made."""
    if activity.course_id is None or activity.kind != Kind.TRAINING_RECEIVED:
        return
    course = await Course.get(id=activity.course_id)
    chosen = rules.choose_format(needs_of(rep), offer_of(course))
    await CoursePlace.update_or_create(
        defaults={"format": chosen.format, "language": chosen.language}, booking_id=booking.id
    )


async def place_of(booking: Booking) -> CoursePlace | None:
    return await CoursePlace.get_or_none(booking_id=booking.id)


async def change_place(actor: Actor, booking: Booking, data: Mapping[str, Any]) -> CoursePlace:
    """A lead changes the format someone takes a course session in. Its access arrangements
    follow: a format the course lacks adds the task to make the materials."""
    activity = await booking.activity
    rep = await booking.representative
    if not is_lead(actor) or activity.organisation_id != actor.organisation_id:
        raise NotFound
    current = await place_of(booking)
    if current is None:
        raise NotFound
    c = Checker(data)
    fmt = c.choice("format", "the format", (rules.STANDARD, *rules.FORMATS))
    language = c.text("language", "the language", required=False, max_length=rules.MAX_LANGUAGE)
    if fmt in rules.NEEDS_LANGUAGE and not language:
        c.fail("language", "Enter the language")
    c.done()
    before = {"format": current.format, "language": current.language}
    async with in_transaction():
        current.format = fmt
        current.language = (language or None) if fmt in rules.NEEDS_LANGUAGE else None
        await current.save(update_fields=["format", "language"])
        if booking.status in HOLDING:  # a past or cancelled session needs nothing made
            # Arrangements are rolled up by team, so the roll-up follows the change.
            access = await rollups.access_of([booking.id])
            await arrangements.remake_checklist(booking, rep)
            await rollups.access_changed(access, await rollups.access_of([booking.id]))
        await audit.record(
            actor,
            "course_place.update",
            current,
            before=before,
            after={"format": current.format, "language": current.language},
            on_behalf_of=rep.full_name,
        )
    return current


async def attended(booking: Booking, activity: Activity) -> None:
    """Attendance recorded at a course session (in `attendance.record_attendance`'s
    transaction): attending writes the completion, once per booking, in the place's format;
    changing it to "did not attend" takes it away."""
    if activity.course_id is None or activity.kind != Kind.TRAINING_RECEIVED:
        return
    if booking.status != BookingStatus.ATTENDED:
        await CourseCompletion.filter(booking_id=booking.id).delete()
        return
    if await CourseCompletion.exists(booking_id=booking.id):
        return
    day = london_date(booking.starts_at)
    found = await place_of(booking)
    fmt, language = (found.format, found.language) if found else (rules.STANDARD, None)
    same_day = await CourseCompletion.get_or_none(
        representative_id=booking.representative_id, course_id=activity.course_id, completed_on=day
    )
    if same_day is not None:  # recorded by hand already: this session is the evidence for it
        same_day.booking_id = booking.id
        await same_day.save(update_fields=["booking_id"])
        return
    await CourseCompletion.create(
        organisation_id=activity.organisation_id,
        representative_id=booking.representative_id,
        course_id=activity.course_id,
        booking_id=booking.id,
        completed_on=day,
        format=fmt,
        language=language,
    )


# ---------------------------------------------------------------------------- warnings


async def booking_warnings(
    activity: Activity, reps: Sequence[Representative]
) -> dict[int, list[str]]:
    """For each person, what a lead should know before or after booking them: courses this
    kind of activity asks for that they have not done, and (once booked on a course session)
    a format they need that the course is not yet available in. Warnings never stop a
    booking."""
    found: dict[int, list[str]] = {}
    if not reps:
        return found
    ids = [r.id for r in reps]
    required = [
        rules.RequiredCourse(c.id, c.name, c.required_for or [])
        for c in await Course.filter(
            organisation_id=activity.organisation_id, archived_at__isnull=True
        )
        if activity.kind.value in (c.required_for or [])
    ]
    if required:
        done: dict[int, set[int]] = {}
        for rep_id, course_id in await CourseCompletion.filter(
            representative_id__in=ids, course_id__in=[c.id for c in required]
        ).values_list("representative_id", "course_id"):
            done.setdefault(rep_id, set()).add(course_id)
        for rep in reps:
            missing = rules.missing_courses(activity.kind.value, required, done.get(rep.id, ()))
            if missing:
                found.setdefault(rep.id, []).append(rules.missing_message(rep.full_name, missing))
    if activity.course_id is not None:
        course = await Course.get(id=activity.course_id)
        places = {
            p.booking.representative_id: p
            for p in await CoursePlace.filter(
                booking__activity_id=activity.id, booking__representative_id__in=ids
            ).prefetch_related("booking")
        }
        for rep in reps:
            held = places.get(rep.id)
            if held is not None and not rules.offers(offer_of(course), held.format, held.language):
                placement = rules.Placement(held.format, held.language, available=False)
                found.setdefault(rep.id, []).append(
                    rules.unavailable_message(rep.full_name, course.name, placement)
                )
    return found


# ---------------------------------------------------------------------------- training record


@dataclass
class Delivered:
    """Training someone delivered to staff."""

    activity_id: int
    title: str
    day: dt.date
    team: str | None
    audience: str | None


@dataclass
class TrainingRecord:
    representative: Representative
    courses: list[CourseCompletion]
    delivered: list[Delivered]


async def training_record(actor: Actor, rep_id: int) -> TrainingRecord:
    """Courses done, newest first, and training delivered to staff. A lead sees their
    organisation's people; a representative sees their own."""
    rep = await representative_for(actor, rep_id)
    done = await CourseCompletion.filter(representative_id=rep.id).prefetch_related("course")
    delivered = await Booking.filter(
        representative_id=rep.id,
        status=BookingStatus.ATTENDED,
        activity__kind=Kind.TRAINING_DELIVERY,
    ).prefetch_related("activity__team")
    return TrainingRecord(
        representative=rep,
        courses=list(done),
        delivered=[
            Delivered(
                activity_id=b.activity.id,
                title=b.activity.title,
                day=london_date(b.starts_at),
                team=b.activity.team.name if b.activity.team else None,
                audience=b.activity.audience,
            )
            for b in sorted(delivered, key=lambda b: b.starts_at, reverse=True)
        ],
    )
