"""Representatives' records: leads' pages under /representatives, and each person's own under
/my. Both sets use the same handlers; only how the record is found differs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod import clock
from coprod.domain.equality import QUESTIONS
from coprod.errors import NotFound
from coprod.models import (
    ConsentPurpose,
    ContactChannel,
    Contract,
    Format,
    Membership,
    Mode,
    PaymentPreference,
    Representative,
    RepresentativeType,
    Role,
    Team,
    User,
)
from coprod.services import access, contracts, decisions, representatives, wellbeing
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed, record_id
from coprod.web.guards import form_values, signed_in
from coprod.web.pages import messages as message_pages
from coprod.web.pages.paged import paged
from coprod.web.render import page, redirect

MULTI_FIELDS = ("formats", "preferred_modes", "unavailable", "team_ids")
LABELS: dict[str, dict[str, str]] = {
    "type": {"patient": "Patient", "carer": "Carer", "both": "Patient and carer"},
    "channel": {"email": "Email", "phone": "Phone call", "text": "Text message", "post": "Post"},
    # As the ways read in a sentence, in the person's order: "Text message first, then email".
    "channel_in_order": {
        "email": "email",
        "phone": "a phone call",
        "text": "text message",
        "post": "post",
    },
    "format": {
        "braille": "Braille",
        "audio": "Audio",
        "easy_read": "Easy read",
        "large_print": "Large print",
        "translated": "Translated papers",
        "interpreter": "Interpreter",
        "bsl": "British Sign Language (BSL) interpreter",
    },
    "mode": {"in_person": "In person", "video": "Video call", "phone": "Phone call"},
    # Read by the person on their own profile as well as by their lead, so neither "you" nor
    # "they".
    "payment": {
        "paid": "Paid for time taking part",
        "decline": "Expenses only, no payment for time",
    },
    "part": {"morning": "Morning", "afternoon": "Afternoon", "evening": "Evening"},
    "need": {"transport": "Transport or pick-up", "tech_test": "Tech test before video calls"},
}


def profile_input(form: FormData) -> dict[str, Any]:
    data: dict[str, Any] = {k: v for k, v in form_values(form).items() if k not in MULTI_FIELDS}
    for key in MULTI_FIELDS:
        data[key] = [str(v) for v in form.getlist(key)]
    data["contact_channels"] = [
        str(form.get(f"contact_channel_{i}"))
        for i in range(1, 5)
        if form.get(f"contact_channel_{i}")
    ]
    for flag in ("needs_transport", "wants_tech_test"):
        data[flag] = flag in form
    return data


def profile_form_values(rep: Representative, team_ids: list[int]) -> dict[str, Any]:
    values: dict[str, Any] = {
        f: getattr(rep, f) for f in representatives.PROFILE_FIELDS - {"team_ids", "lead_id"}
    }
    values["team_ids"] = [str(t) for t in team_ids]
    values["lead_id"] = str(rep.lead_id or "")
    for i, channel in enumerate(rep.contact_channels or [], start=1):
        values[f"contact_channel_{i}"] = channel
    return values | date_parts("break_until", rep.break_until)


def date_parts(name: str, day: dt.date | None) -> dict[str, Any]:
    """Fill the three boxes of an NHS date input."""
    if day is None:
        return {}
    return {f"{name}[day]": day.day, f"{name}[month]": day.month, f"{name}[year]": day.year}


async def form_choices(organisation_id: int) -> dict[str, Any]:
    lead_ids = await Membership.filter(
        organisation_id=organisation_id, role=Role.INVOLVEMENT_LEAD
    ).values_list("user_id", flat=True)
    return {
        "teams": await Team.filter(organisation_id=organisation_id),
        "leads": await User.filter(id__in=list(lead_ids)),
        "types": [t.value for t in RepresentativeType],
        "channels": [c.value for c in ContactChannel],
        "formats": [f.value for f in Format],
        "modes": [m.value for m in Mode],
        "payments": [p.value for p in PaymentPreference],
        "days": representatives.DAY_NAMES,
        "parts": representatives.PARTS,
        "labels": LABELS,
    }


# ---------------------------------------------------------------------------- leads


@signed_in(Role.INVOLVEMENT_LEAD)
async def list_representatives(request: Request, actor: Actor) -> Response:
    q = request.query_params
    team = q.get("team", "")
    filters = representatives.Filters(
        q=q.get("q", "").strip(),
        mode=q.get("mode", ""),
        need=q.get("need", ""),
        rep_type=q.get("type", ""),
        team_id=record_id(team),
        contract=q.get("contract", ""),
        on_break=q.get("on_break", ""),
        archived=q.get("archived") == "yes",
    )
    query = await representatives.search_query(actor, filters)
    found = await paged(request, query)
    return page(
        request,
        "representatives/list.html",
        {
            "found": found,
            "total": await query.count(),
            "results": representatives.with_contract_states(found.rows),
            "filters": filters,
            "today": clock.today(),
            "added": q.get("added"),
            "need_labels": LABELS["format"] | LABELS["need"],
            **await form_choices(actor.organisation_id or 0),
        },
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def new_representative(request: Request, actor: Actor) -> Response:
    form_data: dict[str, Any] = {"payment_preference": "paid", "contact_channel_1": "email"}
    errors = None
    if request.method == "POST":
        form_data = profile_input(await request.form())
        try:
            rep = await representatives.create(actor, form_data)
            return redirect(f"/representatives/{rep.id}?added=1")
        except ValidationFailed as exc:
            errors = exc
            form_data = {**form_values(await request.form()), **form_data}
    return page(
        request,
        "representatives/form.html",
        {
            "form": form_data,
            "creating": True,
            "self_view": False,
            **await form_choices(actor.organisation_id or 0),
        },
        status_code=422 if errors else 200,
        errors=errors,
    )


async def _detail(request: Request, actor: Actor, rep: Representative, base: str) -> Response:
    rep_contracts = await Contract.filter(representative=rep).prefetch_related("catch_ups")
    today = clock.today()
    rows = []
    for contract in rep_contracts:
        due, state = await contracts.next_catch_up(contract, today)
        rows.append(
            {
                "contract": contract,
                "status": contracts.contract_status(contract, today),
                "next_due": due,
                "due_state": state,
            }
        )
    consents = {p.value: await wellbeing.current_consent(rep, p) for p in ConsentPurpose}
    self_view = access.is_self(actor, rep)
    return page(
        request,
        "representatives/detail.html",
        {
            "rep": rep,
            "base": base,
            "self_view": self_view,
            # What was sent to them is for their lead: a person sees their own record only.
            "recent_messages": None if self_view else await message_pages.recent(actor, rep),
            "teams": await rep.lived_experience_teams.all(),
            "lead": await User.get_or_none(id=rep.lead_id) if rep.lead_id else None,
            "contract_rows": rows,
            "consents": consents,
            "purposes": list(ConsentPurpose),
            "today": today,
            "labels": LABELS,
            "days": representatives.DAY_NAMES,
            "flash": request.query_params.get("done") or request.query_params.get("added"),
        },
    )


async def _edit(request: Request, actor: Actor, rep: Representative, base: str) -> Response:
    errors = None
    form_data = profile_form_values(rep, [t.id for t in await rep.lived_experience_teams.all()])
    if request.method == "POST":
        submitted = profile_input(await request.form())
        try:
            await representatives.update(actor, rep, submitted, partial=False)
            return redirect(f"{base}?done=saved")
        except ValidationFailed as exc:
            errors = exc
            form_data = {**form_values(await request.form()), **submitted}
    return page(
        request,
        "representatives/form.html",
        {
            "form": form_data,
            "creating": False,
            "rep": rep,
            "base": base,
            "self_view": not access.is_lead(actor),
            **await form_choices(rep.organisation_id),
        },
        status_code=422 if errors else 200,
        errors=errors,
    )


async def _break(request: Request, actor: Actor, rep: Representative, base: str) -> Response:
    errors = None
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            await representatives.set_break(actor, rep, "" if form.get("action") == "end" else form)
            return redirect(f"{base}?done=break")
        except ValidationFailed as exc:
            errors = exc
    return page(
        request,
        "representatives/break.html",
        {"rep": rep, "base": base, "today": clock.today()},
        status_code=422 if errors else 200,
        errors=errors,
    )


async def _consents(request: Request, actor: Actor, rep: Representative, base: str) -> Response:
    form = form_values(await request.form())
    try:
        if form.get("action") == "withdraw":
            await wellbeing.withdraw_consent(actor, rep, str(form.get("purpose", "")))
        else:
            await wellbeing.give_consent(actor, rep, form)
    except ValidationFailed as exc:
        return page(
            request,
            "representatives/problem.html",
            {"base": base, "rep": rep},
            status_code=422,
            errors=exc,
        )
    return redirect(f"{base}?done=consent")


async def _health(request: Request, actor: Actor, rep: Representative, base: str) -> Response:
    errors = None
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            await wellbeing.record_episode(actor, rep, form)
            return redirect(f"{base}/health?done=1")
        except ValidationFailed as exc:
            errors = exc
    return page(
        request,
        "representatives/health.html",
        {
            "rep": rep,
            "base": base,
            "self_view": access.is_self(actor, rep),
            "episodes": await wellbeing.episodes(actor, rep),
            "consented": await wellbeing.has_consent(rep, ConsentPurpose.HEALTH),
            "form": form,
            "done": request.query_params.get("done"),
        },
        status_code=422 if errors else 200,
        errors=errors,
    )


async def _health_edit(request: Request, actor: Actor, rep: Representative, base: str) -> Response:
    episode_id = int(request.path_params["episode_id"])
    errors = None
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            if form.get("action") == "delete":
                await wellbeing.delete_episode(actor, rep, episode_id)
            else:
                await wellbeing.update_episode(actor, rep, episode_id, form)
            return redirect(f"{base}/health?done=1")
        except ValidationFailed as exc:
            errors = exc
    episode = await wellbeing.view_episode(actor, rep, episode_id)
    values: dict[str, Any] = {
        "under_crisis_team": "yes" if episode.under_crisis_team else "no",
        "note": episode.note,
    }
    for name in ("started_on", "ended_on"):
        day = getattr(episode, name)
        if day:
            values |= date_parts(name, day)
    return page(
        request,
        "representatives/health_edit.html",
        {"rep": rep, "base": base, "episode": episode, "form": values},
        status_code=422 if errors else 200,
        errors=errors,
    )


async def _equality(request: Request, actor: Actor, rep: Representative, base: str) -> Response:
    errors = None
    self_view = access.is_self(actor, rep)
    answers = await wellbeing.own_equality(actor, rep) if self_view else None
    form: dict[str, Any] = (
        {q.key: getattr(answers, q.key) or "" for q in QUESTIONS} if answers else {}
    )
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            await wellbeing.save_equality(actor, rep, form)
            return redirect(f"{base}?done=equality")
        except ValidationFailed as exc:
            errors = exc
    return page(
        request,
        "representatives/equality.html",
        {
            "rep": rep,
            "base": base,
            "self_view": self_view,
            "questions": QUESTIONS,
            "form": form,
            "consented": await wellbeing.has_consent(rep, ConsentPurpose.EQUALITY),
        },
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def archive_representative(request: Request, actor: Actor) -> Response:
    rep = await access.representative_for(actor, request.path_params["id"])
    await representatives.archive(actor, rep)
    return redirect("/representatives?archived_one=1")


RepHandler = Callable[[Request, Actor, Representative, str], Awaitable[Response]]


def for_lead(handler: RepHandler) -> Callable[[Request], Awaitable[Response]]:
    @signed_in(Role.INVOLVEMENT_LEAD)
    async def endpoint(request: Request, actor: Actor) -> Response:
        rep = await access.representative_for(actor, request.path_params["id"])
        return await handler(request, actor, rep, f"/representatives/{rep.id}")

    endpoint.__name__ = f"lead_{handler.__name__.strip('_')}"
    return endpoint


def for_self(handler: RepHandler) -> Callable[[Request], Awaitable[Response]]:
    @signed_in(Role.REPRESENTATIVE)
    async def endpoint(request: Request, actor: Actor) -> Response:
        return await handler(request, actor, await access.own_representative(actor), "/my/profile")

    endpoint.__name__ = f"self_{handler.__name__.strip('_')}"
    return endpoint


# ---------------------------------------------------------------------------- contracts


async def _contract_form(
    request: Request,
    actor: Actor,
    template: str,
    context: dict[str, Any],
    action: Callable[[dict[str, Any]], Awaitable[Any]],
    done: str,
) -> Response:
    errors = None
    form: dict[str, Any] = context.pop("form", {})
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            await action(form)
            return redirect(done)
        except ValidationFailed as exc:
            errors = exc
    return page(
        request,
        template,
        {**context, "form": form, "role_titles": contracts.ROLE_TITLES},
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def new_contract(request: Request, actor: Actor) -> Response:
    rep = await access.representative_for(actor, request.path_params["id"], include_archived=False)
    return await _contract_form(
        request,
        actor,
        "contracts/new.html",
        {
            "rep": rep,
            "form": date_parts("starts_on", clock.today()),
            "years": contracts.get_settings().contract_default_years,
        },
        lambda form: contracts.create(actor, rep, form),
        f"/representatives/{rep.id}?done=contract",
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def renew_contract(request: Request, actor: Actor) -> Response:
    contract = await access.contract_for(actor, request.path_params["id"])
    rep = await contract.representative
    return await _contract_form(
        request,
        actor,
        "contracts/renew.html",
        {
            "rep": rep,
            "contract": contract,
            "starts_on": contracts.rules.renewal_start(contracts.term(contract)),
            "form": {"role_title": contract.role_title},
            "years": contracts.get_settings().contract_default_years,
        },
        lambda form: contracts.renew(actor, contract, form),
        f"/representatives/{rep.id}?done=renewed",
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def end_contract(request: Request, actor: Actor) -> Response:
    """Ending early lists the person's bookings after the last day, for the lead to cancel or
    keep each one; until they have decided, nothing is saved."""
    contract = await access.contract_for(actor, request.path_params["id"])
    rep = await contract.representative
    form: dict[str, Any] = {}
    errors = None
    status_code = 200
    at_risk = await contracts.later_bookings(contract, clock.today())
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            await contracts.end_early(actor, contract, form)
            return redirect(f"/representatives/{rep.id}?done=ended")
        except decisions.DecisionsNeeded as exc:
            at_risk = exc.at_risk
            errors = None if exc.undecided else ValidationFailed(exc.errors)
            status_code = 409 if exc.undecided else 422
        except ValidationFailed as exc:
            errors, status_code = exc, 422
    return page(
        request,
        "contracts/end.html",
        {"rep": rep, "contract": contract, "form": form, "at_risk": at_risk},
        status_code=status_code,
        errors=errors,
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def record_catch_up(request: Request, actor: Actor) -> Response:
    contract = await access.contract_for(actor, request.path_params["id"])
    rep = await contract.representative
    return await _contract_form(
        request,
        actor,
        "contracts/catch_up.html",
        {"rep": rep, "contract": contract},
        lambda form: contracts.record_catch_up(actor, contract, form),
        f"/representatives/{rep.id}?done=catch_up",
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def catch_ups(request: Request, actor: Actor) -> Response:
    return page(
        request, "representatives/catch_ups.html", {"rows": await contracts.catch_ups_due(actor)}
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def consents_for_review(request: Request, actor: Actor) -> Response:
    return page(
        request,
        "representatives/consent_review.html",
        {
            "consents": await paged(request, wellbeing.consents_due_query(actor)),
            "today": clock.today(),
        },
    )


@signed_in(Role.REPRESENTATIVE)
async def my_profile(request: Request, actor: Actor) -> Response:
    try:
        rep = await access.own_representative(actor)
    except NotFound:
        return page(request, "representatives/no_record.html")
    return await _detail(request, actor, rep, "/my/profile")


routes = [
    Route("/representatives", list_representatives, methods=["GET"]),
    Route("/representatives/new", new_representative, methods=["GET", "POST"]),
    Route("/representatives/{id:int}", for_lead(_detail), methods=["GET"]),
    Route("/representatives/{id:int}/edit", for_lead(_edit), methods=["GET", "POST"]),
    Route("/representatives/{id:int}/break", for_lead(_break), methods=["GET", "POST"]),
    Route("/representatives/{id:int}/consents", for_lead(_consents), methods=["POST"]),
    Route("/representatives/{id:int}/health", for_lead(_health), methods=["GET", "POST"]),
    Route(
        "/representatives/{id:int}/health/{episode_id:int}",
        for_lead(_health_edit),
        methods=["GET", "POST"],
    ),
    Route("/representatives/{id:int}/equality", for_lead(_equality), methods=["GET", "POST"]),
    Route("/representatives/{id:int}/archive", archive_representative, methods=["POST"]),
    Route("/representatives/{id:int}/contracts/new", new_contract, methods=["GET", "POST"]),
    Route("/contracts/{id:int}/renew", renew_contract, methods=["GET", "POST"]),
    Route("/contracts/{id:int}/end", end_contract, methods=["GET", "POST"]),
    Route("/contracts/{id:int}/catch-ups", record_catch_up, methods=["GET", "POST"]),
    Route("/catch-ups", catch_ups, methods=["GET"]),
    Route("/consents/review", consents_for_review, methods=["GET"]),
    Route("/my/profile", my_profile, methods=["GET"]),
    Route("/my/profile/edit", for_self(_edit), methods=["GET", "POST"]),
    Route("/my/profile/break", for_self(_break), methods=["GET", "POST"]),
    Route("/my/profile/consents", for_self(_consents), methods=["POST"]),
    Route("/my/profile/health", for_self(_health), methods=["GET", "POST"]),
    Route("/my/profile/health/{episode_id:int}", for_self(_health_edit), methods=["GET", "POST"]),
    Route("/my/profile/equality", for_self(_equality), methods=["GET", "POST"]),
]
