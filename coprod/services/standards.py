"""A team's self-review against the quality network's patient and carer standards: marking each
standard met, partly met or not met, and linking the evidence a peer reviewer will ask for.

Involvement leads and the team's feedback champion change a review; reporters may read it too.
Evidence is always one of the team's own records (or the organisation's, for an activity with
no team): anything in another organisation is not found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from coprod.domain import standard_evidence as rules
from coprod.domain.scheduling import LONDON
from coprod.domain.standards import EDITION, SectionShare, Standard, by_number, section_shares
from coprod.errors import Conflict, Forbidden, NotFound
from coprod.models import (
    Activity,
    ActivityStatus,
    Booking,
    BookingStatus,
    FeedbackAction,
    Kind,
    Role,
    StandardEvidence,
    StandardReview,
    StandardStatus,
    Survey,
    SurveyResponse,
    Team,
)
from coprod.models.feedback import ActionStatus, EvidenceKind
from coprod.services import audit
from coprod.services.access import may_handle_feedback, team_feedback_for
from coprod.services.actor import Actor
from coprod.validation import Checker, ValidationFailed, record_id

NOT_MARKED = "not_marked"
STATUSES = [s.value for s in StandardStatus] + [NOT_MARKED]
KINDS = [k.value for k in EvidenceKind]
# How many records a standard's page offers to link, newest first.
CHOICES_SHOWN = 100
ACTION_STATUS_LABELS = {
    ActionStatus.PLANNED: "planned",
    ActionStatus.IN_PROGRESS: "in progress",
    ActionStatus.DONE: "done",
    ActionStatus.NOT_POSSIBLE: "not possible",
}
AUDIENCE_LABELS = {"patients": "patients", "carers": "carers", "representatives": "representatives"}


# ---------------------------------------------------------------------------- who


async def team_for_reading(actor: Actor, team_id: int) -> Team:
    """Leads and the team's champion, who change the review, and reporters, who read it."""
    team = await Team.get_or_none(id=team_id, organisation_id=actor.organisation_id)
    if team is None:
        raise NotFound
    if not (may_handle_feedback(actor, team) or actor.has(Role.REPORTER)):
        raise Forbidden
    return team


def standard_of(number: int) -> Standard:
    standard = by_number().get(number)
    if standard is None:
        raise NotFound
    return standard


# ---------------------------------------------------------------------------- changes


async def mark(
    actor: Actor, team_id: int, number: int, data: Mapping[str, Any]
) -> StandardReview | None:
    """Mark a standard met, partly met or not met, with a note; marking it again changes the
    same mark. "not_marked" clears it (and its note), once it has no evidence left."""
    team = await team_feedback_for(actor, team_id)
    standard_of(number)
    c = Checker(data)
    status = c.choice("status", "whether the standard is met", STATUSES)
    note = c.text("note", "a note", required=False, max_length=4000)
    c.done()
    for attempt in range(2):
        try:
            return await _mark(actor, team, number, status, note or None)
        except IntegrityError:
            # Someone marked it for the first time at the same moment: change their mark.
            if attempt:
                raise
    raise AssertionError("unreachable")


async def _mark(
    actor: Actor, team: Team, number: int, status: str, note: str | None
) -> StandardReview | None:
    async with in_transaction():
        review = (
            await StandardReview.filter(team_id=team.id, edition=EDITION, number=number)
            .select_for_update()
            .first()
        )
        if status == NOT_MARKED:
            if review is None:
                return None
            if await StandardEvidence.filter(review_id=review.id).exists():
                raise Conflict(
                    "Remove this standard's evidence before you take away its mark", "status"
                )
            before = audit.snapshot(review)
            await review.delete()
            await audit.record(actor, "standard_review.clear", review, before=before)
            return None
        if review is None:
            review = await StandardReview.create(
                organisation_id=actor.organisation_id,
                team_id=team.id,
                edition=EDITION,
                number=number,
                status=StandardStatus(status),
                note=note,
                updated_by=actor.user,
            )
            await audit.record(actor, "standard_review.mark", review, after=audit.snapshot(review))
            return review
        if review.status == status and review.note == note:
            return review  # nothing changed: nothing to save or log
        before = audit.snapshot(review)
        review.update_from_dict(
            {
                "status": StandardStatus(status),
                "note": note,
                "updated_by_id": actor.user.id if actor.user else None,
            }
        )
        await review.save()
        await audit.record(
            actor, "standard_review.mark", review, before=before, after=audit.snapshot(review)
        )
        return review


