"""Projects, activities, finding a time, bookings, and the representative's own bookings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod.config import get_settings
from coprod.domain.scheduling import Answer, best_option
from coprod.errors import Conflict, NotFound
from coprod.models import (
    HOLDING,
    AccessArrangement,
    Activity,
    ActivityStatus,
    Booking,
    Category,
    Contract,
    Invitation,
    Kind,
    Project,
    Representative,
    RespectAcknowledgement,
    Role,
    Team,
    TimeOption,
    WellbeingOutcome,
)
from coprod.services import (
    access,
    activities,
    attendance,
    bookings,
    contact,
    decisions,
    earnings,
    reminders,
)
from coprod.services.actor import Actor
from coprod.services.calendar_feed import feed_by_token, reset_calendar_token
from coprod.validation import ValidationFailed, record_id
from coprod.web.guards import checked_form, form_values, public_form, signed_in
from coprod.web.pages.representatives import LABELS
from coprod.web.render import as_page_errors, page, redirect

MODE_LABELS = LABELS["mode"]


# ---------------------------------------------------------------------------- projects


@signed_in(Role.INVOLVEMENT_LEAD)
async def project_list(request: Request, actor: Actor) -> Response:
    errors = None
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            project = await activities.create_project(actor, form)
            return redirect(f"/projects/{project.id}")
        except ValidationFailed as exc:
            errors = exc
    projects = await Project.filter(organisation_id=actor.organisation_id)
    return page(
        request,
        "activities/projects.html",
        {"projects": projects, "form": form},
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def project_detail(request: Request, actor: Actor) -> Response:
    project = await Project.get_or_none(
        id=request.path_params["id"], organisation_id=actor.organisation_id
    )
    if project is None:
        raise NotFound
    if request.method == "POST":
        form = form_values(await request.form())
        rep = None
        if form.get("representative_id"):
            rep = await access.representative_for(actor, int(str(form["representative_id"])))
        await activities.acknowledge(actor, project, rep)
        return redirect(f"/projects/{project.id}?acknowledged=1")
    acks = await RespectAcknowledgement.filter(project=project).prefetch_related(
        "representative", "user"
    )
    reps = await Representative.filter(
        organisation_id=actor.organisation_id, archived_at__isnull=True
    )
    acked = {a.representative_id for a in acks if a.representative_id}
    return page(
        request,
        "activities/project.html",
        {
            "project": project,
            "acks": acks,
            "to_acknowledge": [r for r in reps if r.id not in acked],
            "activities": await Activity.filter(project=project),
            "staff_acked": any(a.user_id == actor.user.id for a in acks if actor.user),
            "done": request.query_params.get("acknowledged"),
        },
    )


# ---------------------------------------------------------------------------- activities


async def _choices(actor: Actor) -> dict[str, Any]:
    projects = await Project.filter(organisation_id=actor.organisation_id)
    teams = await Team.filter(organisation_id=actor.organisation_id)
    return {
        "project_items": [(p.id, p.name) for p in projects],
        "team_items": [(t.id, t.name) for t in teams],
        "categories": list(Category),
        "kinds": list(Kind),
        "mode_labels": MODE_LABELS,
    }


@signed_in(Role.INVOLVEMENT_LEAD)
async def activity_list(request: Request, actor: Actor) -> Response:
    now = dt.datetime.now(dt.UTC)
    all_activities = await Activity.filter(organisation_id=actor.organisation_id).prefetch_related(
        "bookings"
    )
    planning = [a for a in all_activities if a.status == ActivityStatus.PLANNING]
    upcoming = [
        a
        for a in all_activities
        if a.status == ActivityStatus.SCHEDULED and a.starts_at and a.starts_at >= now
    ]
    past = [
        a
        for a in all_activities
        if a.status == ActivityStatus.SCHEDULED and a.starts_at and a.starts_at < now
    ]
    return page(
        request,
        "activities/list.html",
        {
            "planning": planning,
            "upcoming": upcoming,
            "past": sorted(past, key=lambda a: a.starts_at or now, reverse=True)[:20],
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


async def _detail_context(actor: Actor, activity: Activity) -> dict[str, Any]:
    options, rows, totals = await activities.grid(actor, activity)
    best = None
    if options:
        best = best_option(totals, [o.id for o in options])
    invited_ids = {row.representative.id for row in rows}
    reps = await Representative.filter(
        organisation_id=actor.organisation_id, archived_at__isnull=True
    )
    today = dt.date.today()
    contracts = {
        c.representative_id: c for c in await Contract.filter(organisation_id=actor.organisation_id)
    }
    activity_bookings = await Booking.filter(activity=activity).prefetch_related("representative")
    booked_ids = {b.representative_id for b in activity_bookings if b.status in HOLDING}
    concerned = [row.representative for row in rows] + [
        b.representative for b in activity_bookings if b.status in HOLDING
    ]
    return {
        # Benefits: warn (never block) about anyone this would take over their earnings limit.
        "warnings": await earnings.activity_warnings(activity, reps),
        "not_contacted": await contact.not_contacted(concerned),
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
        "can_invite": [r for r in reps if r.id not in invited_ids],
        "can_book": [r for r in reps if r.id not in booked_ids],
        "has_contract": set(contracts),
        "today": today,
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
        {**await _detail_context(actor, activity), "flash": request.query_params},
    )


async def _activity_action(request: Request, actor: Actor, action: str) -> Response:
    activity = await activities.activity_for(actor, request.path_params["id"])
    form = await checked_form(request)
    data = form_values(form)
    try:
        if action == "invite":
            await activities.invite(
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
            {**await _detail_context(actor, activity), "flash": {}},
            status_code=409 if isinstance(exc, Conflict) else 422,
            errors=as_page_errors(exc),
        )
    except NotFound:
        return page(
            request,
            "activities/detail.html",
            {**await _detail_context(actor, activity), "flash": {}},
            status_code=422,
            errors=ValidationFailed.one("representative_id", "Select a person from the list"),
        )
    return redirect(f"/activities/{activity.id}?done={action}")


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
            outcomes = await bookings.finalise(
                actor, activity, {"option_id": raw_option, "representative_ids": picked}
            )
            await activity.refresh_from_db()
            return page(
                request,
                "activities/detail.html",
                {**await _detail_context(actor, activity), "flash": {}, "outcomes": outcomes},
            )
        except (ValidationFailed, Conflict) as exc:
            errors = as_page_errors(exc)
    else:
        raw_option = request.query_params.get("option_id", "")
    await activity.refresh_from_db()
    planning = activity.status == ActivityStatus.PLANNING
    if planning and (errors is None or "option_id" not in errors.by_field()):
        try:
            option, choices = await bookings.choices(actor, activity, raw_option)
            return page(
                request,
                "activities/finalise.html",
                {
                    "activity": activity,
                    "option": option,
                    "choices": choices,
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
        {**await _detail_context(actor, activity), "flash": {}},
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


@signed_in(Role.INVOLVEMENT_LEAD)
async def answer_for(request: Request, actor: Actor) -> Response:
    """A lead fills in the answers someone gave by phone."""
    activity = await activities.activity_for(actor, request.path_params["id"])
    invitation = await Invitation.get_or_none(
        id=request.path_params["invitation_id"], activity=activity
    )
    if invitation is None:
        raise NotFound
    return await _answer_page(request, actor, invitation, f"/activities/{activity.id}")


async def _answer_page(
    request: Request, actor: Actor | None, invitation: Invitation, done: str
) -> Response:
    activity = await invitation.activity
    rep = await invitation.representative
    options = await TimeOption.filter(activity=activity)
    current = {a.option_id: a.answer for a in await invitation.answers.all()}
    form: dict[str, Any] = {f"answer_{k}": v for k, v in current.items()} | {
        "mode": invitation.mode or "",
        "comment": invitation.comment or "",
    }
    errors = None
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            await activities.record_answers(actor, invitation, form)
            return redirect(done if actor else f"{request.url.path}?thanks=1")
        except (ValidationFailed, Conflict) as exc:
            errors = as_page_errors(exc)
    warnings = await earnings.activity_warnings(activity, [rep], to_person=actor is None)
    warning = warnings.get(rep.id)
    return page(
        request,
        "activities/answer.html",
        {
            "activity": activity,
            "rep": rep,
            "options": options,
            "form": form,
            "answers": list(Answer),
            "modes": sorted(activity.modes),
            "mode_labels": MODE_LABELS,
            "for_someone": actor is not None,
            "warning": warning,
            "thanks": request.query_params.get("thanks"),
        },
        status_code=422 if errors else 200,
        errors=errors,
    )


@public_form
async def answer_by_link(request: Request) -> Response:
    """The invitation email's link: answer without signing in (the link is the key)."""
    invitation = await activities.invitation_by_token(request.path_params["token"])
    return await _answer_page(request, None, invitation, "")


