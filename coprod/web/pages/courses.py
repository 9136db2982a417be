"""Courses for representatives: the list (with the usual courses added in one go), adding and
changing one, its sessions and who has done it, recording a course done before, the format of
someone's place on a session, and training records (a lead's view and the person's own)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod.domain import courses as rules
from coprod.errors import NotFound
from coprod.models import Course, Kind, Representative, Role
from coprod.services import access, bookings, courses
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed
from coprod.web.guards import form_values, signed_in
from coprod.web.render import page, redirect

MULTI_FIELDS = ("formats", "required_for")


def _labels() -> dict[str, Any]:
    return {
        "format_labels": {f: rules.LABELS[f] for f in rules.FORMATS},
        "place_labels": {f: rules.LABELS[f] for f in (rules.STANDARD, *rules.FORMATS)},
        "formats": list(rules.FORMATS),
        "kind_labels": {k.value: k.label for k in Kind},
        "format_label": rules.format_label,
    }


def course_input(form: FormData) -> dict[str, Any]:
    data: dict[str, Any] = {k: v for k, v in form_values(form).items() if k not in MULTI_FIELDS}
    for key in MULTI_FIELDS:
        data[key] = [str(v) for v in form.getlist(key)]
    return data


def _form_of(course: Course) -> dict[str, Any]:
    return {
        "name": course.name,
        "description": course.description or "",
        "formats": list(course.formats or []),
        "languages": ", ".join(course.languages or []),
        "required_for": list(course.required_for or []),
    }


@signed_in(Role.INVOLVEMENT_LEAD)
async def course_list(request: Request, actor: Actor) -> Response:
    if request.method == "POST":
        added = await courses.add_usual(actor)
        return redirect(f"/courses?added={len(added)}")
    return page(
        request,
        "courses/list.html",
        {"courses": await courses.list_courses(actor), "added": request.query_params.get("added")}
        | _labels(),
    )


async def _course_form(
    request: Request, actor: Actor, course: Course | None, form: dict[str, Any]
) -> Response:
    errors = None
    if request.method == "POST":
        form = course_input(await request.form())
        try:
            if course is None:
                course = await courses.create_course(actor, form)
                return redirect(f"/courses/{course.id}?done=created")
            await courses.update_course(actor, course, form)
            return redirect(f"/courses/{course.id}?done=saved")
        except ValidationFailed as exc:
            errors = exc
    return page(
        request,
        "courses/form.html",
        {"course": course, "form": form} | _labels(),
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def course_new(request: Request, actor: Actor) -> Response:
    return await _course_form(request, actor, None, {"formats": [], "required_for": []})


@signed_in(Role.INVOLVEMENT_LEAD)
async def course_edit(request: Request, actor: Actor) -> Response:
    course = await courses.course_for(actor, request.path_params["id"])
    return await _course_form(request, actor, course, _form_of(course))


async def _detail(
    request: Request,
    actor: Actor,
    course: Course,
    form: dict[str, Any] | None = None,
    errors: ValidationFailed | None = None,
) -> Response:
    return page(
        request,
        "courses/detail.html",
        {
            "course": course,
            "sessions": await courses.sessions_of(course),
            "completions": await courses.completions_of(course),
            "people": await Representative.filter(
                organisation_id=actor.organisation_id, archived_at__isnull=True
            ),
            "form": form or {"format": rules.STANDARD},
            "done": request.query_params.get("done"),
        }
        | _labels(),
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def course_detail(request: Request, actor: Actor) -> Response:
    return await _detail(request, actor, await courses.course_for(actor, request.path_params["id"]))


@signed_in(Role.INVOLVEMENT_LEAD)
async def course_completions(request: Request, actor: Actor) -> Response:
    course = await courses.course_for(actor, request.path_params["id"])
    form = form_values(await request.form())
    try:
        await courses.record_completion(actor, course, form)
    except ValidationFailed as exc:
        return await _detail(request, actor, course, form, exc)
    return redirect(f"/courses/{course.id}?done=completion#done")


# ---------------------------------------------------------------------------- places


@signed_in(Role.INVOLVEMENT_LEAD)
async def course_place(request: Request, actor: Actor) -> Response:
    booking = await bookings.booking_for(actor, request.path_params["id"])
    held = await courses.place_of(booking)
    if held is None:
        raise NotFound
    form: dict[str, Any] = {"format": held.format, "language": held.language or ""}
    errors = None
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            await courses.change_place(actor, booking, form)
            return redirect(f"/bookings/{booking.id}?done=course-place")
        except ValidationFailed as exc:
            errors = exc
    return page(
        request,
        "courses/place.html",
        {
            "booking": booking,
            "course": await Course.get(id=booking.activity.course_id),
            "form": form,
        }
        | _labels(),
        status_code=422 if errors else 200,
        errors=errors,
    )


# ---------------------------------------------------------------------------- training records


async def _training(request: Request, actor: Actor, rep_id: int, self_view: bool) -> Response:
    record = await courses.training_record(actor, rep_id)
    return page(
        request,
        "courses/training.html",
        {"record": record, "rep": record.representative, "self_view": self_view} | _labels(),
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def lead_training(request: Request, actor: Actor) -> Response:
    return await _training(request, actor, request.path_params["id"], self_view=False)


@signed_in(Role.REPRESENTATIVE)
async def my_training(request: Request, actor: Actor) -> Response:
    rep = await access.own_representative(actor)
    return await _training(request, actor, rep.id, self_view=True)


routes = [
    Route("/courses", course_list, methods=["GET", "POST"]),
    Route("/courses/new", course_new, methods=["GET", "POST"]),
    Route("/courses/{id:int}", course_detail, methods=["GET"]),
    Route("/courses/{id:int}/edit", course_edit, methods=["GET", "POST"]),
    Route("/courses/{id:int}/completions", course_completions, methods=["POST"]),
    Route("/bookings/{id:int}/course-place", course_place, methods=["GET", "POST"]),
    Route("/representatives/{id:int}/training", lead_training, methods=["GET"]),
    Route("/my/training", my_training, methods=["GET"]),
]