async def add_evidence(
    actor: Actor, team_id: int, number: int, data: Mapping[str, Any]
) -> StandardEvidence:
    """Link one piece of evidence to a marked standard: an activity of the organisation (of
    this team, if it has one), an action or survey of this team, or a note."""
    team = await team_feedback_for(actor, team_id)
    standard_of(number)
    c = Checker(data)
    kind = c.choice("kind", "what kind of evidence this is", KINDS)
    note = c.text("note", "the note", max_length=2000) if kind == EvidenceKind.NOTE else ""
    c.done()
    values: dict[str, Any] = {"kind": EvidenceKind(kind)}
    if kind == EvidenceKind.NOTE:
        values["note"] = note
    elif kind == EvidenceKind.ACTIVITY:
        values["activity_id"] = (await _activity(actor, team, data)).id
    elif kind == EvidenceKind.ACTION:
        values["action_id"] = (await _action(actor, team, data)).id
    else:
        values["survey_id"] = (await _survey(actor, team, data)).id
    async with in_transaction():
        review = (
            await StandardReview.filter(team_id=team.id, edition=EDITION, number=number)
            .select_for_update()
            .first()
        )
        if review is None:
            raise Conflict(
                "Mark this standard as met, partly met or not met before you add evidence", "kind"
            )
        linked = {k: v for k, v in values.items() if k.endswith("_id")}
        if linked and await StandardEvidence.filter(review_id=review.id, **linked).exists():
            field = next(iter(linked))
            raise ValidationFailed.one(field, "This is already evidence for this standard")
        evidence = await StandardEvidence.create(review=review, added_by=actor.user, **values)
        await audit.record(
            actor,
            "standard_evidence.add",
            evidence,
            after={"team_id": team.id, "number": number, **audit.snapshot(evidence)},
        )
    return evidence


async def remove_evidence(actor: Actor, team_id: int, number: int, evidence_id: int) -> None:
    team = await team_feedback_for(actor, team_id)
    standard_of(number)
    async with in_transaction():
        evidence = await StandardEvidence.get_or_none(
            id=evidence_id,
            review__team_id=team.id,
            review__edition=EDITION,
            review__number=number,
        )
        if evidence is None:
            raise NotFound
        before = {"team_id": team.id, "number": number, **audit.snapshot(evidence)}
        await evidence.delete()
        await audit.record(actor, "standard_evidence.remove", evidence, before=before)


def _chosen_id(c: Checker, name: str, label: str) -> int | None:
    raw = c.raw(name)
    if not raw:
        c.fail(name, f"Select {label}")
        return None
    found = record_id(raw)
    if found is None:
        raise NotFound
    return found


_Evidence = TypeVar("_Evidence", Activity, FeedbackAction, Survey)


async def _team_record(
    actor: Actor,
    team: Team,
    data: Mapping[str, Any],
    model: type[_Evidence],
    field: str,
    what: str,
    noun: str,
) -> _Evidence:
    """The record of this organisation chosen in `field`, which must be the team's own (an
    activity may also be the organisation's, with no team)."""
    c = Checker(data)
    found = _chosen_id(c, field, what)
    c.done()
    record = await model.get_or_none(id=found, organisation_id=actor.organisation_id)
    if record is None:
        raise NotFound
    if record.team_id != team.id and not (model is Activity and record.team_id is None):
        raise ValidationFailed.one(field, f"This {noun} belongs to another team")
    return record


async def _activity(actor: Actor, team: Team, data: Mapping[str, Any]) -> Activity:
    activity = await _team_record(
        actor, team, data, Activity, "activity_id", "an activity", "activity"
    )
    if activity.status == ActivityStatus.CANCELLED:
        raise ValidationFailed.one("activity_id", "This activity was cancelled")
    return activity


async def _action(actor: Actor, team: Team, data: Mapping[str, Any]) -> FeedbackAction:
    return await _team_record(
        actor, team, data, FeedbackAction, "action_id", 'a "You said, we did" action', "action"
    )


async def _survey(actor: Actor, team: Team, data: Mapping[str, Any]) -> Survey:
    return await _team_record(actor, team, data, Survey, "survey_id", "a survey", "survey")


