"""API operations for representatives' records: profiles, finding them, breaks, archiving and
consent. Contracts and catch-ups are in `contracts.py`.

Handlers only translate between JSON and the services: every rule lives in
coprod.services.representatives and coprod.services.wellbeing. Health data and equality answers
are never part of these replies.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, model_validator
from starlette.requests import Request

from coprod import clock
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
from coprod.services import access, representatives, wellbeing
from coprod.services.actor import Actor
from coprod.services.representatives import NEED_FILTERS, UNAVAILABLE_SLOTS, Filters
from coprod.web.api.paging import keyset_page, list_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, Count, Id, NoBody, Page, Paging, Reply, text

TAG = "representatives"

# Literals built from the service's lists, so the schema names exactly the choices it takes.
Slot = Literal[UNAVAILABLE_SLOTS]  # type: ignore[valid-type]
Need = Literal[tuple(sorted(NEED_FILTERS))]  # type: ignore[valid-type]
ContractFilter = Literal[(*(s.value for s in ContractStatus), "none")]  # type: ignore[valid-type]


# ---------------------------------------------------------------------------- profiles


class ProfileChanges(Body):
    """Profile fields, each optional: only those sent are changed. The titles are the labels
    the service's checks use, so the API and the pages say the same thing."""

    full_name: str = text(200, title="their full name", default=None)
    representative_type: RepresentativeType | None = Field(
        None, title="whether they are a patient, a carer or both"
    )
    email: str | None = text(
        254,
        required=False,
        default=None,
        title="an email address",
        description="Gives them an account to sign in by emailed link",
    )
    phone: str | None = text(40, required=False, default=None, title="a phone number")
    mobile: str | None = text(40, required=False, default=None, title="a mobile number")
    postal_address: str | None = text(500, required=False, default=None, title="a postal address")
    contact_channels: list[ContactChannel] | None = Field(
        None,
        max_length=10,
        title="how to contact them",
        description="In the order they prefer; each needs its address (email, phone, mobile "
        "for texts, postal address)",
    )
    team_ids: list[Id] | None = Field(None, max_length=100, title="teams or services")
    formats: list[Format] | None = Field(None, max_length=20, title="the formats they need")
    translated_language: str | None = text(
        100, required=False, default=None, title="the language for translated papers"
    )
    interpreter_language: str | None = text(
        100, required=False, default=None, title="the interpreter's language"
    )
    needs_transport: bool | None = Field(None, title="whether they need transport")
    wants_tech_test: bool | None = Field(
        None, title="whether they want a tech test before video calls"
    )
    other_needs: str | None = text(2000, required=False, default=None, title="other needs")
    preferred_modes: list[Mode] | None = Field(
        None, max_length=10, title="the ways they like to join"
    )
    unavailable: list[Slot] | None = Field(
        None, max_length=50, title="the times they cannot do", description="Like `mon:morning`"
    )
    unavailable_note: str | None = text(
        500, required=False, default=None, title="a note about times"
    )
    payment_preference: PaymentPreference | None = Field(None, title="whether they want to be paid")
    break_until: dt.date | None = Field(None, title="the date their break ends")
    lead_id: Id | None = Field(
        None, title="an involvement lead", description="The lead who looks after them"
    )


class NewRepresentative(ProfileChanges):
    full_name: str = text(200, title="their full name")
    representative_type: RepresentativeType = Field(
        title="whether they are a patient, a carer or both"
    )


class RepresentativeSummary(Reply):
    id: int
    full_name: str
    representative_type: RepresentativeType
    email: str | None
    phone: str | None
    mobile: str | None
    formats: list[Format]
    preferred_modes: list[Mode]
    break_until: dt.date | None
    on_break: bool = Field(description="On a break today: not to be booked or asked")
    archived: bool
    phone_only: bool = Field(description="No account: their lead acts for them")
    contract_status: ContractStatus | None = Field(
        description="Their most relevant contract's status (in force before upcoming before "
        "past); null with no contract"
    )


class Profile(RepresentativeSummary):
    """The profile as the representative and their leads see it; no health or equality data."""

    postal_address: str | None
    contact_channels: list[ContactChannel]
    team_ids: list[int]
    translated_language: str | None
    interpreter_language: str | None
    needs_transport: bool
    wants_tech_test: bool
    other_needs: str | None
    preferred_modes: list[Mode]
    unavailable: list[Slot]
    unavailable_note: str | None
    payment_preference: PaymentPreference
    lead_id: int | None


