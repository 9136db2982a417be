"""API operations for bookings, wellbeing checks, access arrangements, catch-ups, the personal
calendar feed and the call list.

Handlers only translate between JSON and the services: every rule lives in
coprod.services.bookings, coprod.services.calendar_feed and coprod.services.reminders. Health
data appears only where the pages show it (a wellbeing check's note, read as an audited view):
a booking says only that it waits for a wellbeing conversation, and why in general terms.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from coprod.config import get_settings
from coprod.errors import NotFound
from coprod.models import (
    AccessArrangement,
    Booking,
    BookingStatus,
    Mode,
    MoneyState,
    ReceivedText,
    Role,
    TextOutcome,
    WellbeingOutcome,
)
from coprod.services import (
    access,
    activities,
    arrangements,
    bookings,
    calendar_feed,
    contact,
    courses,
    earnings,
    reminders,
    text_replies,
)
from coprod.services.actor import Actor
from coprod.templating import money_news
from coprod.web.api.activities import (
    BOOKINGS,
    LEADS,
    BookingWarning,
    NotContacted,
    booking_warnings_of,
    flag_reason,
)
from coprod.web.api.paging import keyset_page, list_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, DateTime, Id, NoBody, Page, Paging, Reply, text

# ---------------------------------------------------------------------------- replies


class BookingReply(Reply):
    id: int
    activity_id: int
    representative_id: int
    status: BookingStatus
    mode: Mode
    uid: str = Field(description="The booking's calendar UID; it never changes")
    sequence: int = Field(description="The calendar version, one up with every change sent")
    starts_at: DateTime
    ends_at: DateTime
    wellbeing_flag_reason: str | None = Field(
        description="Why a wellbeing conversation is needed first, never with health details; "
        "null unless the booking waits for one"
    )


class BookingSent(BookingReply):
    not_contacted: list[NotContacted] = Field(
        description="People this did not write to, because they have not agreed to be contacted "
        "(or withdrew, or their consent is past its review date), or have no email: phone them"
    )


class NewBooking(BookingSent):
    warnings: list[BookingWarning] = Field(
        description="Warnings, the same as the pages show: earnings limits (this may affect "
        "someone's benefits) and training (a course this kind of activity asks for that they "
        "have not done, or a course format not yet available). They never stop anything"
    )


class MyBooking(BookingReply):
    title: str = Field(description="The activity's title")


def _booking(booking: Booking) -> BookingReply:
    """A booking as its lead or the person booked sees it (`bookings.booking_for` and the
    lists decide who that is)."""
    flagged = booking.status == BookingStatus.NEEDS_WELLBEING_CHECK
    return BookingReply(
        id=booking.id,
        activity_id=booking.activity_id,
        representative_id=booking.representative_id,
        status=booking.status,
        mode=Mode(booking.mode),
        uid=booking.uid,
        sequence=booking.sequence,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        wellbeing_flag_reason=flag_reason() if flagged else None,
    )


async def _booking_sent(booking: Booking) -> BookingSent:
    """A booking after a change that would have told the person, saying if it did not."""
    told = [
        NotContacted(
            representative_id=n.representative.id, name=n.representative.full_name, reason=n.reason
        )
        for n in await contact.not_contacted([booking.representative])
    ]
    return BookingSent(**_booking(booking).model_dump(), not_contacted=told)


# ---------------------------------------------------------------------------- bookings


class BookInput(Body):
    representative_id: Id = Field(title="the person to book")
    mode: Mode = Field(title="how they will take part")


class ModeInput(Body):
    mode: Mode | None = Field(None, title="how they will take part")


@api.operation(
    "GET",
    "/activities/{id:int}/bookings",
    summary="Everyone booked onto an activity, including cancelled bookings, in booking order",
    tag=BOOKINGS,
    roles=LEADS,
    query=Paging,
    reply=Page[BookingReply],
)
async def list_bookings(
    request: Request, actor: Actor, id: int, query: Paging
) -> Page[BookingReply]:
    activity = await activities.activity_for(actor, id)
    found, cursor = await keyset_page(Booking.filter(activity=activity), query, ("id",))
    return Page(items=[_booking(b) for b in found], next_cursor=cursor)


@api.operation(
    "POST",
    "/activities/{id:int}/bookings",
    summary="Book someone onto an activity that has a time; a refusal (409) names each rule broken",
    tag=BOOKINGS,
    roles=LEADS,
    body=BookInput,
    reply=NewBooking,
    status=201,
)
async def create_booking(request: Request, actor: Actor, id: int, body: BookInput) -> NewBooking:
    activity = await activities.activity_for(actor, id)
    rep = await access.representative_for(actor, body.representative_id, include_archived=False)
    booking = await bookings.book(actor, activity, rep, body.mode.value)
    warnings = booking_warnings_of(
        await earnings.activity_warnings(activity, [rep]),
        await courses.booking_warnings(activity, [rep]),
    )
    return NewBooking(**(await _booking_sent(booking)).model_dump(), warnings=warnings)


@api.operation(
    "GET",
    "/bookings/{id:int}",
    summary="One booking (involvement leads, or the person booked)",
    tag=BOOKINGS,
    reply=BookingReply,
)
async def get_booking(request: Request, actor: Actor, id: int) -> BookingReply:
    return _booking(await bookings.booking_for(actor, id))


@api.operation(
    "PATCH",
    "/bookings/{id:int}",
    summary="Change how someone takes part; they are sent the updated calendar invite",
    tag=BOOKINGS,
    body=ModeInput,
    reply=BookingSent,
)
async def update_booking(request: Request, actor: Actor, id: int, body: ModeInput) -> BookingSent:
    booking = await bookings.booking_for(actor, id)
    await bookings.change_mode(actor, booking, body.mode.value if body.mode else "")
    return await _booking_sent(booking)


@api.operation(
    "POST",
    "/bookings/{id:int}/cancel",
    summary="Cancel a booking (a lead) or withdraw (the person booked); no reason is asked",
    tag=BOOKINGS,
    body=NoBody,
    reply=BookingSent,
)
async def cancel_booking(request: Request, actor: Actor, id: int, body: NoBody) -> BookingSent:
    booking = await bookings.booking_for(actor, id)
    await bookings.cancel(actor, booking)
    return await _booking_sent(booking)


class MyBookingsQuery(Paging):
    when: Literal["upcoming", "past"] | None = Field(
        None,
        title="upcoming or past",
        description="`upcoming` (soonest first) or `past` (latest first); leave out for all, "
        "soonest first",
    )


@api.operation(
    "GET",
    "/my/bookings",
    summary="Your own bookings (a representative)",
    tag=BOOKINGS,
    roles=(Role.REPRESENTATIVE,),
    query=MyBookingsQuery,
    reply=Page[MyBooking],
)
async def list_my_bookings(
    request: Request, actor: Actor, query: MyBookingsQuery
) -> Page[MyBooking]:
    rep = await access.own_representative(actor)
    mine = Booking.filter(representative=rep).prefetch_related("activity")
    now = dt.datetime.now(dt.UTC)
    order: tuple[str, ...] = ("starts_at", "id")
    if query.when == "upcoming":
        mine = mine.filter(starts_at__gte=now)
    elif query.when == "past":
        mine, order = mine.filter(starts_at__lt=now), ("-starts_at", "-id")
    found, cursor = await keyset_page(mine, query, order)
    return Page(
        items=[MyBooking(**_booking(b).model_dump(), title=b.activity.title) for b in found],
        next_cursor=cursor,
    )


# ---------------------------------------------------------------------------- wellbeing checks


class WellbeingInput(Body):
    outcome: WellbeingOutcome = Field(title="the outcome of the conversation")
    note: str = text(4000, title="a note of the conversation")
    representative_wish: str = text(2000, title="what they want to do")


class WellbeingCheckReply(Reply):
    id: int
    booking_id: int
    outcome: WellbeingOutcome
    created_at: DateTime
    booking: BookingSent


class WellbeingCheckNote(Reply):
    outcome: WellbeingOutcome
    created_at: DateTime
    note: str = Field(description="Health information: reading it is recorded in the audit log")
    representative_wish: str


@api.operation(
    "POST",
    "/bookings/{id:int}/wellbeing-check",
    summary="Record the wellbeing conversation: proceed or adjust_role confirms the booking, "
    "postpone or not_this_time releases the place",
    tag=BOOKINGS,
    roles=LEADS,
    body=WellbeingInput,
    reply=WellbeingCheckReply,
    status=201,
)
async def record_wellbeing_check(
    request: Request, actor: Actor, id: int, body: WellbeingInput
) -> WellbeingCheckReply:
    booking = await bookings.booking_for(actor, id)
    check = await bookings.record_wellbeing_check(actor, booking, body.data())
    return WellbeingCheckReply(
        id=check.id,
        booking_id=booking.id,
        outcome=check.outcome,
        created_at=check.created_at,
        booking=await _booking_sent(booking),
    )


@api.operation(
    "GET",
    "/bookings/{id:int}/wellbeing-checks",
    summary="The wellbeing conversations recorded for a booking, oldest first",
    description="Health information: each read is recorded in the audit log, as on the page.",
    tag=BOOKINGS,
    query=Paging,
    reply=Page[WellbeingCheckNote],
)
async def list_wellbeing_checks(
    request: Request, actor: Actor, id: int, query: Paging
) -> Page[WellbeingCheckNote]:
    booking = await bookings.booking_for(actor, id)
    checks, cursor = list_page(await bookings.wellbeing_checks(actor, booking), query)
    return Page(items=[WellbeingCheckNote(**c) for c in checks], next_cursor=cursor)


# ---------------------------------------------------------------------------- arrangements


class ArrangementReply(Reply):
    id: int
    booking_id: int
    kind: str
    label: str = Field(description="What has to be done, e.g. 'Large print papers sent'")
    due_on: dt.date
    done_at: DateTime | None
    done_on_time: bool


class OverdueArrangement(ArrangementReply):
    representative_id: int
    name: str
    activity_id: int
    title: str
    starts_at: DateTime


class TickInput(Body):
    done: bool = Field(title="whether it is done", description="false to mark it not done")


def _arrangement(a: AccessArrangement) -> ArrangementReply:
    return ArrangementReply(
        id=a.id,
        booking_id=a.booking_id,
        kind=a.kind,
        label=a.label,
        due_on=a.due_on,
        done_at=a.done_at,
        done_on_time=a.done_on_time,
    )


@api.operation(
    "GET",
    "/bookings/{id:int}/arrangements",
    summary="A booking's access arrangements (its checklist), by the day each is due",
    tag=BOOKINGS,
    roles=LEADS,
    query=Paging,
    reply=Page[ArrangementReply],
)
async def list_arrangements(
    request: Request, actor: Actor, id: int, query: Paging
) -> Page[ArrangementReply]:
    booking = await bookings.booking_for(actor, id)
    found, cursor = await keyset_page(
        AccessArrangement.filter(booking=booking), query, ("due_on", "id")
    )
    return Page(items=[_arrangement(a) for a in found], next_cursor=cursor)


@api.operation(
    "POST",
    "/arrangements/{id:int}/tick",
    summary="Mark an access arrangement done, or not done",
    tag=BOOKINGS,
    roles=LEADS,
    body=TickInput,
    reply=ArrangementReply,
)
async def tick_arrangement(
    request: Request, actor: Actor, id: int, body: TickInput
) -> ArrangementReply:
    arrangement = await AccessArrangement.get_or_none(
        id=id, booking__activity__organisation_id=actor.organisation_id
    )
    if arrangement is None:
        raise NotFound
    await arrangements.tick(actor, arrangement, body.done)
    return _arrangement(arrangement)


@api.operation(
    "GET",
    "/arrangements/overdue",
    summary="Access arrangements past their due day and not done, for bookings still on",
    tag=BOOKINGS,
    roles=LEADS,
    query=Paging,
    reply=Page[OverdueArrangement],
)
async def list_overdue_arrangements(
    request: Request, actor: Actor, query: Paging
) -> Page[OverdueArrangement]:
    found, cursor = list_page(await arrangements.overdue(actor), query)
    return Page(
        items=[
            OverdueArrangement(
                **_arrangement(a).model_dump(),
                representative_id=a.booking.representative_id,
                name=a.booking.representative.full_name,
                activity_id=a.booking.activity_id,
                title=a.booking.activity.title,
                starts_at=a.booking.starts_at,
            )
            for a in found
        ],
        next_cursor=cursor,
    )


# ---------------------------------------------------------------------------- catch-ups


class CatchUpInput(Body):
    starts_at: dt.datetime = Field(
        title="the date and time it starts",
        description="Without an offset, a time in England",
    )
    mode: Literal["in_person", "video", "phone"] = Field(title="how you will meet")
    venue: str | None = text(200, required=False, default=None, title="the venue")
    address: str | None = text(1000, required=False, default=None, title="the address")
    video_link: str | None = text(500, required=False, default=None, title="the video link")
    dial_in: str | None = text(40, required=False, default=None, title="the dial-in number")
    dial_in_pin: str | None = text(20, required=False, default=None, title="the PIN")


@api.operation(
    "POST",
    "/contracts/{id:int}/book-catch-up",
    summary="Book a due catch-up: a half-day activity for the contract's holder, at a time "
    "agreed with them",
    tag=BOOKINGS,
    roles=LEADS,
    body=CatchUpInput,
    reply=BookingSent,
    status=201,
)
async def book_catch_up(request: Request, actor: Actor, id: int, body: CatchUpInput) -> BookingSent:
    contract = await access.contract_for(actor, id)
    booking = await bookings.book_catch_up(actor, contract, body.data())
    return await _booking_sent(await bookings.booking_for(actor, booking.id))


# ---------------------------------------------------------------------------- calendar feed


class FeedUrl(Reply):
    url: str = Field(description="The secret address to subscribe to in a calendar app")


class MyFeed(Reply):
    url: str | None = Field(
        description="The secret address to subscribe to; null until one has been made"
    )


def _feed_url(token: str) -> str:
    return f"{get_settings().base_url}/calendar/{token}.ics"


@api.operation(
    "GET",
    "/representatives/{id:int}/calendar.ics",
    summary="Someone's bookings as a calendar file (involvement leads, or the person)",
    description="An iCalendar (RFC 5545) file of their bookings from 90 days ago on, "
    "cancelled ones included so calendars remove them.",
    tag=BOOKINGS,
    content_type="text/calendar",
)
async def get_calendar(request: Request, actor: Actor, id: int) -> Response:
    rep = await access.representative_for(actor, id)
    return Response(await calendar_feed.feed(rep), media_type="text/calendar")


@api.operation(
    "POST",
    "/representatives/{id:int}/calendar-token",
    summary="Make a new secret calendar feed address; the old one stops working",
    tag=BOOKINGS,
    body=NoBody,
    reply=FeedUrl,
)
async def reset_calendar_token(request: Request, actor: Actor, id: int, body: NoBody) -> FeedUrl:
    rep = await access.representative_for(actor, id, include_archived=False)
    return FeedUrl(url=_feed_url(await calendar_feed.reset_calendar_token(actor, rep)))


@api.operation(
    "GET",
    "/my/calendar-feed",
    summary="Your calendar feed's secret address (a representative)",
    tag=BOOKINGS,
    roles=(Role.REPRESENTATIVE,),
    reply=MyFeed,
)
async def get_my_calendar_feed(request: Request, actor: Actor) -> MyFeed:
    rep = await access.own_representative(actor)
    return MyFeed(url=_feed_url(rep.calendar_token) if rep.calendar_token else None)


@api.operation(
    "POST",
    "/my/calendar-feed",
    summary="Make a new secret address for your calendar feed; the old one stops working",
    tag=BOOKINGS,
    roles=(Role.REPRESENTATIVE,),
    body=NoBody,
    reply=FeedUrl,
)
async def reset_my_calendar_feed(request: Request, actor: Actor, body: NoBody) -> FeedUrl:
    rep = await access.own_representative(actor)
    return FeedUrl(url=_feed_url(await calendar_feed.reset_calendar_token(actor, rep)))


# ---------------------------------------------------------------------------- call list


class ReceivedTextReply(Reply):
    id: int
    from_number: str = Field(description="As Notify gives it: 447700900123")
    message: str
    received_at: DateTime
    outcome: TextOutcome = Field(
        description="answered; unclear (we could not read it); shared_number (several people "
        "have the number, so it is not guessed whose); nothing_open (no invitation by text open "
        "to answer); unknown_number"
    )
    problem: str | None = Field(description="Why it could not be read, for unclear")
    dealt_with_at: DateTime | None = Field(description="When the lead said they had phoned")


def _received_text(t: ReceivedText) -> ReceivedTextReply:
    return ReceivedTextReply(
        id=t.id,
        from_number=t.from_number,
        message=t.message,
        received_at=t.received_at,
        outcome=t.outcome,
        problem=t.problem,
        dealt_with_at=t.dealt_with_at,
    )


class ToCallReply(Reply):
    representative_id: int | None = Field(
        description="Null for a text from a number several people share (see name)"
    )
    name: str = Field(description="Who to phone; for a shared number, each who shares it")
    phone: str | None
    reason: str = Field(
        description="Why we do not write to them, e.g. 'has not agreed to be contacted'; for "
        "a text, why it could not be recorded as their answer; for a message, what failed, e.g. "
        "'Text to 07700 900123 not delivered: the number may be wrong'"
    )
    about: Literal["booking", "invitation", "payment", "text", "message"] = Field(
        description="What the call is about: a coming booking, an unanswered invitation, "
        "their money (a payment held, returned by their bank, or reversed), a text they sent, "
        "or a message of ours that did not reach them"
    )
    activity_id: int | None = Field(description="The activity, for a booking or invitation")
    title: str | None
    booking_id: int | None = Field(description="Their coming booking, if that is the call")
    starts_at: DateTime | None
    invitation_id: int | None = Field(description="Their unanswered invitation, if that is")
    poll_deadline: DateTime | None
    claim_id: int | None = Field(description="The claim whose money they need to hear about")
    money: MoneyState | None = Field(description="Where that claim's money is")
    money_news: str | None = Field(description="What to tell them, in their words")
    text: ReceivedTextReply | None = Field(description="The text they sent, for a text")
    message_id: int | None = Field(
        description="The message that did not arrive: say you phoned them with "
        "POST /representatives/{id}/messages/{message_id}/follow-up"
    )


def _about(c: reminders.ToCall) -> Literal["booking", "invitation", "payment", "text", "message"]:
    if c.text:
        return "text"
    if c.message:
        return "message"
    return "booking" if c.booking else ("invitation" if c.invitation else "payment")


def _to_call(c: reminders.ToCall) -> ToCallReply:
    activity, claim, rep = c.activity, c.claim, c.representative
    return ToCallReply(
        representative_id=rep.id if rep else None,
        name=c.name,
        phone=(rep.phone or rep.mobile) if rep else c.text.from_number if c.text else None,
        reason=c.reason,
        about=_about(c),
        activity_id=activity.id if activity else None,
        title=activity.title if activity else None,
        booking_id=c.booking.id if c.booking else None,
        starts_at=c.booking.starts_at if c.booking else None,
        invitation_id=c.invitation.id if c.invitation else None,
        poll_deadline=activity.poll_deadline if activity else None,
        claim_id=claim.id if claim else None,
        money=claim.money if claim else None,
        money_news=money_news(claim) if claim else None,
        text=_received_text(c.text) if c.text else None,
        message_id=c.message.id if c.message else None,
    )


@api.operation(
    "GET",
    "/call-list",
    summary="People to phone: those a message of ours did not reach, and those we may not write "
    "to, about their bookings in the next two weeks, the invitations they have not answered, and "
    "payments of theirs held, returned or reversed, each with the reason",
    tag=BOOKINGS,
    roles=LEADS,
    query=Paging,
    reply=Page[ToCallReply],
)
async def call_list(request: Request, actor: Actor, query: Paging) -> Page[ToCallReply]:
    calls, cursor = list_page(await reminders.call_list(actor), query)
    return Page(items=[_to_call(c) for c in calls], next_cursor=cursor)


@api.operation(
    "POST",
    "/received-texts/{id:int}/dealt-with",
    summary="Say you have phoned about a text on the call list: it leaves the list. Doing it "
    "again changes nothing",
    tag=BOOKINGS,
    roles=LEADS,
    body=NoBody,
    reply=ReceivedTextReply,
)
async def received_text_dealt_with(
    request: Request, actor: Actor, id: int, body: NoBody
) -> ReceivedTextReply:
    return _received_text(await text_replies.dealt_with(actor, id))
