"""Planning activities, their detail page, and acting on them: inviting, adding times, booking,
choosing a time and moving one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod import clock
from coprod.domain import activity_feedback as feedback_rules
from coprod.domain.scheduling import Answer, best_option
from coprod.errors import Conflict, NotFound
from coprod.models import (
    HOLDING,
    Activity,
    ActivityStatus,
    Booking,
    Category,
    Contract,
    Course,
    Kind,
    Project,
    Role,
    Team,
)
from coprod.services import (
    access,
    activities,
    activity_feedback,
    bookings,
    contact,
    courses,
    decisions,
    earnings,
    polls,
)
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed, record_id
from coprod.web.guards import checked_form, form_values, signed_in
from coprod.web.pages.paged import paged
from coprod.web.pages.representatives import LABELS
from coprod.web.render import as_page_errors, page, redirect

MODE_LABELS = LABELS["mode"]
NOT_CONTACTED_SHOWN = 20


async def _choices(actor: Actor) -> dict[str, Any]:
    projects = await Project.filter(organisation_id=actor.organisation_id)
    teams = await Team.filter(organisation_id=actor.organisation_id)
    on_offer = await Course.filter(organisation_id=actor.organisation_id, archived_at__isnull=True)
    return {
        "project_items": [(p.id, p.name) for p in projects],
        "team_items": [(t.id, t.name) for t in teams],
        "course_items": [(c.id, c.name) for c in on_offer],
        "categories": list(Category),
        "kinds": list(Kind),
        "mode_labels": MODE_LABELS,
    }


@signed_in(Role.INVOLVEMENT_LEAD)
async def activity_list(request: Request, actor: Actor) -> Response:
    now = dt.datetime.now(dt.UTC)
    # Bookings are read for the page's activities only, to count the places taken.
    in_org = Activity.filter(organisation_id=actor.organisation_id).prefetch_related("bookings")
    scheduled = in_org.filter(status=ActivityStatus.SCHEDULED, starts_at__isnull=False)
    planning = await paged(
        request, in_org.filter(status=ActivityStatus.PLANNING).order_by("id"), param="planning"
    )
    upcoming = await paged(
        request, scheduled.filter(starts_at__gte=now).order_by("starts_at", "id")
    )
    past = await paged(
        request, scheduled.filter(starts_at__lt=now).order_by("-starts_at", "-id"), param="past"
    )
    return page(
        request,
        "activities/list.html",
        {
            "planning": planning,
            "upcoming": upcoming,
            "past": past,
            "holding": HOLDING,
        },
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def activity_new(request: Request, actor: Actor) -> Response:
    errors = None
    form: dict[str, Any] = {
        "phone": "yes",
        "capacity": "8",
        "duration_minutes": "120",
        "preparation_minutes": "0",
        "timing": "poll",
    }
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            activity = await activities.plan(actor, form)
            return redirect(f"/activities/{activity.id}?created=1")
        except ValidationFailed as exc:
            errors = exc
    return page(
        request,
        "activities/new.html",
        {"form": form, **await _choices(actor)},
        status_code=422 if errors else 200,
        errors=errors,
    )


async def _detail_context(request: Request, actor: Actor, activity: Activity) -> dict[str, Any]:
    options, rows, totals = await polls.grid(actor, activity)
    best = None
    if options:
        best = best_option(totals, [o.id for o in options])
    # Who may still be invited or booked, a page at a time and found by name: a trust has
    # hundreds of people, and the page must not grow with them.
    find = request.query_params.get("find", "").strip()[:100] if request.method == "GET" else ""
    people = await paged(request, activities.people_to_add(actor, activity, find), param="people")
    has_contract = set(
        await Contract.filter(representative_id__in=[r.id for r in people.rows]).values_list(
            "representative_id", flat=True
        )
    )
    # Booked people nobody can write to: found in the database, a few at a time, since an
    # activity may hold hundreds of bookings.
    holding = (
        await Booking.filter(activity=activity, status__in=HOLDING)
        .filter(contact.cannot_be_written_to(clock.today()))
        .order_by("id")
        .limit(NOT_CONTACTED_SHOWN + 1)
        .prefetch_related("representative")
    )
    concerned = [row.representative for row in rows] + [
        b.representative for b in holding[:NOT_CONTACTED_SHOWN]
    ]
    # The table of bookings is paged; after a form is sent it starts again from the first page.
    activity_bookings = await paged(
        request,
        Booking.filter(activity=activity).prefetch_related("representative").order_by("id"),
        param="bookings",
        path=f"/activities/{activity.id}",
    )
    feedback = await activity_feedback.for_activity(actor, activity)
    return {
        "feedback": feedback,
        "feedback_booking_ids": {a.booking_id for a in feedback.answers} if feedback else set(),
        "feedback_labels": {
            "ratings": feedback_rules.RATINGS,
            "listened": feedback_rules.LISTENED,
            "access": feedback_rules.ACCESS,
        },
        "follow_up": feedback_rules.follow_up,
        # Benefits: warn (never block) about anyone on this page whom this would take over
        # their earnings limit: those asked, this page of bookings and of people to add. (Not
        # every booking: weighing each person's year of bookings is the page's dearest work.)
        "warnings": await earnings.activity_warnings(
            activity,
            [
                *(row.representative for row in rows),
                *(b.representative for b in activity_bookings.rows),
                *people.rows,
            ],
        ),
        "not_contacted": await contact.not_contacted(concerned),
        "more_not_contacted": len(holding) > NOT_CONTACTED_SHOWN,
        "not_contacted_shown": NOT_CONTACTED_SHOWN,
        # Courses this kind of activity asks for that people on the page have not done, and
        # course formats not yet available: warned about, never refused.
        "course_warnings": await courses.booking_warnings(
            activity,
            [
                *(row.representative for row in rows),
                *(b.representative for b in activity_bookings.rows),
                *people.rows,
            ],
        ),
        "course": await Course.get_or_none(id=activity.course_id) if activity.course_id else None,
        "activity": activity,
        "project": await Project.get_or_none(id=activity.project_id)
        if activity.project_id
        else None,
        "team": await Team.get_or_none(id=activity.team_id) if activity.team_id else None,
        "options": options,
        "rows": rows,
        "totals": totals,
        "best": best,
        "answers": list(Answer),
        "people": people,
        "find": find,
        "has_contract": has_contract,
        "today": clock.today(),
        "bookings": activity_bookings,
        "mode_labels": MODE_LABELS,
        "modes": sorted(activity.modes),
    }


@signed_in(Role.INVOLVEMENT_LEAD)
async def activity_detail(request: Request, actor: Actor) -> Response:
    activity = await activities.activity_for(actor, request.path_params["id"])
    return page(
        request,
        "activities/detail.html",
        {**await _detail_context(request, actor, activity), "flash": request.query_params},
    )


async def _activity_action(request: Request, actor: Actor, action: str) -> Response:
    activity = await activities.activity_for(actor, request.path_params["id"])
    form = await checked_form(request)
    data = form_values(form)
    try:
        if action == "invite":
            await polls.invite(
                actor,
                activity,
                [i for v in form.getlist("representative_ids") if (i := record_id(v)) is not None],
            )
        elif action == "options":
            await activities.add_options(actor, activity, data)
        elif action == "book":
            rep = await access.representative_for(
                actor, int(str(data.get("representative_id") or 0))
            )
            await bookings.book(actor, activity, rep, str(data.get("mode", "")))
        elif action == "reschedule":
            await bookings.reschedule(actor, activity, data)
    except decisions.DecisionsNeeded as exc:
        await activity.refresh_from_db()
        return page(
            request,
            "activities/reschedule.html",
            {
                "activity": activity,
                "at_risk": exc.at_risk,
                "form": data,
                "new_time": activities.parse_local(str(data.get("starts_at", ""))),
            },
            status_code=409 if exc.undecided else 422,
            # Nothing is wrong yet when the lead first sees the list: errors only once they
            # have decided for some people and not others.
            errors=None if exc.undecided else ValidationFailed(exc.errors),
        )
    except (ValidationFailed, Conflict) as exc:
        await activity.refresh_from_db()
        return page(
            request,
            "activities/detail.html",
            {**await _detail_context(request, actor, activity), "flash": {}},
            status_code=409 if isinstance(exc, Conflict) else 422,
            errors=as_page_errors(exc),
        )
    except NotFound:
        return page(
            request,
            "activities/detail.html",
            {**await _detail_context(request, actor, activity), "flash": {}},
            status_code=422,
            errors=ValidationFailed.one("representative_id", "Select a person from the list"),
        )
    return redirect(f"/activities/{activity.id}?done={action}")


@signed_in(Role.INVOLVEMENT_LEAD)
async def feedback_followed_up(request: Request, actor: Actor) -> Response:
    activity = await activities.activity_for(actor, request.path_params["id"])
    feedback = await activity_feedback.feedback_for(actor, request.path_params["feedback_id"])
    if feedback.activity_id != activity.id:
        raise NotFound
    await activity_feedback.mark_followed_up(actor, feedback.id)
    return redirect(f"/activities/{activity.id}?done=followed-up#feedback")


@signed_in(Role.INVOLVEMENT_LEAD)
async def activity_finalise(request: Request, actor: Actor) -> Response:
    """Two steps, so that no script is needed: the lead picks the time on the activity page
    (GET here), then confirms who to book for that time, each shown with their answer."""
    activity = await activities.activity_for(actor, request.path_params["id"])
    picked: list[str] | None = None
    errors = None
    if request.method == "POST":
        form = await checked_form(request)
        raw_option = str(form.get("option_id") or "")
        picked = [str(v) for v in form.getlist("representative_ids")]
        try:
            outcomes = await polls.finalise(
                actor, activity, {"option_id": raw_option, "representative_ids": picked}
            )
            await activity.refresh_from_db()
            return page(
                request,
                "activities/detail.html",
                {
                    **await _detail_context(request, actor, activity),
                    "flash": {},
                    "outcomes": outcomes,
                },
            )
        except (ValidationFailed, Conflict) as exc:
            errors = as_page_errors(exc)
    else:
        raw_option = request.query_params.get("option_id", "")
    await activity.refresh_from_db()
    planning = activity.status == ActivityStatus.PLANNING
    if planning and (errors is None or "option_id" not in errors.by_field()):
        try:
            option, choices = await polls.choices(actor, activity, raw_option)
            return page(
                request,
                "activities/finalise.html",
                {
                    "activity": activity,
                    "option": option,
                    "choices": choices,
                    "course_warnings": await courses.booking_warnings(
                        activity, [ch.representative for ch in choices]
                    ),
                    "picked": picked,
                    "mode_labels": MODE_LABELS,
                },
                status_code=422 if errors else 200,
                errors=errors,
            )
        except ValidationFailed as exc:
            errors = exc
    return page(
        request,
        "activities/detail.html",
        {**await _detail_context(request, actor, activity), "flash": {}},
        status_code=422 if planning else 409,
        errors=errors
        or ValidationFailed.one("option_id", "A time has already been chosen for this activity"),
    )


def _action(name: str) -> Any:
    @signed_in(Role.INVOLVEMENT_LEAD)
    async def endpoint(request: Request, actor: Actor) -> Response:
        return await _activity_action(request, actor, name)

    endpoint.__name__ = f"activity_{name}"
    return endpoint


routes = [
    Route("/activities", activity_list, methods=["GET"]),
    Route("/activities/new", activity_new, methods=["GET", "POST"]),
    Route("/activities/{id:int}", activity_detail, methods=["GET"]),
    Route("/activities/{id:int}/invite", _action("invite"), methods=["POST"]),
    Route("/activities/{id:int}/options", _action("options"), methods=["POST"]),
    Route("/activities/{id:int}/finalise", activity_finalise, methods=["GET", "POST"]),
    Route("/activities/{id:int}/book", _action("book"), methods=["POST"]),
    Route("/activities/{id:int}/reschedule", _action("reschedule"), methods=["POST"]),
    Route(
        "/activities/{id:int}/feedback/{feedback_id:int}/followed-up",
        feedback_followed_up,
        methods=["POST"],
    ),
]
