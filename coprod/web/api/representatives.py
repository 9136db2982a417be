"""API operations for representatives' records and their contracts.

Handlers only translate between JSON and the services: every rule lives in
coprod.services.representatives and coprod.services.contracts. Health data and equality answers
are never part of these replies.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from coprod.domain import consent as consent_rules
from coprod.domain.contracts import ContractStatus
from coprod.domain.scheduling import london_date
from coprod.models import (
    Consent,
    ConsentPurpose,
    ContactChannel,
    Contract,
    Format,
    Mode,
    PaymentPreference,
    Representative,
    RepresentativeType,
    Role,
)
from coprod.services import access, contracts, representatives, wellbeing
from coprod.services.actor import Actor
from coprod.services.decisions import DecisionsNeeded
from coprod.services.representatives import NEED_FILTERS, UNAVAILABLE_SLOTS, Filters
from coprod.validation import Checker
from coprod.web.api.core import DECISIONS, INT, STR, decisions_needed, iso, list_of, obj
from coprod.web.api.registry import api

TAG = "representatives"
BOOL = {"type": "boolean"}
NULL_STR = {"type": ["string", "null"]}
NULL_INT = {"type": ["integer", "null"]}
DATE = {"type": "string", "format": "date"}
NULL_DATE = {"type": ["string", "null"], "format": "date"}
CONTRACT_STATUSES = [s.value for s in ContractStatus]
NULL_STATUS = {"enum": [*CONTRACT_STATUSES, None]}


def enum_list(values: list[str]) -> dict[str, Any]:
    return {"type": "array", "items": {"enum": values}}


def _required(schema: dict[str, Any], *names: str) -> dict[str, Any]:
    return {**schema, "required": list(names)}


# ---------------------------------------------------------------------------- schemas

PROFILE_INPUT = obj(
    full_name=STR,
    representative_type={"enum": [t.value for t in RepresentativeType]},
    email=NULL_STR,
    phone=NULL_STR,
    mobile=NULL_STR,
    postal_address=NULL_STR,
    contact_channels=enum_list([c.value for c in ContactChannel]),
    team_ids={"type": "array", "items": INT},
    formats=enum_list([f.value for f in Format]),
    translated_language=NULL_STR,
    interpreter_language=NULL_STR,
    needs_transport=BOOL,
    wants_tech_test=BOOL,
    other_needs=NULL_STR,
    preferred_modes=enum_list([m.value for m in Mode]),
    unavailable=enum_list(list(UNAVAILABLE_SLOTS)),
    unavailable_note=NULL_STR,
    payment_preference={"enum": [p.value for p in PaymentPreference]},
    break_until=NULL_DATE,
    lead_id=NULL_INT,
)
CREATE_INPUT = _required(
    PROFILE_INPUT, "full_name", "representative_type", "contact_channels", "payment_preference"
)
PROFILE = obj(
    **PROFILE_INPUT["properties"],
    id=INT,
    on_break=BOOL,
    archived=BOOL,
    phone_only=BOOL,
    contract_status=NULL_STATUS,
)
SUMMARY = obj(
    id=INT,
    full_name=STR,
    representative_type=STR,
    email=NULL_STR,
    phone=NULL_STR,
    mobile=NULL_STR,
    formats=PROFILE_INPUT["properties"]["formats"],
    preferred_modes=PROFILE_INPUT["properties"]["preferred_modes"],
    break_until=NULL_DATE,
    on_break=BOOL,
    archived=BOOL,
    phone_only=BOOL,
    contract_status=NULL_STATUS,
)
CONTRACT = obj(
    id=INT,
    representative_id=INT,
    role_title=STR,
    starts_on=DATE,
    ends_on=DATE,
    ended_on=NULL_DATE,
    end_reason=NULL_STR,
    predecessor_id=NULL_INT,
    status={"enum": CONTRACT_STATUSES},
)
CONTRACT_INPUT = _required(
    obj(role_title=STR, starts_on=DATE, ends_on=NULL_DATE), "role_title", "starts_on"
)
RENEW_INPUT = obj(role_title=STR, ends_on=NULL_DATE)
END_INPUT = _required(obj(ended_on=NULL_DATE, reason=STR, decisions=DECISIONS), "reason")

ON_BREAK_CHOICES = ["yes", "no"]
CONTRACT_FILTERS = [*CONTRACT_STATUSES, "none"]
LIST_QUERY: list[dict[str, Any]] = [
    {"name": "q", "in": "query", "schema": STR, "description": "Part of a name or email"},
    {"name": "mode", "in": "query", "schema": {"enum": [m.value for m in Mode]}},
    {"name": "need", "in": "query", "schema": {"enum": sorted(NEED_FILTERS)}},
    {"name": "type", "in": "query", "schema": {"enum": [t.value for t in RepresentativeType]}},
    {"name": "team", "in": "query", "schema": INT, "description": "A team's id"},
    {"name": "contract", "in": "query", "schema": {"enum": CONTRACT_FILTERS}},
    {"name": "on_break", "in": "query", "schema": {"enum": ON_BREAK_CHOICES}},
    {
        "name": "archived",
        "in": "query",
        "schema": BOOL,
        "description": "true lists archived records instead of current ones",
    },
]


# ---------------------------------------------------------------------------- serialising


def _status(state: ContractStatus | None) -> str | None:
    return state.value if state is not None else None


def _summary(rep: Representative, state: ContractStatus | None) -> dict[str, Any]:
    return {
        "id": rep.id,
        "full_name": rep.full_name,
        "representative_type": rep.representative_type.value,
        "email": rep.email,
        "phone": rep.phone,
        "mobile": rep.mobile,
        "formats": list(rep.formats or []),
        "preferred_modes": list(rep.preferred_modes or []),
        "break_until": iso(rep.break_until),
        "on_break": rep.on_break(representatives.today()),
        "archived": rep.archived_at is not None,
        "phone_only": rep.phone_only,
        "contract_status": _status(state),
    }


async def _profile(rep: Representative) -> dict[str, Any]:
    """The profile as the representative and their leads see it; no health or equality data."""
    team_ids = sorted(t.id for t in await rep.lived_experience_teams.all())
    state = representatives.contract_state(
        list(await Contract.filter(representative_id=rep.id)), representatives.today()
    )
    return {
        "id": rep.id,
        "full_name": rep.full_name,
        "representative_type": rep.representative_type.value,
        "email": rep.email,
        "phone": rep.phone,
        "mobile": rep.mobile,
        "postal_address": rep.postal_address,
        "contact_channels": list(rep.contact_channels or []),
        "team_ids": team_ids,
        "formats": list(rep.formats or []),
        "translated_language": rep.translated_language,
        "interpreter_language": rep.interpreter_language,
        "needs_transport": rep.needs_transport,
        "wants_tech_test": rep.wants_tech_test,
        "other_needs": rep.other_needs,
        "preferred_modes": list(rep.preferred_modes or []),
        "unavailable": list(rep.unavailable or []),
        "unavailable_note": rep.unavailable_note,
        "payment_preference": rep.payment_preference.value,
        "break_until": iso(rep.break_until),
        "on_break": rep.on_break(representatives.today()),
        "lead_id": rep.lead_id,
        "archived": rep.archived_at is not None,
        "phone_only": rep.phone_only,
        "contract_status": _status(state),
    }


def _contract(contract: Contract) -> dict[str, Any]:
    return {
        "id": contract.id,
        "representative_id": contract.representative_id,
        "role_title": contract.role_title,
        "starts_on": iso(contract.starts_on),
        "ends_on": iso(contract.ends_on),
        "ended_on": iso(contract.ended_on),
        "end_reason": contract.end_reason,
        "predecessor_id": contract.predecessor_id,
        "status": contracts.contract_status(contract).value,
    }


def _filters(request: Request) -> Filters:
    params = request.query_params
    checker = Checker(params)

    def pick(name: str, label: str, options: list[str]) -> str:
        return checker.choice(name, label, options) if params.get(name) else ""

    mode = pick("mode", "a way of joining", [m.value for m in Mode])
    need = pick("need", "a need", sorted(NEED_FILTERS))
    rep_type = pick("type", "patient, carer or both", [t.value for t in RepresentativeType])
    contract = pick("contract", "a contract status", CONTRACT_FILTERS)
    on_break = pick("on_break", "yes or no", ON_BREAK_CHOICES)
    team_id = checker.integer("team", "the team", minimum=1) if params.get("team") else None
    checker.done()
    return Filters(
        q=params.get("q", "").strip(),
        mode=mode,
        need=need,
        rep_type=rep_type,
        team_id=team_id,
        contract=contract,
        on_break=on_break,
        archived=params.get("archived", "").strip().lower() in {"1", "true", "yes"},
    )


# ---------------------------------------------------------------------------- representatives


@api.operation(
    "GET",
    "/representatives",
    summary="Find representatives in your organisation, with their contract status",
    tag=TAG,
    roles=(Role.INVOLVEMENT_LEAD,),
    response=list_of(SUMMARY),
    query=LIST_QUERY,
)
async def list_representatives(request: Request, actor: Actor) -> dict[str, Any]:
    found = await representatives.search(actor, _filters(request))
    return {"items": [_summary(rep, state) for rep, state in found]}


@api.operation(
    "POST",
    "/representatives",
    summary="Add a representative; one with an email address gets an account to sign in",
    tag=TAG,
    roles=(Role.INVOLVEMENT_LEAD,),
    request=CREATE_INPUT,
    response=PROFILE,
    status=201,
)
async def create_representative(
    request: Request, actor: Actor, body: dict[str, Any]
) -> dict[str, Any]:
    rep = await representatives.create(actor, body)
    return await _profile(rep)


@api.operation(
    "GET",
    "/representatives/{id:int}",
    summary="A representative's profile (leads, or the representative themself)",
    tag=TAG,
    response=PROFILE,
)
async def get_representative(request: Request, actor: Actor, id: int) -> dict[str, Any]:
    return await _profile(await access.representative_for(actor, id))


@api.operation(
    "PATCH",
    "/representatives/{id:int}",
    summary="Change some profile fields; representatives may change their own needs, "
    "preferences, contact details and break",
    tag=TAG,
    request=PROFILE_INPUT,
    response=PROFILE,
)
async def update_representative(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any]:
    rep = await access.representative_for(actor, id)
    await representatives.update(actor, rep, body, partial=True)
    return await _profile(rep)


# ---------------------------------------------------------------------------- contracts


@api.operation(
    "GET",
    "/representatives/{id:int}/contracts",
    summary="A representative's contracts, newest first",
    tag=TAG,
    response=list_of(CONTRACT),
)
async def list_contracts(request: Request, actor: Actor, id: int) -> dict[str, Any]:
    rep = await access.representative_for(actor, id)
    return {"items": [_contract(c) for c in await Contract.filter(representative_id=rep.id)]}


@api.operation(
    "POST",
    "/representatives/{id:int}/contracts",
    summary="Give a representative a contract; without an end date it runs the default term",
    tag=TAG,
    roles=(Role.INVOLVEMENT_LEAD,),
    request=CONTRACT_INPUT,
    response=CONTRACT,
    status=201,
)
async def create_contract(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any]:
    rep = await access.representative_for(actor, id)
    return _contract(await contracts.create(actor, rep, body))


@api.operation(
    "GET",
    "/contracts/{id:int}",
    summary="One contract (leads, or the representative it belongs to)",
    tag=TAG,
    response=CONTRACT,
)
async def get_contract(request: Request, actor: Actor, id: int) -> dict[str, Any]:
    return _contract(await access.contract_for(actor, id))


@api.operation(
    "POST",
    "/contracts/{id:int}/renew",
    summary="Renew a contract: the successor starts the day after this one's last day",
    tag=TAG,
    roles=(Role.INVOLVEMENT_LEAD,),
    request=RENEW_INPUT,
    response=CONTRACT,
    status=201,
)
async def renew_contract(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any]:
    contract = await access.contract_for(actor, id)
    return _contract(await contracts.renew(actor, contract, body))


@api.operation(
    "POST",
    "/contracts/{id:int}/end",
    summary="End a contract early, giving the last day (default today) and the reason. If the "
    "person is booked after the last day, the reply is 409 listing those bookings in "
    "`conflicts` until `decisions` says, for each, to cancel or keep it",
    tag=TAG,
    roles=(Role.INVOLVEMENT_LEAD,),
    request=END_INPUT,
    response=CONTRACT,
)
async def end_contract(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any] | Response:
    contract = await access.contract_for(actor, id)
    try:
        return _contract(await contracts.end_early(actor, contract, body))
    except DecisionsNeeded as exc:
        return decisions_needed(exc)


# ---------------------------------------------------------------------------- consent

PURPOSE = {"enum": [p.value for p in ConsentPurpose]}
CONSENT = obj(
    id=INT,
    purpose=PURPOSE,
    given_on=DATE,
    review_on=DATE,
    withdrawn_on=NULL_DATE,
    in_force={**BOOL, "description": "Given, not withdrawn, and not past its review date today"},
)
CONSENT_INPUT = _required(
    obj(purpose=PURPOSE, given_on={**DATE, "description": "Default today"}), "purpose"
)
WITHDRAW_INPUT = _required(obj(purpose=PURPOSE), "purpose")
WITHDRAWN = obj(
    purpose=PURPOSE,
    episodes_deleted={**INT, "description": "Withdrawing health consent deletes their episodes"},
)


def _consent(c: Consent) -> dict[str, Any]:
    today = london_date(dt.datetime.now(dt.UTC))
    return {
        "id": c.id,
        "purpose": ConsentPurpose(c.purpose).value,
        "given_on": iso(c.given_on),
        "review_on": iso(c.review_on),
        "withdrawn_on": iso(c.withdrawn_on),
        "in_force": consent_rules.in_force(
            consent_rules.Record(c.given_on, c.review_on, c.withdrawn_on), today
        ),
    }


@api.operation(
    "GET",
    "/representatives/{id:int}/consents",
    summary="Every consent recorded for a representative, newest first, withdrawn ones too",
    tag=TAG,
    response=list_of(CONSENT),
)
async def list_consents(request: Request, actor: Actor, id: int) -> dict[str, Any]:
    rep = await access.representative_for(actor, id)
    found = await Consent.filter(representative_id=rep.id).order_by("-given_on", "-id")
    return {"items": [_consent(c) for c in found]}


@api.operation(
    "POST",
    "/representatives/{id:int}/consents",
    summary="Record consent (for contact, it lets us email them about involvement); "
    "it replaces any earlier consent for the same purpose, and has a review date",
    tag=TAG,
    request=CONSENT_INPUT,
    response=CONSENT,
    status=201,
)
async def give_consent(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any]:
    rep = await access.representative_for(actor, id, include_archived=False)
    return _consent(await wellbeing.give_consent(actor, rep, body))


@api.operation(
    "POST",
    "/representatives/{id:int}/consents/withdraw",
    summary="Withdraw consent for a purpose, from today",
    tag=TAG,
    request=WITHDRAW_INPUT,
    response=WITHDRAWN,
)
async def withdraw_consent(
    request: Request, actor: Actor, id: int, body: dict[str, Any]
) -> dict[str, Any]:
    rep = await access.representative_for(actor, id)
    purpose = str(body.get("purpose") or "")
    deleted = await wellbeing.withdraw_consent(actor, rep, purpose)
    return {"purpose": purpose, "episodes_deleted": deleted}