def _summary_fields(rep: Representative, state: ContractStatus | None) -> dict[str, Any]:
    return {
        "id": rep.id,
        "full_name": rep.full_name,
        "representative_type": rep.representative_type,
        "email": rep.email,
        "phone": rep.phone,
        "mobile": rep.mobile,
        "formats": list(rep.formats or []),
        "preferred_modes": list(rep.preferred_modes or []),
        "break_until": rep.break_until,
        "on_break": rep.on_break(clock.today()),
        "archived": rep.archived_at is not None,
        "phone_only": rep.phone_only,
        "contract_status": state,
    }


async def _profile(rep: Representative) -> Profile:
    state = representatives.contract_state(
        list(await Contract.filter(representative_id=rep.id)), clock.today()
    )
    return Profile(
        **_summary_fields(rep, state),
        postal_address=rep.postal_address,
        contact_channels=list(rep.contact_channels or []),
        team_ids=sorted(t.id for t in await rep.lived_experience_teams.all()),
        translated_language=rep.translated_language,
        interpreter_language=rep.interpreter_language,
        needs_transport=rep.needs_transport,
        wants_tech_test=rep.wants_tech_test,
        other_needs=rep.other_needs,
        unavailable=list(rep.unavailable or []),
        unavailable_note=rep.unavailable_note,
        payment_preference=rep.payment_preference,
        lead_id=rep.lead_id,
    )


class RepresentativeQuery(Paging):
    q: str = text(
        200,
        required=False,
        default="",
        title="a name or email",
        description="Part of a name or email",
    )
    mode: Mode | None = Field(None, title="a way of joining")
    need: Need | None = Field(None, title="a need")  # type: ignore[valid-type]
    type: RepresentativeType | None = Field(None, title="patient, carer or both")
    team: Id | None = Field(None, title="the team", description="A team's id")
    contract: ContractFilter | None = Field(  # type: ignore[valid-type]
        None, title="a contract status", description="`none` finds people with no contract"
    )
    on_break: Literal["yes", "no"] | None = Field(None, title="yes or no")
    archived: bool = Field(
        False,
        title="whether to list archived records",
        description="true lists archived records instead of current ones",
    )

    @model_validator(mode="before")
    @classmethod
    def _blank_is_no_filter(cls, data: Any) -> Any:
        # A search form sends every box, empty ones too: an empty filter filters nothing.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v != "" or k in ("cursor", "limit")}
        return data


@api.operation(
    "GET",
    "/representatives",
    summary="Find representatives in your organisation, with their contract status, by name",
    tag=TAG,
    roles=(Role.INVOLVEMENT_LEAD,),
    query=RepresentativeQuery,
    reply=Page[RepresentativeSummary],
)
async def list_representatives(
    request: Request, actor: Actor, query: RepresentativeQuery
) -> Page[RepresentativeSummary]:
    found = await representatives.search(
        actor,
        Filters(
            q=query.q,
            mode=query.mode or "",
            need=query.need or "",
            rep_type=query.type or "",
            team_id=query.team,
            contract=query.contract or "",
            on_break=query.on_break or "",
            archived=query.archived,
        ),
    )
    shown, cursor = list_page(found, query)
    return Page(
        items=[RepresentativeSummary(**_summary_fields(rep, state)) for rep, state in shown],
        next_cursor=cursor,
    )


@api.operation(
    "POST",
    "/representatives",
    summary="Add a representative; one with an email address gets an account to sign in",
    tag=TAG,
    roles=(Role.INVOLVEMENT_LEAD,),
    body=NewRepresentative,
    reply=Profile,
    status=201,
)
async def create_representative(request: Request, actor: Actor, body: NewRepresentative) -> Profile:
    return await _profile(await representatives.create(actor, body.data()))


@api.operation(
    "GET",
    "/representatives/{id:int}",
    summary="A representative's profile (leads, or the representative themself)",
    tag=TAG,
    reply=Profile,
)
async def get_representative(request: Request, actor: Actor, id: int) -> Profile:
    return await _profile(await access.representative_for(actor, id))


@api.operation(
    "GET",
    "/me/representative",
    summary="Your own representative profile",
    tag=TAG,
    roles=(Role.REPRESENTATIVE,),
    reply=Profile,
)
async def get_own_representative(request: Request, actor: Actor) -> Profile:
    return await _profile(await access.own_representative(actor))


@api.operation(
    "PATCH",
    "/representatives/{id:int}",
    summary="Change some profile fields; representatives may change their own needs, "
    "preferences, contact details and break",
    tag=TAG,
    body=ProfileChanges,
    reply=Profile,
)
async def update_representative(
    request: Request, actor: Actor, id: int, body: ProfileChanges
) -> Profile:
    rep = await access.representative_for(actor, id)
    await representatives.update(actor, rep, body.data(), partial=True)
    return await _profile(rep)


class BreakInput(Body):
    break_until: dt.date | None = Field(
        None,
        title="the date your break ends",
        description="The last day of the break, today or later; leave out or null to end it",
    )