# ---------------------------------------------------------------------------- bookings


async def _booking_page(
    request: Request,
    actor: Actor,
    booking: Booking,
    errors: ValidationFailed | None = None,
    status_code: int = 200,
) -> Response:
    activity = booking.activity
    lead_view = access.is_lead(actor)
    return page(
        request,
        "activities/booking.html",
        {
            "booking": booking,
            "activity": activity,
            "rep": booking.representative,
            "lead_view": lead_view,
            "not_contacted": await contact.why_not_contactable(booking.representative),
            "arrangements": await AccessArrangement.filter(booking=booking),
            "checks": await bookings.wellbeing_checks(actor, booking)
            if booking.status.value == "needs_wellbeing_check" or lead_view
            else [],
            "outcomes": list(WellbeingOutcome),
            "modes": sorted(activity.modes),
            "mode_labels": MODE_LABELS,
            "how": activities.how_to_join(activity, booking.mode),
            "started": booking.starts_at <= dt.datetime.now(dt.UTC),
            "today": dt.date.today(),
            "done": request.query_params.get("done"),
        },
        status_code=status_code,
        errors=errors,
    )


@signed_in()
async def booking_detail(request: Request, actor: Actor) -> Response:
    booking = await bookings.booking_for(actor, request.path_params["id"])
    return await _booking_page(request, actor, booking)


