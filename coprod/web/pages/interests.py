"""Interest in getting involved: the public form at /join/{org_slug}/interest (with its thanks
page and the optional equality questions just after), and the lead's pipeline under /interests
with each step's page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod import clock
from coprod.domain import recruitment as rules
from coprod.domain.equality import QUESTIONS
from coprod.domain.notifications import KINDS
from coprod.errors import Conflict, NotFound
from coprod.models import (
    CloseReason,
    ContactChannel,
    Format,
    Interest,
    InterestSource,
    InterestStatus,
    Opportunity,
    Outreach,
    RepresentativeType,
    Role,
)
from coprod.services import contact, interest_steps, interests, opportunities
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed
from coprod.web.guards import form_values, public_form, signed_in
from coprod.web.pages.auth import client_address
from coprod.web.pages.representatives import LABELS, date_parts, profile_input
from coprod.web.render import as_page_errors, page, redirect

CHANNEL_LABELS = {
    ContactChannel.EMAIL.value: "Email",
    ContactChannel.PHONE.value: "Phone call",
    ContactChannel.TEXT.value: "Text message",
    ContactChannel.POST.value: "Letter",
}
PERSON_LABELS = {
    RepresentativeType.PATIENT.value: "Someone who has used services",
    RepresentativeType.CARER.value: "A carer",
    RepresentativeType.BOTH.value: "Both",
}


def _labels() -> dict[str, Any]:
    return {
        "labels": LABELS,
        "channels": CHANNEL_LABELS,
        "person_types": PERSON_LABELS,
        "statuses": {s.value: s.label for s in InterestStatus},
        "sources": {s.value: s.label for s in InterestSource},
        "close_reasons": {r.value: r.label for r in CloseReason},
        "formats": [f.value for f in Format],
        "questions": QUESTIONS,
        "welcome_modes": LABELS["mode"],
    }


def contact_input(form: Any) -> dict[str, Any]:
    """The form's fields, with the ways to get in touch in the order chosen."""
    data = form_values(form)
    data["contact_channels"] = [
        str(form.get(f"contact_channel_{i}"))
        for i in range(1, 5)
        if form.get(f"contact_channel_{i}")
    ]
    return data


# ---------------------------------------------------------------------------- public form


async def _organisation(request: Request) -> Any:
    return await opportunities.organisation_by_slug(request.path_params["org_slug"])


@public_form
async def express(request: Request) -> Response:
    try:
        org = await _organisation(request)
    except NotFound:
        return page(request, "errors/404.html", status_code=404)
    raw_opportunity = request.query_params.get("opportunity")
    errors = None
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = contact_input(await request.form())
        raw_opportunity = form.get("opportunity_id")
        try:
            done = await interests.express(org, form, address=client_address(request))
            return redirect(f"/join/{org.slug}/interest/thanks?about_you={done.equality_token}")
        except ValidationFailed as exc:
            errors = exc
    opportunity = await interests.public_opportunity(org, raw_opportunity)
    for i, channel in enumerate(form.get("contact_channels") or [], start=1):
        form[f"contact_channel_{i}"] = channel
    return page(
        request,
        "recruitment/interest_form.html",
        {
            "org": org,
            "opportunity": opportunity,
            "form": form,
            "stamp": interests.form_stamp(sent=form.get(rules.STAMP_FIELD)),
            "honeypot": rules.HONEYPOT_FIELD,
            "stamp_field": rules.STAMP_FIELD,
        }
        | _labels(),
        status_code=422 if errors else 200,
        errors=errors,
    )


async def thanks(request: Request) -> Response:
    try:
        org = await _organisation(request)
    except NotFound:
        return page(request, "errors/404.html", status_code=404)
    token = request.query_params.get("about_you", "")
    if token:
        try:
            await interests.by_equality_token(org, token)
        except NotFound:
            token = ""  # used already, or too old: the thanks stand without the questions
    return page(request, "recruitment/interest_thanks.html", {"org": org, "token": token})