# ---------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class EvidenceItem:
    id: int
    kind: str
    activity_id: int | None
    action_id: int | None
    survey_id: int | None
    note: str | None
    description: str
    added_at: dt.datetime


@dataclass
class StandardEntry:
    standard: Standard
    status: str  # met, partly_met, not_met or not_marked
    note: str | None = None
    updated_at: dt.datetime | None = None
    evidence: list[EvidenceItem] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return rules.STATUS_LABELS[self.status]

    @property
    def status_colour(self) -> str:
        return rules.STATUS_COLOURS[self.status]


@dataclass(frozen=True)
class SectionReview:
    share: SectionShare
    entries: list[StandardEntry]


@dataclass
class TeamReview:
    team: Team
    entries: list[StandardEntry]
    sections: list[SectionReview]
    overall: SectionShare

    @property
    def shares(self) -> list[SectionShare]:
        return [s.share for s in self.sections]


async def team_review(actor: Actor, team_id: int, *, leaving: bool = False) -> TeamReview:
    """Every standard of the edition with the team's mark and evidence, and the shares met per
    section. `leaving` describes evidence for people outside the organisation (the print and
    the CSV): counts of 1 to 4 people are hidden."""
    team = await team_for_reading(actor, team_id)
    reviews = await StandardReview.filter(team_id=team.id, edition=EDITION)
    evidence = await _described(
        await StandardEvidence.filter(review_id__in=[r.id for r in reviews]).prefetch_related(
            "activity", "action", "survey"
        ),
        leaving=leaving,
    )
    by_review: dict[int, list[EvidenceItem]] = {}
    for row, item in evidence:
        by_review.setdefault(row.review_id, []).append(item)
    marks = {r.number: r for r in reviews}
    entries = []
    for standard in by_number().values():
        review = marks.get(standard.number)
        if review is None:
            entries.append(StandardEntry(standard, NOT_MARKED))
            continue
        entries.append(
            StandardEntry(
                standard,
                review.status.value,
                review.note,
                review.updated_at,
                by_review.get(review.id, []),
            )
        )
    shares, overall = section_shares({r.number: r.status.value for r in reviews})
    sections = [
        SectionReview(share, [e for e in entries if e.standard.section == share.section])
        for share in shares
    ]
    return TeamReview(team, entries, sections, overall)


async def _described(
    rows: list[StandardEvidence], *, leaving: bool
) -> list[tuple[StandardEvidence, EvidenceItem]]:
    attended = await _attended({r.activity_id for r in rows if r.activity_id})
    answers = await _answers({r.survey_id for r in rows if r.survey_id})
    described = []
    for row in rows:
        if row.activity is not None:
            text = describe_activity(row.activity, attended.get(row.activity.id, 0), leaving)
        elif row.survey is not None:
            text = rules.describe_survey(
                row.survey.title,
                AUDIENCE_LABELS.get(row.survey.audience.value, row.survey.audience.value),
                answers.get(row.survey.id, 0),
                leaving=leaving,
            )
        elif row.action is not None:
            text = _action_words(row.action)
        else:
            text = rules.describe_note(row.note or "")
        described.append(
            (
                row,
                EvidenceItem(
                    id=row.id,
                    kind=row.kind.value,
                    activity_id=row.activity_id,
                    action_id=row.action_id,
                    survey_id=row.survey_id,
                    note=row.note,
                    description=text,
                    added_at=row.created_at,
                ),
            )
        )
    return described


def describe_activity(activity: Activity, attended: int, leaving: bool) -> str:
    day = activity.starts_at.astimezone(LONDON).date() if activity.starts_at else None
    return rules.describe_activity(
        activity.title, Kind(activity.kind).label.lower(), day, attended, leaving=leaving
    )


async def _attended(activity_ids: Iterable[int]) -> dict[int, int]:
    ids = list(activity_ids)
    if not ids:
        return {}
    rows = (
        await Booking.filter(activity_id__in=ids, status=BookingStatus.ATTENDED)
        .annotate(n=Count("id"))
        .group_by("activity_id")
        .values_list("activity_id", "n")
    )
    return {int(a): int(n) for a, n in rows}


