"""API operations for the quality network's patient and carer standards and a team's
self-review against them.

Anyone on the staff may read the standards themselves. A team's review is read by involvement
leads, the team's feedback champion and reporters, and changed by leads and the champion (the
service decides: another organisation's team is not found, someone else's team is forbidden).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from starlette.requests import Request

from coprod.domain.standards import EDITION, EDITION_NAME, TYPE_NAMES, SectionShare, sections
from coprod.domain.standards import standards as all_standards
from coprod.models import Role
from coprod.services import standards
from coprod.services.actor import Actor
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, DateTime, Id, Reply, text

TAG = "standards"
STAFF = (Role.INVOLVEMENT_LEAD, Role.REPORTER, Role.ORG_ADMIN, Role.FINANCE_OFFICER)


class StandardText(Reply):
    number: int
    type: int = Field(description="1 essential, 2 expected, 3 desirable")
    section: str
    text: str
    guidance: str | None


class EditionReply(Reply):
    edition: str
    name: str
    types: dict[str, str] = Field(description="What each type means, by type number")
    sections: list[str] = Field(description="The sections, in the network's order")
    standards: list[StandardText]


@api.operation(
    "GET",
    "/standards",
    summary="The quality network's patient and carer standards, in the network's order",
    tag=TAG,
    roles=STAFF,
    reply=EditionReply,
)
async def list_standards(request: Request, actor: Actor) -> EditionReply:
    return EditionReply(
        edition=EDITION,
        name=EDITION_NAME,
        types={str(k): v for k, v in TYPE_NAMES.items()},
        sections=list(sections()),
        standards=[
            StandardText(
                number=s.number, type=s.type, section=s.section, text=s.text, guidance=s.guidance
            )
            for s in all_standards()
        ],
    )


class ShareReply(Reply):
    section: str
    standards: int
    met: int
    partly_met: int
    not_met: int
    not_marked: int
    percent_met: int = Field(description="Whole per cent of the standards marked met")


class EvidenceReply(Reply):
    id: int
    kind: Literal["activity", "action", "survey", "note"]
    activity_id: int | None
    action_id: int | None
    survey_id: int | None
    note: str | None
    description: str = Field(description="The evidence in words, as the self-review shows it")
    added_at: DateTime


Status = Literal["met", "partly_met", "not_met", "not_marked"]


class StandardReviewReply(Reply):
    number: int
    type: int
    section: str
    status: Status
    note: str | None
    updated_at: DateTime | None
    evidence: list[EvidenceReply]


class TeamReviewReply(Reply):
    team_id: int
    edition: str
    sections: list[ShareReply] = Field(description="The share met in each section")
    overall: ShareReply
    standards: list[StandardReviewReply]


class SuggestionReply(Reply):
    kind: Literal["activity", "action", "survey"]
    id: int = Field(description="The activity's, action's or survey's id")
    description: str
    reason: str


class StandardDetailReply(StandardReviewReply):
    text: str
    guidance: str | None
    suggestions: list[SuggestionReply] = Field(
        description="Records that look like evidence for this standard (empty for readers "
        "who cannot change the review)"
    )


def _share(share: SectionShare) -> ShareReply:
    return ShareReply(
        section=share.section,
        standards=share.standards,
        met=share.met,
        partly_met=share.partly_met,
        not_met=share.not_met,
        not_marked=share.not_marked,
        percent_met=share.percent_met,
    )


def _evidence(item: standards.EvidenceItem) -> EvidenceReply:
    return EvidenceReply(
        id=item.id,
        kind=item.kind,  # type: ignore[arg-type]
        activity_id=item.activity_id,
        action_id=item.action_id,
        survey_id=item.survey_id,
        note=item.note,
        description=item.description,
        added_at=item.added_at,
    )


def _entry(entry: standards.StandardEntry) -> StandardReviewReply:
    return StandardReviewReply(
        number=entry.standard.number,
        type=entry.standard.type,
        section=entry.standard.section,
        status=entry.status,  # type: ignore[arg-type]
        note=entry.note,
        updated_at=entry.updated_at,
        evidence=[_evidence(e) for e in entry.evidence],
    )


@api.operation(
    "GET",
    "/teams/{id:int}/standards",
    summary="A team's self-review: each standard's mark and evidence, and the share met per "
    "section and overall",
    tag=TAG,
    roles=STAFF,
    reply=TeamReviewReply,
)
async def team_review(request: Request, actor: Actor, id: int) -> TeamReviewReply:
    review = await standards.team_review(actor, id)
    return TeamReviewReply(
        team_id=review.team.id,
        edition=EDITION,
        sections=[_share(s) for s in review.shares],
        overall=_share(review.overall),
        standards=[_entry(e) for e in review.entries],
    )


async def _detail(actor: Actor, team_id: int, number: int) -> StandardDetailReply:
    detail = await standards.standard_detail(actor, team_id, number)
    return StandardDetailReply(
        **_entry(detail.entry).model_dump(),
        text=detail.entry.standard.text,
        guidance=detail.entry.standard.guidance,
        suggestions=[
            SuggestionReply(kind=s.kind, id=s.id, description=s.description, reason=s.reason)  # type: ignore[arg-type]
            for s in detail.suggestions
        ],
    )


@api.operation(
    "GET",
    "/teams/{id:int}/standards/{number:int}",
    summary="One standard for a team: its text, mark, evidence and suggested evidence",
    tag=TAG,
    roles=STAFF,
    reply=StandardDetailReply,
)
async def team_standard(
    request: Request, actor: Actor, id: int, number: int
) -> StandardDetailReply:
    return await _detail(actor, id, number)


class MarkInput(Body):
    status: Status = Field(
        title="whether the standard is met",
        description='"not_marked" takes the mark away (once the standard has no evidence)',
    )
    note: str | None = text(4000, required=False, default=None, title="a note")


@api.operation(
    "PUT",
    "/teams/{id:int}/standards/{number:int}",
    summary="Mark a standard met, partly met or not met (marking it again changes the mark)",
    tag=TAG,
    roles=STAFF,
    body=MarkInput,
    reply=StandardDetailReply,
)
async def mark_standard(
    request: Request, actor: Actor, id: int, number: int, body: MarkInput
) -> StandardDetailReply:
    await standards.mark(actor, id, number, body.data())
    return await _detail(actor, id, number)


class EvidenceInput(Body):
    kind: Literal["activity", "action", "survey", "note"] = Field(
        title="what kind of evidence this is"
    )
    activity_id: Id | None = Field(None, title="an activity")
    action_id: Id | None = Field(None, title='a "You said, we did" action')
    survey_id: Id | None = Field(None, title="a survey")
    note: str | None = text(2000, required=False, default=None, title="the note")


@api.operation(
    "POST",
    "/teams/{id:int}/standards/{number:int}/evidence",
    summary="Link evidence to a marked standard: an activity, an action or a survey of the "
    "team, or a note",
    tag=TAG,
    roles=STAFF,
    body=EvidenceInput,
    reply=EvidenceReply,
    status=201,
)
async def add_evidence(
    request: Request, actor: Actor, id: int, number: int, body: EvidenceInput
) -> EvidenceReply:
    added = await standards.add_evidence(actor, id, number, body.data())
    detail = await standards.standard_detail(actor, id, number)
    return _evidence(next(e for e in detail.entry.evidence if e.id == added.id))


@api.operation(
    "DELETE",
    "/teams/{id:int}/standards/{number:int}/evidence/{evidence_id:int}",
    summary="Remove a piece of evidence from a standard",
    tag=TAG,
    roles=STAFF,
    reply=StandardDetailReply,
)
async def remove_evidence(
    request: Request, actor: Actor, id: int, number: int, evidence_id: int
) -> StandardDetailReply:
    await standards.remove_evidence(actor, id, number, evidence_id)
    return await _detail(actor, id, number)
