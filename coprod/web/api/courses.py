"""API operations for courses: the organisation's courses and their formats, recording a course
someone did before, the format of a place on a course session, and training records.

Handlers only translate between JSON and coprod.services.courses, which the pages call too.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, cast

from pydantic import Field
from starlette.requests import Request

from coprod.domain import courses as rules
from coprod.errors import NotFound
from coprod.models import Booking, Course, CourseCompletion, CoursePlace, Kind, Role
from coprod.services import access, bookings, courses
from coprod.services.actor import Actor
from coprod.web.api.paging import keyset_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, DateTime, Id, NoBody, Page, Paging, Reply, text

COURSES = "courses"
LEADS = (Role.INVOLVEMENT_LEAD,)

CourseFormat = Literal["braille", "audio", "interpreter", "translated", "large_print", "easy_read"]
PlaceFormat = Literal[
    "standard", "braille", "audio", "interpreter", "translated", "large_print", "easy_read"
]
LANGUAGE = "Required for translated and interpreter"


class CourseFields(Body):
    """A course's details, every one optional: what a change sends."""

    name: str | None = text(rules.MAX_NAME, default=None, title="the course's name")
    description: str | None = text(
        rules.MAX_DESCRIPTION, required=False, default=None, title="a description"
    )
    formats: list[CourseFormat] | None = Field(
        None,
        max_length=len(rules.FORMATS),
        title="the formats from the list",
        description="Formats it is available in besides standard print",
    )
    languages: list[str] | None = Field(
        None,
        max_length=rules.MAX_LANGUAGES,
        title="the languages",
        description="The languages it is translated into: required with translated",
    )
    required_for: list[Kind] | None = Field(
        None,
        max_length=len(Kind),
        title="the kinds of activity from the list",
        description="Kinds of activity someone should have done this course before: booking "
        "someone who has not gives a warning, never a refusal",
    )


class NewCourse(CourseFields):
    name: str = text(rules.MAX_NAME, title="the course's name")


class CourseReply(Reply):
    id: int
    name: str
    description: str | None
    formats: list[CourseFormat]
    languages: list[str]
    required_for: list[Kind]
    created_at: DateTime


def _course(course: Course) -> CourseReply:
    return CourseReply(
        id=course.id,
        name=course.name,
        description=course.description,
        formats=list(course.formats or []),
        languages=list(course.languages or []),
        required_for=[Kind(k) for k in course.required_for or []],
        created_at=course.created_at,
    )


class Added(Reply):
    items: list[CourseReply] = Field(description="The courses added: none if all were there")


@api.operation(
    "GET",
    "/courses",
    summary="Your organisation's courses for representatives, by name",
    tag=COURSES,
    roles=LEADS,
    query=Paging,
    reply=Page[CourseReply],
)
async def list_courses(request: Request, actor: Actor, query: Paging) -> Page[CourseReply]:
    await courses.list_courses(actor)  # the access check
    found, cursor = await keyset_page(
        Course.filter(organisation_id=actor.organisation_id, archived_at__isnull=True),
        query,
        ("name", "id"),
    )
    return Page(items=[_course(c) for c in found], next_cursor=cursor)


@api.operation(
    "POST",
    "/courses",
    summary="Add a course; a name the organisation already has is refused (422)",
    tag=COURSES,
    roles=LEADS,
    body=NewCourse,
    reply=CourseReply,
    status=201,
)
async def create_course(request: Request, actor: Actor, body: NewCourse) -> CourseReply:
    return _course(await courses.create_course(actor, body.data()))


@api.operation(
    "POST",
    "/courses/usual",
    summary="Add induction, confidence and assertiveness, and recruitment-panel training "
    "(needed before interview panels), each unless a course of that name exists",
    tag=COURSES,
    roles=LEADS,
    body=NoBody,
    reply=Added,
    status=201,
)
async def add_usual_courses(request: Request, actor: Actor, body: NoBody) -> Added:
    return Added(items=[_course(c) for c in await courses.add_usual(actor)])


@api.operation(
    "GET",
    "/courses/{id:int}",
    summary="One course",
    tag=COURSES,
    roles=LEADS,
    reply=CourseReply,
)
async def get_course(request: Request, actor: Actor, id: int) -> CourseReply:
    return _course(await courses.course_for(actor, id))


@api.operation(
    "PATCH",
    "/courses/{id:int}",
    summary="Change a course; only the fields sent change",
    tag=COURSES,
    roles=LEADS,
    body=CourseFields,
    reply=CourseReply,
)
async def update_course(request: Request, actor: Actor, id: int, body: CourseFields) -> CourseReply:
    course = await courses.course_for(actor, id)
    return _course(await courses.update_course(actor, course, body.data()))


# ---------------------------------------------------------------------------- completions


class NewCompletion(Body):
    representative_id: Id = Field(title="the person")
    completed_on: dt.date = Field(title="the day they finished the course")
    format: PlaceFormat = Field(title="the format they took it in")
    language: str | None = text(
        rules.MAX_LANGUAGE, required=False, default=None, title="the language", description=LANGUAGE
    )