@api.operation(
    "POST",
    "/representatives/{id:int}/break",
    summary="Start, change or end a break (leads, or the representative themself): nobody is "
    "booked or asked to take part until it ends",
    tag=TAG,
    body=BreakInput,
    reply=Profile,
)
async def set_break(request: Request, actor: Actor, id: int, body: BreakInput) -> Profile:
    rep = await access.representative_for(actor, id)
    return await _profile(await representatives.set_break(actor, rep, body.data()))


@api.operation(
    "POST",
    "/representatives/{id:int}/archive",
    summary="Archive a representative: they leave the lists, and their records are kept",
    tag=TAG,
    roles=(Role.INVOLVEMENT_LEAD,),
    body=NoBody,
    reply=Profile,
)
async def archive_representative(request: Request, actor: Actor, id: int, body: NoBody) -> Profile:
    rep = await access.representative_for(actor, id)
    if rep.archived_at is None:
        await representatives.archive(actor, rep)
    return await _profile(rep)


# ---------------------------------------------------------------------------- consent


class ConsentReply(Reply):
    id: int
    purpose: ConsentPurpose
    given_on: dt.date
    review_on: dt.date
    withdrawn_on: dt.date | None
    in_force: bool = Field(description="Given, not withdrawn, and not past its review date today")


class ConsentForReview(ConsentReply):
    representative_id: int
    full_name: str


class ConsentInput(Body):
    purpose: ConsentPurpose = Field(title="what they agree to")
    given_on: dt.date | None = Field(
        None, title="the date consent was given", description="Default today"
    )


class WithdrawInput(Body):
    purpose: ConsentPurpose = Field(title="what they no longer agree to")


class Withdrawn(Reply):
    purpose: ConsentPurpose
    episodes_deleted: Count = Field(description="Withdrawing health consent deletes their episodes")


def _consent(c: Consent) -> dict[str, Any]:
    today = london_date(dt.datetime.now(dt.UTC))
    return {
        "id": c.id,
        "purpose": c.purpose,
        "given_on": c.given_on,
        "review_on": c.review_on,
        "withdrawn_on": c.withdrawn_on,
        "in_force": consent_rules.in_force(
            consent_rules.Record(c.given_on, c.review_on, c.withdrawn_on), today
        ),
    }


@api.operation(
    "GET",
    "/representatives/{id:int}/consents",
    summary="Every consent recorded for a representative, newest first, withdrawn ones too",
    tag=TAG,
    query=Paging,
    reply=Page[ConsentReply],
)
async def list_consents(
    request: Request, actor: Actor, id: int, query: Paging
) -> Page[ConsentReply]:
    rep = await access.representative_for(actor, id)
    found, cursor = await keyset_page(
        Consent.filter(representative_id=rep.id), query, ("-given_on", "-id")
    )
    return Page(items=[ConsentReply(**_consent(c)) for c in found], next_cursor=cursor)


@api.operation(
    "POST",
    "/representatives/{id:int}/consents",
    summary="Record consent (for contact, it lets us email them about involvement); "
    "it replaces any earlier consent for the same purpose, and has a review date",
    tag=TAG,
    body=ConsentInput,
    reply=ConsentReply,
    status=201,
)
async def give_consent(request: Request, actor: Actor, id: int, body: ConsentInput) -> ConsentReply:
    rep = await access.representative_for(actor, id, include_archived=False)
    return ConsentReply(**_consent(await wellbeing.give_consent(actor, rep, body.data())))


@api.operation(
    "POST",
    "/representatives/{id:int}/consents/withdraw",
    summary="Withdraw consent for a purpose, from today",
    tag=TAG,
    body=WithdrawInput,
    reply=Withdrawn,
)
async def withdraw_consent(
    request: Request, actor: Actor, id: int, body: WithdrawInput
) -> Withdrawn:
    rep = await access.representative_for(actor, id)
    deleted = await wellbeing.withdraw_consent(actor, rep, body.purpose.value)
    return Withdrawn(purpose=body.purpose, episodes_deleted=deleted)


@api.operation(
    "GET",
    "/consents/review",
    summary="Consents in force whose review date is within 30 days or past, soonest first",
    tag=TAG,
    roles=(Role.INVOLVEMENT_LEAD,),
    query=Paging,
    reply=Page[ConsentForReview],
)
async def list_consents_for_review(
    request: Request, actor: Actor, query: Paging
) -> Page[ConsentForReview]:
    shown, cursor = list_page(await wellbeing.consents_due_for_review(actor), query)
    return Page(
        items=[
            ConsentForReview(
                **_consent(c),
                representative_id=c.representative_id,
                full_name=c.representative.full_name,
            )
            for c in shown
        ],
        next_cursor=cursor,
    )