@public_form
async def about_you(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        org = await _organisation(request)
        await interests.by_equality_token(org, token)
    except NotFound:
        return page(request, "recruitment/interest_link_used.html", status_code=404)
    errors = None
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            await interests.answer_equality(org, token, form)
            return redirect(f"/join/{org.slug}/interest/thanks?answered=1")
        except ValidationFailed as exc:
            errors = exc
        except NotFound:
            return page(request, "recruitment/interest_link_used.html", status_code=404)
    return page(
        request,
        "recruitment/interest_about_you.html",
        {"org": org, "form": form, "questions": QUESTIONS},
        status_code=422 if errors else 200,
        errors=errors,
    )


# ---------------------------------------------------------------------------- the pipeline


@signed_in(Role.INVOLVEMENT_LEAD)
async def pipeline(request: Request, actor: Actor) -> Response:
    return page(
        request,
        "recruitment/interest_pipeline.html",
        {"pipeline": await interests.pipeline(actor), "done": request.query_params.get("done")}
        | _labels(),
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def new(request: Request, actor: Actor) -> Response:
    opportunities = await Opportunity.filter(organisation_id=actor.organisation_id).order_by(
        "title", "id"
    )
    form: dict[str, Any] = {"opportunity_id": request.query_params.get("opportunity", "")}
    errors = None
    if request.method == "POST":
        form = contact_input(await request.form())
        try:
            interest = await interests.record(actor, form)
            return redirect(f"/interests/{interest.id}?done=recorded")
        except ValidationFailed as exc:
            errors = exc
        for i, channel in enumerate(form.get("contact_channels") or [], start=1):
            form[f"contact_channel_{i}"] = channel
    return page(
        request,
        "recruitment/interest_new.html",
        {
            "form": form,
            "opportunities": opportunities,
            "lead_sources": interests.LEAD_SOURCES,
        }
        | _labels(),
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def details(request: Request, actor: Actor) -> Response:
    interest = await interests.interest_for(actor, request.path_params["id"])
    form: dict[str, Any] = {
        k: getattr(interest, k) or ""
        for k in ("full_name", "email", "phone", "mobile", "postal_address", "best_time", "message")
    }
    form["contact_channels"] = list(interest.contact_channels or [])
    form["representative_type"] = getattr(interest.representative_type, "value", "")
    errors = None
    if request.method == "GET" and interest.status == InterestStatus.READY:
        return await _detail(
            request,
            actor,
            interest,
            errors=as_page_errors(Conflict(interests.NOW_A_REPRESENTATIVE)),
            status_code=409,
        )
    if request.method == "POST":
        form = contact_input(await request.form())
        try:
            await interests.change_details(actor, interest, form)
            return redirect(f"/interests/{interest.id}?done=details")
        except ValidationFailed as exc:
            errors = exc
        except Conflict as exc:
            return await _detail(
                request, actor, interest, errors=as_page_errors(exc), status_code=409
            )
    for i, channel in enumerate(form.get("contact_channels") or [], start=1):
        form[f"contact_channel_{i}"] = channel
    return page(
        request,
        "recruitment/interest_details.html",
        {"interest": interest, "form": form} | _labels(),
        status_code=422 if errors else 200,
        errors=errors,
    )


async def _detail(
    request: Request,
    actor: Actor,
    interest: Interest,
    *,
    errors: ValidationFailed | None = None,
    status_code: int = 200,
) -> Response:
    messages = await interests.messages_about(interest)
    sent = {m.dedupe_key.rsplit(":", 1)[-1] for m in messages if m.dedupe_key}
    # After a step that tells the person, say so when nothing could be sent: the lead phones.
    phone_them = {
        step: contact.route(interest, KINDS[kind]).why_not
        for step, kind in (
            ("welcome", "welcome_session"),
            ("closed", "interest_closed"),
            ("received", "interest_received"),
        )
        if step not in sent
    }
    return page(
        request,
        "recruitment/interest_detail.html",
        {
            "interest": interest,
            "messages": messages,
            "phone_them": phone_them,
            "has_equality": await interests.equality_of(interest) is not None,
            "can": {
                action: interest_steps.refusal(interest, action) is None
                for action in ("chat", "welcome", "ready", "close")
            },
            "done": request.query_params.get("done"),
        }
        | _labels(),
        status_code=status_code,
        errors=errors,
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def detail(request: Request, actor: Actor) -> Response:
    return await _detail(
        request, actor, await interests.interest_for(actor, request.path_params["id"])
    )


StepForm = Callable[[Request, Actor, Interest, dict[str, Any]], Awaitable[dict[str, Any]]]


def step(
    template: str,
    action: str,
    run: Callable[[Actor, Interest, dict[str, Any]], Awaitable[Any]],
    *,
    context: StepForm,
    read: Callable[[Any], dict[str, Any]] = form_values,
) -> Callable[[Request], Awaitable[Response]]:
    """A step's page: its form on GET, the step on POST. A step that does not follow from
    where the interest is gets a 409 with the reason, on the person's page."""

    @signed_in(Role.INVOLVEMENT_LEAD)
    async def handler(request: Request, actor: Actor) -> Response:
        interest = await interests.interest_for(actor, request.path_params["id"])
        errors = None
        form: dict[str, Any] = {}
        if request.method == "POST":
            form = read(await request.form())
            try:
                await run(actor, interest, form)
                return redirect(f"/interests/{interest.id}?done={action}")
            except Conflict as exc:
                return await _detail(
                    request, actor, interest, errors=as_page_errors(exc), status_code=409
                )
            except ValidationFailed as exc:
                errors = exc
        elif (reason := interest_steps.refusal(interest, action)) is not None:
            return await _detail(
                request,
                actor,
                interest,
                errors=as_page_errors(Conflict(reason)),
                status_code=409,
            )
        return page(
            request,
            template,
            {"interest": interest, **await context(request, actor, interest, form)} | _labels(),
            status_code=422 if errors else 200,
            errors=errors,
        )

    return handler


async def _chat_context(
    request: Request, actor: Actor, interest: Interest, form: dict[str, Any]
) -> dict[str, Any]:
    if not form:
        form = {
            "representative_type": interest.representative_type.value
            if interest.representative_type
            else "",
        }
    return {
        "form": form,
        "outreach": await Outreach.filter(organisation_id=actor.organisation_id).order_by(
            "-held_on", "-id"
        ),
    }


def _chat_input(form: Any) -> dict[str, Any]:
    data = profile_input(form)
    for flag in ("consent_contact", "consent_equality"):
        data[flag] = flag in form
    return data


async def _plain_context(
    request: Request, actor: Actor, interest: Interest, form: dict[str, Any]
) -> dict[str, Any]:
    return {"form": form}


async def _ready_context(
    request: Request, actor: Actor, interest: Interest, form: dict[str, Any]
) -> dict[str, Any]:
    if not form:
        form = interest_steps.contract_defaults(interest) | date_parts("starts_on", clock.today())
    return {
        "form": form,
        "existing": await interest_steps.existing_representative(interest),
        "has_equality": await interests.equality_of(interest) is not None,
    }


# Each step through a function of this module, so that the API parity check sees which service
# the page calls.
async def _chat(actor: Actor, interest: Interest, form: dict[str, Any]) -> Any:
    return await interest_steps.chat(actor, interest, form)


async def _welcome(actor: Actor, interest: Interest, form: dict[str, Any]) -> Any:
    return await interest_steps.welcome(actor, interest, form)


async def _ready(actor: Actor, interest: Interest, form: dict[str, Any]) -> Any:
    return await interest_steps.ready(actor, interest, form)


async def _close(actor: Actor, interest: Interest, form: dict[str, Any]) -> Any:
    return await interest_steps.close(actor, interest, form)


chat = step(
    "recruitment/interest_chat.html", "chat", _chat, context=_chat_context, read=_chat_input
)
welcome = step("recruitment/interest_welcome.html", "welcome", _welcome, context=_plain_context)
ready = step("recruitment/interest_ready.html", "ready", _ready, context=_ready_context)
close = step("recruitment/interest_close.html", "close", _close, context=_plain_context)


@signed_in(Role.INVOLVEMENT_LEAD)
async def equality(request: Request, actor: Actor) -> Response:
    interest = await interests.interest_for(actor, request.path_params["id"])
    errors = None
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            await interests.record_equality(actor, interest, form)
            return redirect(f"/interests/{interest.id}?done=equality")
        except ValidationFailed as exc:
            errors = exc
    return page(
        request,
        "recruitment/interest_equality.html",
        {"interest": interest, "form": form, "questions": QUESTIONS},
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def release(request: Request, actor: Actor) -> Response:
    interest = await interests.interest_for(actor, request.path_params["id"])
    try:
        await interests.release(actor, interest)
    except Conflict as exc:
        return await _detail(request, actor, interest, errors=as_page_errors(exc), status_code=409)
    return redirect(f"/interests/{interest.id}?done=released")


@signed_in(Role.INVOLVEMENT_LEAD)
async def delete(request: Request, actor: Actor) -> Response:
    interest = await interests.interest_for(actor, request.path_params["id"])
    try:
        await interests.delete(actor, interest)
    except Conflict as exc:
        return await _detail(request, actor, interest, errors=as_page_errors(exc), status_code=409)
    return redirect("/interests?done=deleted")


routes = [
    Route("/join/{org_slug}/interest", express, methods=["GET", "POST"]),
    Route("/join/{org_slug}/interest/thanks", thanks, methods=["GET"]),
    Route("/join/{org_slug}/interest/{token}/about-you", about_you, methods=["GET", "POST"]),
    Route("/interests", pipeline, methods=["GET"]),
    Route("/interests/new", new, methods=["GET", "POST"]),
    Route("/interests/{id:int}", detail, methods=["GET"]),
    Route("/interests/{id:int}/details", details, methods=["GET", "POST"]),
    Route("/interests/{id:int}/chat", chat, methods=["GET", "POST"]),
    Route("/interests/{id:int}/welcome", welcome, methods=["GET", "POST"]),
    Route("/interests/{id:int}/ready", ready, methods=["GET", "POST"]),
    Route("/interests/{id:int}/close", close, methods=["GET", "POST"]),
    Route("/interests/{id:int}/equality", equality, methods=["GET", "POST"]),
    Route("/interests/{id:int}/release", release, methods=["POST"]),
    Route("/interests/{id:int}/delete", delete, methods=["POST"]),
]
