"""Bookings (changes, wellbeing checks, attendance, cancelling), access arrangements, the call
list, catch-ups, and a representative's own bookings and calendar feed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod import clock
from coprod.config import get_settings
from coprod.domain import activity_feedback as feedback_rules
from coprod.domain import courses as course_rules
from coprod.domain.notifications import KINDS
from coprod.errors import Conflict, NotFound
from coprod.models import (
    HOLDING,
    AccessArrangement,
    ActivityFeedback,
    Booking,
    Role,
    WellbeingOutcome,
)
from coprod.services import (
    access,
    activities,
    activity_feedback,
    arrangements,
    attendance,
    bookings,
    contact,
    courses,
    reminders,
    text_replies,
)
from coprod.services.actor import Actor
from coprod.services.calendar_feed import feed_by_token, reset_calendar_token
from coprod.validation import ValidationFailed
from coprod.web.guards import form_values, public_form, signed_in
from coprod.web.pages.activities import MODE_LABELS
from coprod.web.pages.paged import paged
from coprod.web.render import as_page_errors, page, redirect


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
            "place": await courses.place_of(booking),
            "format_label": course_rules.format_label,
            "checks": await bookings.wellbeing_checks(actor, booking)
            if booking.status.value == "needs_wellbeing_check" or lead_view
            else [],
            "outcomes": list(WellbeingOutcome),
            "modes": sorted(activity.modes),
            "mode_labels": MODE_LABELS,
            "how": activities.how_to_join(activity, booking.mode),
            "started": booking.starts_at <= dt.datetime.now(dt.UTC),
            "today": clock.today(),
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
    await arrangements.tick(actor, arrangement, form.get("done") == "yes")
    return redirect(str(form.get("back") or f"/bookings/{arrangement.booking_id}"))


@signed_in(Role.INVOLVEMENT_LEAD)
async def call_list(request: Request, actor: Actor) -> Response:
    return page(
        request,
        "activities/call_list.html",
        {"calls": await reminders.call_list(actor), "mode_labels": MODE_LABELS, "kinds": KINDS},
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def text_dealt_with(request: Request, actor: Actor) -> Response:
    await text_replies.dealt_with(actor, request.path_params["id"])
    return redirect("/call-list")


@signed_in(Role.INVOLVEMENT_LEAD)
async def overdue(request: Request, actor: Actor) -> Response:
    items = await paged(request, arrangements.overdue_query(actor))
    letters = await paged(request, arrangements.transcriptions_query(actor), param="letters")
    return page(
        request,
        "activities/overdue.html",
        {"items": items, "letters": letters, "today": clock.today()},
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


@signed_in(Role.REPRESENTATIVE)
async def my_bookings(request: Request, actor: Actor) -> Response:
    rep = await access.own_representative(actor)
    now = dt.datetime.now(dt.UTC)
    mine = Booking.filter(representative=rep).prefetch_related("activity")
    upcoming = await paged(request, mine.filter(starts_at__gte=now).order_by("starts_at", "id"))
    past = await paged(
        request, mine.filter(starts_at__lt=now).order_by("-starts_at", "-id"), param="past"
    )
    answered = set(
        await ActivityFeedback.filter(booking_id__in=[b.id for b in past.rows]).values_list(
            "booking_id", flat=True
        )
    )
    return page(
        request,
        "activities/my_bookings.html",
        {
            "upcoming": upcoming,
            "past": past,
            "answered": answered,
            "holding": HOLDING,
            "mode_labels": MODE_LABELS,
            "done": request.query_params.get("done"),
        },
    )


@signed_in()
async def booking_feedback(request: Request, actor: Actor) -> Response:
    """How an attended activity went: the representative's own answers, or a lead recording
    them after a phone call (the service marks and audits that)."""
    booking, given = await activity_feedback.booking_to_answer(actor, request.path_params["id"])
    errors, form = None, {}
    status = 200
    if request.method == "POST" and given is None:
        form = form_values(await request.form())
        try:
            await activity_feedback.submit(actor, booking.id, form)
        except ValidationFailed as exc:
            errors, status = exc, 422
        except Conflict as exc:
            errors, status = as_page_errors(exc), 409
        else:
            if access.is_self(actor, booking.representative):
                return redirect(f"/my/bookings/{booking.id}/feedback?done=1")
            return redirect(f"/activities/{booking.activity.id}?done=feedback#feedback")
        given = (await activity_feedback.booking_to_answer(actor, booking.id))[1]
    return page(
        request,
        "activities/feedback.html",
        {
            "booking": booking,
            "activity": booking.activity,
            "rep": booking.representative,
            "for_someone": not access.is_self(actor, booking.representative),
            "given": given,
            "attended": booking.status.value == "attended",
            "form": form,
            "ratings": {str(k): v for k, v in feedback_rules.RATINGS.items()},
            "listened": feedback_rules.LISTENED,
            "access_labels": feedback_rules.ACCESS,
            "thanks": request.query_params.get("done") == "1",
        },
        status_code=status,
        errors=errors,
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
    Route("/bookings/{id:int}", booking_detail, methods=["GET"]),
    Route("/bookings/{id:int}/cancel", cancel_booking, methods=["GET", "POST"]),
    Route("/bookings/{id:int}/{action}", booking_action, methods=["POST"]),
    Route("/arrangements/{id:int}/tick", arrangement_tick, methods=["POST"]),
    Route("/arrangements/overdue", overdue, methods=["GET"]),
    Route("/call-list", call_list, methods=["GET"]),
    Route("/call-list/texts/{id:int}/dealt-with", text_dealt_with, methods=["POST"]),
    Route("/contracts/{id:int}/book-catch-up", book_catch_up, methods=["GET", "POST"]),
    Route("/my/bookings", my_bookings, methods=["GET"]),
    Route("/my/bookings/{id:int}/feedback", booking_feedback, methods=["GET", "POST"]),
    Route("/my/calendar", my_calendar, methods=["GET", "POST"]),
    Route("/calendar/{token}.ics", calendar_feed, methods=["GET"]),
    Route("/tech-test/{token}", tech_test, methods=["GET", "POST"]),
]