@signed_in()
async def booking_action(request: Request, actor: Actor) -> Response:
    booking = await bookings.booking_for(actor, request.path_params["id"])
    form = form_values(await request.form())
    action = request.path_params["action"]
    try:
        if action == "mode":
            await bookings.change_mode(actor, booking, str(form.get("mode", "")))
        elif action == "wellbeing-check":
            await bookings.record_wellbeing_check(actor, booking, form)
        elif action == "attendance":
            await attendance.record_attendance(actor, booking, form)
        else:
            raise NotFound
    except (ValidationFailed, Conflict) as exc:
        booking = await bookings.booking_for(actor, booking.id)
        return await _booking_page(
            request, actor, booking, as_page_errors(exc), 409 if isinstance(exc, Conflict) else 422
        )
    if not access.is_lead(actor):
        return redirect(f"/my/bookings?done={action}")
    return redirect(f"/bookings/{booking.id}?done={action}")


@signed_in()
async def cancel_booking(request: Request, actor: Actor) -> Response:
    """Cancelling can't be undone, so the button on the booking leads here to confirm first."""
    booking = await bookings.booking_for(actor, request.path_params["id"])
    errors = None
    if request.method == "POST":
        try:
            await bookings.cancel(actor, booking)
        except Conflict as exc:
            errors = as_page_errors(exc)
        else:
            if not access.is_lead(actor):
                return redirect("/my/bookings?done=cancel")
            return redirect(f"/bookings/{booking.id}?done=cancel")
    return page(
        request,
        "activities/cancel.html",
        {
            "booking": booking,
            "activity": booking.activity,
            "rep": booking.representative,
            "lead_view": access.is_lead(actor),
            "open_tasks": await AccessArrangement.filter(booking=booking, done_at__isnull=True),
        },
        status_code=409 if errors else 200,
        errors=errors,
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def arrangement_tick(request: Request, actor: Actor) -> Response:
    arrangement = await AccessArrangement.get_or_none(id=request.path_params["id"])
    if arrangement is None:
        raise NotFound
    form = form_values(await request.form())
    await bookings.tick(actor, arrangement, form.get("done") == "yes")
    return redirect(str(form.get("back") or f"/bookings/{arrangement.booking_id}"))


@signed_in(Role.INVOLVEMENT_LEAD)
async def call_list(request: Request, actor: Actor) -> Response:
    return page(
        request,
        "activities/call_list.html",
        {"calls": await reminders.call_list(actor), "mode_labels": MODE_LABELS},
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def overdue(request: Request, actor: Actor) -> Response:
    return page(
        request, "activities/overdue.html", {"items": await bookings.overdue_arrangements(actor)}
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def book_catch_up(request: Request, actor: Actor) -> Response:
    """Book a due catch-up: a half-day activity for one person, at a time agreed with them."""
    contract = await access.contract_for(actor, request.path_params["id"])
    rep = await contract.representative
    # No way of meeting is ticked for the lead: it is agreed with the person, not assumed.
    form: dict[str, Any] = {}
    errors = None
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            booking = await bookings.book_catch_up(actor, contract, form)
            return redirect(f"/bookings/{booking.id}?done=booked")
        except (ValidationFailed, Conflict) as exc:
            errors = as_page_errors(exc)
    return page(
        request,
        "activities/catch_up.html",
        {"rep": rep, "contract": contract, "form": form, "mode_labels": MODE_LABELS},
        status_code=422 if errors else 200,
        errors=errors,
    )


# ---------------------------------------------------------------------------- representatives


@signed_in(Role.REPRESENTATIVE)
async def my_bookings(request: Request, actor: Actor) -> Response:
    rep = await access.own_representative(actor)
    now = dt.datetime.now(dt.UTC)
    mine = await Booking.filter(representative=rep).prefetch_related("activity")
    return page(
        request,
        "activities/my_bookings.html",
        {
            "upcoming": [b for b in mine if b.starts_at >= now],
            "past": [b for b in mine if b.starts_at < now][::-1],
            "holding": HOLDING,
            "mode_labels": MODE_LABELS,
            "done": request.query_params.get("done"),
        },
    )


@signed_in(Role.REPRESENTATIVE)
async def my_calendar(request: Request, actor: Actor) -> Response:
    rep = await access.own_representative(actor)
    if request.method == "POST" or not rep.calendar_token:
        await reset_calendar_token(actor, rep)
    url = f"{get_settings().base_url}/calendar/{rep.calendar_token}.ics"
    return page(
        request, "activities/my_calendar.html", {"url": url, "reset": request.method == "POST"}
    )


async def calendar_feed(request: Request) -> Response:
    body = await feed_by_token(request.path_params["token"])
    return Response(
        body, media_type="text/calendar", headers={"Cache-Control": "private, max-age=300"}
    )


@public_form
async def tech_test(request: Request) -> Response:
    booking = await reminders.booking_for_tech_test(request.path_params["token"])
    sent = False
    if request.method == "POST":
        await reminders.request_tech_test(booking)
        sent = True
    return page(
        request,
        "activities/tech_test.html",
        {"booking": booking, "activity": await booking.activity, "sent": sent},
    )


routes = [
    Route("/projects", project_list, methods=["GET", "POST"]),
    Route("/projects/{id:int}", project_detail, methods=["GET", "POST"]),
    Route("/activities", activity_list, methods=["GET"]),
    Route("/activities/new", activity_new, methods=["GET", "POST"]),
    Route("/activities/{id:int}", activity_detail, methods=["GET"]),
    Route("/activities/{id:int}/invite", _action("invite"), methods=["POST"]),
    Route("/activities/{id:int}/options", _action("options"), methods=["POST"]),
    Route("/activities/{id:int}/finalise", activity_finalise, methods=["GET", "POST"]),
    Route("/activities/{id:int}/book", _action("book"), methods=["POST"]),
    Route("/activities/{id:int}/reschedule", _action("reschedule"), methods=["POST"]),
    Route("/activities/{id:int}/answers/{invitation_id:int}", answer_for, methods=["GET", "POST"]),
    Route("/answer/{token}", answer_by_link, methods=["GET", "POST"]),
    Route("/bookings/{id:int}", booking_detail, methods=["GET"]),
    Route("/bookings/{id:int}/cancel", cancel_booking, methods=["GET", "POST"]),
    Route("/bookings/{id:int}/{action}", booking_action, methods=["POST"]),
    Route("/arrangements/{id:int}/tick", arrangement_tick, methods=["POST"]),
    Route("/arrangements/overdue", overdue, methods=["GET"]),
    Route("/call-list", call_list, methods=["GET"]),
    Route("/contracts/{id:int}/book-catch-up", book_catch_up, methods=["GET", "POST"]),
    Route("/my/bookings", my_bookings, methods=["GET"]),
    Route("/my/calendar", my_calendar, methods=["GET", "POST"]),
    Route("/calendar/{token}.ics", calendar_feed, methods=["GET"]),
    Route("/tech-test/{token}", tech_test, methods=["GET", "POST"]),
]
