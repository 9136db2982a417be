"""Access arrangements: the checklist a booking makes from the person's needs (Braille papers,
an interpreter, transport, a tech test, ...), ticking items off, and the overdue list. Letters
to people who read Braille or listen to audio add a transcription task to the same checklist."""

from __future__ import annotations

import datetime as dt

from tortoise.queryset import CountQuery, QuerySet
from tortoise.transactions import in_transaction

from coprod import clock
from coprod.domain import courses, notifications, scheduling
from coprod.errors import Forbidden, NotFound
from coprod.models import (
    HOLDING,
    AccessArrangement,
    Booking,
    CoursePlace,
    OutboxMessage,
    Representative,
    TranscriptionTask,
)
from coprod.services import audit, rollups
from coprod.services.access import is_lead, is_self
from coprod.services.actor import Actor


async def make_checklist(booking: Booking, rep: Representative) -> None:
    """The arrangements this booking needs, each due a set time before the day (once each)."""
    for item in scheduling.access_checklist(
        activity_day=scheduling.london_date(booking.starts_at),
        mode=booking.mode,
        formats=rep.formats or [],
        translated_language=rep.translated_language,
        interpreter_language=rep.interpreter_language,
        needs_transport=rep.needs_transport,
        wants_tech_test=rep.wants_tech_test,
    ):
        await AccessArrangement.get_or_create(
            booking=booking, kind=item.kind, defaults={"label": item.label, "due_on": item.due_on}
        )
    await _course_materials(booking)


async def _course_materials(booking: Booking) -> None:
    """Someone's place on a course session is in a format the course is not yet available in
    (they are booked anyway): making the materials in it is one more task."""
    held = await CoursePlace.get_or_none(booking_id=booking.id).prefetch_related(
        "booking__activity__course"
    )
    course = held.booking.activity.course if held else None
    if held is None or course is None:
        return
    offer = courses.Offer(tuple(course.formats or ()), tuple(course.languages or ()))
    if courses.offers(offer, held.format, held.language):
        return
    await AccessArrangement.get_or_create(
        booking=booking,
        kind="course_materials",
        defaults={
            "label": courses.materials_label(held.format, held.language),
            "due_on": courses.materials_due(scheduling.london_date(booking.starts_at)),
        },
    )


async def remake_checklist(booking: Booking, rep: Representative) -> None:
    """After the day or the way of joining changes: what is done stays done, the rest is
    made again with new due dates."""
    await AccessArrangement.filter(booking=booking, done_at__isnull=True).delete()
    await make_checklist(booking, rep)


async def tick(actor: Actor, arrangement: AccessArrangement, done: bool) -> None:
    booking = await Booking.get(id=arrangement.booking_id).prefetch_related(
        "activity", "representative"
    )
    if booking.activity.organisation_id != actor.organisation_id:
        raise NotFound
    if not is_lead(actor):
        # The person may see their own booking, but only a lead ticks its arrangements.
        raise Forbidden if is_self(actor, booking.representative) else NotFound
    now = dt.datetime.now(dt.UTC)
    async with in_transaction():
        access = await rollups.access_of([booking.id])
        arrangement.done_at = now if done else None
        arrangement.done_on_time = done and scheduling.london_date(now) <= arrangement.due_on
        arrangement.done_by = actor.user if done else None
        await arrangement.save(update_fields=["done_at", "done_by_id", "done_on_time"])
        await rollups.access_changed(access, await rollups.access_of([booking.id]))
        await audit.record(
            actor,
            "arrangement.tick",
            arrangement,
            after={"done": done, "label": arrangement.label},
            organisation_id=actor.organisation_id,
        )


def _overdue(actor: Actor) -> QuerySet[AccessArrangement]:
    if not is_lead(actor):
        raise Forbidden
    return AccessArrangement.filter(
        booking__activity__organisation_id=actor.organisation_id,
        booking__status__in=HOLDING,
        done_at__isnull=True,
        due_on__lt=clock.today(),
    )


def overdue_query(actor: Actor) -> QuerySet[AccessArrangement]:
    """The overdue arrangements, as a query so that a page can read one page of it."""
    return (
        _overdue(actor)
        .order_by("due_on", "id")
        .prefetch_related("booking__representative", "booking__activity")
    )


async def overdue(actor: Actor) -> list[AccessArrangement]:
    return list(await overdue_query(actor))


def overdue_count(actor: Actor) -> CountQuery:
    return _overdue(actor).count()


# ---------------------------------------------------------------------------- transcriptions


async def add_transcriptions(rep: Representative, letter: OutboxMessage) -> None:
    """A letter just queued for someone who reads Braille or listens to audio: a task for each,
    in the caller's transaction, with the letter attached (its PDF is on the task's link)."""
    if letter.organisation_id is None:
        return
    queued_on = scheduling.london_date(letter.created_at)
    for fmt in notifications.needs_transcription(rep.formats or []):
        await TranscriptionTask.get_or_create(
            message_id=letter.id,
            format=fmt,
            defaults={
                "organisation_id": letter.organisation_id,
                "representative_id": rep.id,
                "label": notifications.TRANSCRIPTION_LABELS[fmt],
                "due_on": notifications.transcription_due(queued_on),
            },
        )


def _open_transcriptions(actor: Actor) -> QuerySet[TranscriptionTask]:
    if not is_lead(actor):
        raise Forbidden
    return TranscriptionTask.filter(
        organisation_id=actor.organisation_id,
        done_at__isnull=True,
        representative__archived_at__isnull=True,
    )


def transcriptions_query(actor: Actor) -> QuerySet[TranscriptionTask]:
    """Letters still to transcribe or record, soonest due first, as a query to page."""
    return (
        _open_transcriptions(actor)
        .order_by("due_on", "id")
        .prefetch_related("representative", "message")
    )


def transcriptions_count(actor: Actor) -> CountQuery:
    return _open_transcriptions(actor).count()


async def tick_transcription(actor: Actor, task_id: int, done: bool) -> TranscriptionTask:
    task = await TranscriptionTask.get_or_none(id=task_id, organisation_id=actor.organisation_id)
    if task is None:
        raise NotFound
    if not is_lead(actor):
        raise NotFound
    async with in_transaction():
        task.done_at = dt.datetime.now(dt.UTC) if done else None
        task.done_by = actor.user if done else None
        await task.save(update_fields=["done_at", "done_by_id"])
        await audit.record(
            actor,
            "transcription.tick",
            task,
            after={"done": done, "label": task.label, "message_id": task.message_id},
            organisation_id=actor.organisation_id,
        )
    return task