async def _answers(survey_ids: Iterable[int]) -> dict[int, int]:
    ids = list(survey_ids)
    if not ids:
        return {}
    rows = (
        await SurveyResponse.filter(survey_id__in=ids)
        .annotate(n=Count("id"))
        .group_by("survey_id")
        .values_list("survey_id", "n")
    )
    return {int(s): int(n) for s, n in rows}


@dataclass(frozen=True)
class Choice:
    id: int
    text: str


@dataclass(frozen=True)
class SuggestedRecord:
    kind: str  # activity, survey or action
    id: int
    description: str
    reason: str


@dataclass
class StandardDetail:
    team: Team
    entry: StandardEntry
    suggestions: list[SuggestedRecord]
    # Records that may be linked, for the page's lists; empty for readers who cannot change.
    activities: list[Choice]
    actions: list[Choice]
    surveys: list[Choice]
    may_change: bool


async def standard_detail(actor: Actor, team_id: int, number: int) -> StandardDetail:
    """One standard's mark and evidence, and, for those who may change it, what could
    evidence it (suggestions) and what may be linked."""
    team = await team_for_reading(actor, team_id)
    standard = standard_of(number)
    review = await StandardReview.get_or_none(team_id=team.id, edition=EDITION, number=number)
    entry = StandardEntry(standard, NOT_MARKED)
    if review is not None:
        rows = await StandardEvidence.filter(review_id=review.id).prefetch_related(
            "activity", "action", "survey"
        )
        evidence = [item for _, item in await _described(rows, leaving=False)]
        entry = StandardEntry(
            standard, review.status.value, review.note, review.updated_at, evidence
        )
    if not may_handle_feedback(actor, team):
        return StandardDetail(team, entry, [], [], [], [], may_change=False)
    linked = {
        kind: {getattr(e, f"{kind}_id") for e in entry.evidence if e.kind == kind}
        for kind in ("activity", "action", "survey")
    }
    activities = [
        a
        for a in await Activity.filter(
            Q(team_id=None) | Q(team_id=team.id), organisation_id=actor.organisation_id
        )
        .exclude(status=ActivityStatus.CANCELLED)
        .order_by("-starts_at", "-id")
        .limit(CHOICES_SHOWN)
        if a.id not in linked["activity"]
    ]
    attended = await _attended(a.id for a in activities)
    surveys = [
        s
        for s in await Survey.filter(team_id=team.id)
        .order_by("-created_at", "-id")
        .limit(CHOICES_SHOWN)
        if s.id not in linked["survey"]
    ]
    actions = [
        a
        for a in await FeedbackAction.filter(team_id=team.id)
        .order_by("-updated_at", "-id")
        .limit(CHOICES_SHOWN)
        if a.id not in linked["action"]
    ]
    words = {
        **{
            ("activity", a.id): describe_activity(a, attended.get(a.id, 0), False)
            for a in activities
        },
        **{("survey", s.id): _survey_choice(s) for s in surveys},
        **{("action", a.id): _action_words(a) for a in actions},
    }
    facts = [
        rules.ActivityFacts(
            id=a.id,
            team_id=a.team_id,
            kind=Kind(a.kind).value,
            category=a.category.value if a.category else None,
            attended=attended.get(a.id, 0),
        )
        for a in activities
    ]
    suggestions = [
        *rules.suggested_activities(number, team.id, facts),
        *rules.suggested_surveys(number, [(s.id, s.audience.value) for s in surveys]),
        *rules.suggested_actions(number, [(a.id, a.status.value) for a in actions]),
    ]
    return StandardDetail(
        team,
        entry,
        [
            SuggestedRecord(s.kind, s.record_id, words[(s.kind, s.record_id)], s.reason)
            for s in suggestions
        ],
        [Choice(a.id, words[("activity", a.id)]) for a in activities],
        [Choice(a.id, words[("action", a.id)]) for a in actions],
        [Choice(s.id, words[("survey", s.id)]) for s in surveys],
        may_change=True,
    )


def _survey_choice(survey: Survey) -> str:
    audience = AUDIENCE_LABELS.get(survey.audience.value, survey.audience.value)
    return f"Survey: {survey.title} (for {audience})"


def _action_words(action: FeedbackAction) -> str:
    return rules.describe_action(
        action.you_said, action.we_did, ACTION_STATUS_LABELS[action.status]
    )