class CompletionReply(Reply):
    id: int
    course_id: int
    course: str = Field(description="The course's name")
    representative_id: int
    completed_on: dt.date
    format: PlaceFormat
    language: str | None
    booking_id: int | None = Field(
        description="The session's booking, when attending it recorded this; null when a lead "
        "recorded a course done before"
    )


def _completion(c: CourseCompletion, course: Course) -> CompletionReply:
    return CompletionReply(
        id=c.id,
        course_id=course.id,
        course=course.name,
        representative_id=c.representative_id,
        completed_on=c.completed_on,
        format=cast(PlaceFormat, c.format),
        language=c.language,
        booking_id=c.booking_id,
    )


@api.operation(
    "POST",
    "/courses/{id:int}/completions",
    summary="Record that someone did the course before (attending a session records it "
    "itself); the same course on the same day twice is refused (422)",
    tag=COURSES,
    roles=LEADS,
    body=NewCompletion,
    reply=CompletionReply,
    status=201,
)
async def record_completion(
    request: Request, actor: Actor, id: int, body: NewCompletion
) -> CompletionReply:
    course = await courses.course_for(actor, id)
    return _completion(await courses.record_completion(actor, course, body.data()), course)


# ---------------------------------------------------------------------------- places


class PlaceInput(Body):
    format: PlaceFormat = Field(title="the format")
    language: str | None = text(
        rules.MAX_LANGUAGE, required=False, default=None, title="the language", description=LANGUAGE
    )


class PlaceReply(Reply):
    booking_id: int
    format: PlaceFormat
    language: str | None
    available: bool = Field(
        description="False when the course is not yet available in this format: making the "
        "materials is on the booking's access arrangements"
    )


async def _place(booking: Booking, held: CoursePlace) -> PlaceReply:
    course = await Course.get(id=booking.activity.course_id)
    return PlaceReply(
        booking_id=booking.id,
        format=cast(PlaceFormat, held.format),
        language=held.language,
        available=rules.offers(courses.offer_of(course), held.format, held.language),
    )


@api.operation(
    "PUT",
    "/bookings/{id:int}/course-place",
    summary="Change the format someone takes a course session in (chosen from their access "
    "needs when they were booked); the access arrangements follow",
    tag=COURSES,
    roles=LEADS,
    body=PlaceInput,
    reply=PlaceReply,
)
async def change_place(request: Request, actor: Actor, id: int, body: PlaceInput) -> PlaceReply:
    booking = await bookings.booking_for(actor, id)
    return await _place(booking, await courses.change_place(actor, booking, body.data()))


@api.operation(
    "GET",
    "/bookings/{id:int}/course-place",
    summary="The format someone takes a course session in; 404 unless the booking is on one",
    tag=COURSES,
    roles=LEADS,
    reply=PlaceReply,
)
async def get_place(request: Request, actor: Actor, id: int) -> PlaceReply:
    booking = await bookings.booking_for(actor, id)
    held = await courses.place_of(booking)
    if held is None:
        raise NotFound
    return await _place(booking, held)


# ---------------------------------------------------------------------------- training records


class CourseDone(Reply):
    course_id: int
    course: str = Field(description="The course's name")
    completed_on: dt.date
    format: PlaceFormat
    language: str | None


class TrainingDelivered(Reply):
    activity_id: int
    title: str
    day: dt.date
    team: str | None = Field(description="The team's name; null if not for one team")
    audience: str | None = Field(description="Who it was delivered to, e.g. 'Ward nurses'")


class TrainingRecordReply(Reply):
    representative_id: int
    courses: list[CourseDone] = Field(description="Courses done, most recent first")
    delivered: list[TrainingDelivered] = Field(
        description="Training they delivered to staff (attended), most recent first"
    )


async def _record(actor: Actor, rep_id: int) -> TrainingRecordReply:
    record = await courses.training_record(actor, rep_id)
    return TrainingRecordReply(
        representative_id=record.representative.id,
        courses=[
            CourseDone(
                course_id=c.course.id,
                course=c.course.name,
                completed_on=c.completed_on,
                format=cast(PlaceFormat, c.format),
                language=c.language,
            )
            for c in record.courses
        ],
        delivered=[
            TrainingDelivered(
                activity_id=d.activity_id,
                title=d.title,
                day=d.day,
                team=d.team,
                audience=d.audience,
            )
            for d in record.delivered
        ],
    )


@api.operation(
    "GET",
    "/representatives/{id:int}/training",
    summary="Someone's training record: courses done and training delivered to staff "
    "(involvement leads, or the person)",
    tag=COURSES,
    reply=TrainingRecordReply,
)
async def get_training(request: Request, actor: Actor, id: int) -> TrainingRecordReply:
    return await _record(actor, id)


@api.operation(
    "GET",
    "/my/training",
    summary="Your own training record (a representative)",
    tag=COURSES,
    roles=(Role.REPRESENTATIVE,),
    reply=TrainingRecordReply,
)
async def get_my_training(request: Request, actor: Actor) -> TrainingRecordReply:
    rep = await access.own_representative(actor)
    return await _record(actor, rep.id)
