"""Closing the loop on feedback: each team's feedback champion, the team's new survey feedback
and its themes, "You said, we did" actions, and telling the people whose input an action
answers once it is done.

Who may act is decided here, never in a handler: involvement leads for every team in their
organisation, and a team's feedback champion for that team (`access.team_feedback_for`). Any
other member of staff is forbidden; another organisation's team, action or link is not found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from coprod import clock
from coprod.config import get_settings
from coprod.domain.personal_data import personal_data_in, refusal
from coprod.errors import Forbidden, NotFound
from coprod.models import (
    STAFF_ROLES,
    Activity,
    ActivityFeedback,
    Booking,
    BookingStatus,
    Membership,
    Organisation,
    Project,
    Representative,
    Role,
    SurveyAnswer,
    SurveyResponse,
    Team,
    User,
)
from coprod.models.feedback import (
    ActionActivity,
    ActionActivityFeedback,
    ActionProject,
    ActionResponse,
    ActionStatus,
    FeedbackAction,
    FeedbackTheme,
    ResponseTheme,
)
from coprod.services import audit, contact
from coprod.services.access import is_lead, may_handle_feedback, team_feedback_for
from coprod.services.actor import Actor
from coprod.validation import Checker, ValidationFailed, record_id

STATUS_LABELS = {
    ActionStatus.PLANNED: "Planned",
    ActionStatus.IN_PROGRESS: "In progress",
    ActionStatus.DONE: "Done",
    ActionStatus.NOT_POSSIBLE: "Not possible",
}
# The words people say and the team's answer are kept short enough to fit on a poster.
WORDS_MAX = 1000
LINKS = ("activity_ids", "project_ids", "response_ids", "feedback_ids")


async def _column(query: QuerySet[Any], column: str) -> list[Any]:
    """One column of a query's rows (tortoise types `values_list` as tuples even when flat)."""
    return cast(list[Any], await query.values_list(column, flat=True))


# --------------------------------------------------------------------------- champions


def may_choose_champions(actor: Actor) -> bool:
    return actor.has(Role.ORG_ADMIN, Role.INVOLVEMENT_LEAD)


async def staff(actor: Actor) -> list[User]:
    """The organisation's active members of staff, by name: who may be a champion or own an
    action."""
    ids = await _column(
        Membership.filter(organisation_id=actor.organisation_id, role__in=list(STAFF_ROLES)),
        "user_id",
    )
    return list(await User.filter(id__in=set(ids), is_active=True).order_by("full_name", "id"))


async def _staff_member(actor: Actor, c: Checker, field: str, label: str) -> User | None:
    raw = c.raw(field)
    if not raw:
        return None
    user_id = record_id(raw)
    member = (
        await User.filter(
            id=user_id,
            is_active=True,
            memberships__organisation_id=actor.organisation_id,
            memberships__role__in=list(STAFF_ROLES),
        ).first()
        if user_id
        else None
    )
    if member is None:
        c.fail(field, f"Select {label} from the list of staff")
    return member


async def set_champion(actor: Actor, team_id: int, data: Mapping[str, Any]) -> Team:
    """Choose the team's feedback champion (any active member of staff here), or nobody."""
    team = await Team.get_or_none(id=team_id, organisation_id=actor.organisation_id)
    if team is None:
        raise NotFound
    if not may_choose_champions(actor):
        raise Forbidden
    c = Checker(data)
    champion = await _staff_member(actor, c, "champion_id", "the feedback champion")
    c.done()
    async with in_transaction():
        before = team.feedback_champion_id
        team.feedback_champion_id = champion.id if champion else None
        await team.save(update_fields=["feedback_champion_id"])
        await audit.record(
            actor,
            "team.feedback_champion",
            team,
            before={"feedback_champion_id": before},
            after={"feedback_champion_id": team.feedback_champion_id},
        )
    return team


async def championed_teams(actor: Actor) -> list[Team]:
    """The teams the signed-in member of staff is feedback champion for."""
    if actor.user is None:
        return []
    return list(
        await Team.filter(organisation_id=actor.organisation_id, feedback_champion_id=actor.user.id)
    )


async def new_feedback_counts(teams: Iterable[Team]) -> dict[int, int]:
    """How many survey responses each team has not yet read, in one query."""
    ids = [t.id for t in teams]
    if not ids:
        return {}
    rows = (
        await SurveyResponse.filter(team_id__in=ids, reviewed_at__isnull=True)
        .annotate(n=Count("id"))
        .group_by("team_id")
        .values_list("team_id", "n")
    )
    return {**dict.fromkeys(ids, 0), **dict(rows)}


# --------------------------------------------------------------------------- themes


async def _may_handle_some_feedback(actor: Actor) -> None:
    if is_lead(actor):
        return
    if (
        actor.user is None
        or not await Team.filter(
            organisation_id=actor.organisation_id, feedback_champion_id=actor.user.id
        ).exists()
    ):
        raise Forbidden


async def themes(actor: Actor) -> QuerySet[FeedbackTheme]:
    await _may_handle_some_feedback(actor)
    return FeedbackTheme.filter(organisation_id=actor.organisation_id).order_by("name", "id")


def _theme_name(c: Checker, field: str, *, required: bool) -> str:
    return " ".join(c.text(field, "the theme", required=required, max_length=100).split())


async def _existing_theme(actor: Actor, name: str) -> FeedbackTheme | None:
    """The theme with this name whatever its case, so "Waiting times" and "waiting times" are
    one theme."""
    for theme in await FeedbackTheme.filter(
        organisation_id=actor.organisation_id, name__iexact=name
    ):
        return theme
    return None


async def add_theme(actor: Actor, data: Mapping[str, Any]) -> FeedbackTheme:
    await _may_handle_some_feedback(actor)
    c = Checker(data)
    name = _theme_name(c, "name", required=True)
    c.done()
    if await _existing_theme(actor, name) is not None:
        raise ValidationFailed.one("name", f"There is already a theme called {name}")
    try:
        async with in_transaction():
            theme = await FeedbackTheme.create(organisation_id=actor.organisation_id, name=name)
            await audit.record(actor, "feedback_theme.create", theme, after=audit.snapshot(theme))
    except IntegrityError:  # the same name added at the same moment
        raise ValidationFailed.one("name", f"There is already a theme called {name}") from None
    return theme


# --------------------------------------------------------------------------- new feedback


def new_feedback(team: Team) -> QuerySet[SurveyResponse]:
    """The team's survey responses nobody has read yet, newest first, with their answers and
    themes. The caller has checked access (`access.team_feedback_for`)."""
    return (
        SurveyResponse.filter(team_id=team.id, reviewed_at__isnull=True)
        .order_by("-received_at", "-id")
        .prefetch_related("answers__question", "themes__theme", "survey")
    )


def answers_of(response: SurveyResponse) -> list[dict[str, Any]]:
    """A response's answers in question order, each as the question and what was said (with
    answers and questions fetched)."""
    found = []
    given: list[SurveyAnswer] = list(response.answers)  # type: ignore[attr-defined]
    for answer in sorted(given, key=lambda a: a.question.position):
        if answer.text:
            said = answer.text
        elif answer.rating is not None:
            said = f"{answer.rating} out of 5"
        elif answer.choice:
            said = answer.choice
        else:
            continue
        found.append({"question": answer.question.prompt, "answer": said})
    return found


async def response_for(actor: Actor, response_id: int) -> SurveyResponse:
    response = await SurveyResponse.get_or_none(
        id=response_id, organisation_id=actor.organisation_id
    )
    if response is None:
        raise NotFound
    await team_feedback_for(actor, response.team_id)
    return response


async def mark_read(actor: Actor, responses: list[SurveyResponse]) -> int:
    """Mark these responses read (each the caller fetched through `response_for`); those
    already read stay as they were. Returns how many were newly marked."""
    unread = [r for r in responses if r.reviewed_at is None]
    if not unread:
        return 0
    assert actor.user is not None
    now = dt.datetime.now(dt.UTC)
    async with in_transaction():
        marked = await SurveyResponse.filter(
            id__in=[r.id for r in unread], reviewed_at__isnull=True
        ).update(reviewed_at=now, reviewed_by_id=actor.user.id)
        for response in unread:
            response.reviewed_at, response.reviewed_by_id = now, actor.user.id
        # One event each: the audit log says who read which response.
        for response in unread:
            await audit.record(
                actor,
                "survey_response.read",
                response,
                after={"reviewed_by_id": actor.user.id},
            )
    return marked


async def tag(actor: Actor, response: SurveyResponse, data: Mapping[str, Any]) -> list[str]:
    """Set the response's themes to those chosen (`theme_ids`) and, if named, a new one
    (`new_theme`, or the existing theme of that name). Returns the theme names, in order."""
    if response.organisation_id != actor.organisation_id:
        raise NotFound
    await team_feedback_for(actor, response.team_id)
    c = Checker(data)
    raw = data.get("theme_ids") or []
    chosen = [v for v in (raw if isinstance(raw, list) else [raw]) if str(v).strip()]
    ids = [record_id(v) for v in chosen]
    new_name = _theme_name(c, "new_theme", required=False)
    c.done()
    found = await FeedbackTheme.filter(
        organisation_id=actor.organisation_id, id__in=[i for i in ids if i]
    )
    if len(found) != len({i for i in ids}):
        raise NotFound
    async with in_transaction():
        if new_name:
            theme = await _existing_theme(actor, new_name)
            if theme is None:
                theme = await FeedbackTheme.create(
                    organisation_id=actor.organisation_id, name=new_name
                )
                await audit.record(
                    actor, "feedback_theme.create", theme, after=audit.snapshot(theme)
                )
            if theme.id not in {t.id for t in found}:
                found.append(theme)
        before = sorted(await _column(ResponseTheme.filter(response_id=response.id), "theme_id"))
        after = sorted(t.id for t in found)
        if before != after:
            await ResponseTheme.filter(response_id=response.id).delete()
            await ResponseTheme.bulk_create(
                [ResponseTheme(response_id=response.id, theme_id=t) for t in after]
            )
            await audit.record(
                actor,
                "survey_response.themes",
                response,
                before={"theme_ids": before},
                after={"theme_ids": after},
            )
    return sorted(t.name for t in found)


# --------------------------------------------------------------------------- actions


async def action_for(actor: Actor, action_id: int) -> FeedbackAction:
    action = await FeedbackAction.get_or_none(id=action_id, organisation_id=actor.organisation_id)
    if action is None:
        raise NotFound
    await team_feedback_for(actor, action.team_id)
    return action


def team_actions(team: Team, status: str | None = None) -> QuerySet[FeedbackAction]:
    found = FeedbackAction.filter(team_id=team.id)
    if status in {s.value for s in ActionStatus}:
        found = found.filter(status=status)
    return found.order_by("-updated_at", "-id").prefetch_related("owner")


@dataclass(frozen=True)
class Links:
    activity_ids: list[int]
    project_ids: list[int]
    response_ids: list[int]
    feedback_ids: list[int]


async def links_of(action: FeedbackAction) -> Links:
    return Links(
        sorted(await _column(ActionActivity.filter(action_id=action.id), "activity_id")),
        sorted(await _column(ActionProject.filter(action_id=action.id), "project_id")),
        sorted(await _column(ActionResponse.filter(action_id=action.id), "response_id")),
        sorted(await _column(ActionActivityFeedback.filter(action_id=action.id), "feedback_id")),
    )


def _ids(c: Checker, data: Mapping[str, Any], field: str) -> list[int]:
    raw = data.get(field)
    values = raw if isinstance(raw, list) else [raw]
    ids = [record_id(v) for v in values if v is not None and str(v).strip()]
    if any(i is None for i in ids):
        raise NotFound  # not any record's id, so certainly not one of this organisation's
    return sorted({i for i in ids if i is not None})


async def _check_links(
    actor: Actor, team: Team, c: Checker, data: Mapping[str, Any], current: Links | None
) -> Links:
    """The links asked for (or, for a list not sent, those the action has), each one of this
    organisation's records: anything else is not found. Those of another team are refused
    field by field."""
    chosen: dict[str, list[int]] = {}
    for field in LINKS:
        if field in data or current is None:
            chosen[field] = _ids(c, data, field)
        else:
            chosen[field] = getattr(current, field)
    org = actor.organisation_id
    activities = await Activity.filter(id__in=chosen["activity_ids"], organisation_id=org)
    projects = await Project.filter(id__in=chosen["project_ids"], organisation_id=org)
    responses = await SurveyResponse.filter(id__in=chosen["response_ids"], organisation_id=org)
    feedback = await ActivityFeedback.filter(
        id__in=chosen["feedback_ids"], organisation_id=org
    ).prefetch_related("activity")
    for field, rows in (
        ("activity_ids", activities),
        ("project_ids", projects),
        ("response_ids", responses),
        ("feedback_ids", feedback),
    ):
        if len(rows) != len(chosen[field]):
            raise NotFound
    if any(a.team_id not in (None, team.id) for a in activities):
        c.fail("activity_ids", "Choose only activities of this team, or of no team")
    if any(r.team_id != team.id for r in responses):
        c.fail("response_ids", "Choose only feedback given to this team")
    if any(f.activity.team_id not in (None, team.id) for f in feedback):
        c.fail("feedback_ids", "Choose only feedback on activities of this team, or of no team")
    return Links(**chosen)


async def _representative_names(actor: Actor) -> list[str]:
    return list(
        await _column(Representative.filter(organisation_id=actor.organisation_id), "full_name")
    )


def _words(c: Checker, field: str, label: str, names: list[str], *, required: bool) -> str:
    value = c.text(field, label, required=required, max_length=WORDS_MAX)
    if value and (kinds := personal_data_in(value, names)):
        c.fail(field, refusal(kinds))
    return value


async def _read_action(
    actor: Actor, team: Team, data: Mapping[str, Any], current: FeedbackAction | None
) -> tuple[dict[str, Any], Links]:
    """The action's fields and links from `data`, every rule checked field by field. When
    changing an action, a field not sent keeps its value."""

    def given(field: str) -> bool:
        return current is None or field in data

    c = Checker(data)
    names = await _representative_names(actor)
    values: dict[str, Any] = {}
    if given("you_said"):
        values["you_said"] = _words(c, "you_said", "what people said", names, required=True)
    if given("we_did"):
        values["we_did"] = _words(c, "we_did", "what the team is doing", names, required=True)
    if given("owner_id"):
        owner = await _staff_member(actor, c, "owner_id", "who owns this action")
        if owner is None and not c.raw("owner_id"):
            c.fail("owner_id", "Select who owns this action")
        values["owner_id"] = owner.id if owner else None
    status = current.status if current else ActionStatus.PLANNED
    if given("status") and "status" in data:
        picked = c.choice("status", "how far the action has got", [s.value for s in ActionStatus])
        status = ActionStatus(picked) if picked else status
    values["status"] = status
    reason = current.not_possible_reason if current else None
    if "not_possible_reason" in data:
        reason = _words(c, "not_possible_reason", "why it is not possible", names, required=False)
    if status is ActionStatus.NOT_POSSIBLE and not reason:
        c.fail("not_possible_reason", "Say why this is not possible: the board shows it")
    values["not_possible_reason"] = (
        (reason or None) if status is ActionStatus.NOT_POSSIBLE else None
    )
    if data.get("on_board") is not None:
        values["on_board"] = c.boolean("on_board")
    elif current is None:
        values["on_board"] = True
    links = await _check_links(actor, team, c, data, await links_of(current) if current else None)
    c.done()
    return values, links


async def _save_links(action: FeedbackAction, links: Links) -> None:
    for model, column, ids in (
        (ActionActivity, "activity_id", links.activity_ids),
        (ActionProject, "project_id", links.project_ids),
        (ActionResponse, "response_id", links.response_ids),
        (ActionActivityFeedback, "feedback_id", links.feedback_ids),
    ):
        await model.filter(action_id=action.id).delete()
        if ids:
            rows: list[Any] = [model(action_id=action.id, **{column: i}) for i in ids]
            await model.bulk_create(rows)


def _record(action: FeedbackAction, links: Links) -> dict[str, Any]:
    return {**audit.snapshot(action, exclude={"updated_at"}), **links.__dict__}


async def create_action(actor: Actor, team_id: int, data: Mapping[str, Any]) -> FeedbackAction:
    team = await team_feedback_for(actor, team_id)
    values, links = await _read_action(actor, team, data, None)
    async with in_transaction():
        action = await FeedbackAction.create(
            organisation_id=actor.organisation_id,
            team_id=team.id,
            done_on=clock.today() if values["status"] is ActionStatus.DONE else None,
            **values,
        )
        await _save_links(action, links)
        await audit.record(actor, "feedback_action.create", action, after=_record(action, links))
        if action.status is ActionStatus.DONE:
            await _tell_people(action, team, links)
    return action


async def update_action(
    actor: Actor, action: FeedbackAction, data: Mapping[str, Any]
) -> FeedbackAction:
    """Change an action. Becoming done tells the people whose input it answers, once each
    however often it becomes done."""
    if action.organisation_id != actor.organisation_id:
        raise NotFound
    team = await team_feedback_for(actor, action.team_id)
    before_links = await links_of(action)
    values, links = await _read_action(actor, team, data, action)
    async with in_transaction():
        action = await FeedbackAction.select_for_update().get(id=action.id)
        before = _record(action, before_links)
        was_done = action.status is ActionStatus.DONE
        for name, value in values.items():
            setattr(action, name, value)
        if action.status is ActionStatus.DONE and not was_done:
            action.done_on = clock.today()
        elif action.status is not ActionStatus.DONE:
            action.done_on = None
        await action.save()
        await _save_links(action, links)
        await audit.record(
            actor, "feedback_action.update", action, before=before, after=_record(action, links)
        )
        if action.status is ActionStatus.DONE and not was_done:
            await _tell_people(action, team, links)
    return action


async def people_to_tell(links: Links) -> list[Representative]:
    """Everyone whose input or involvement an action answers: who attended a linked activity
    or an activity of a linked project, and whose linked activity feedback it is. Survey
    answers are anonymous, so nobody is told of them."""
    attended = Booking.filter(status=BookingStatus.ATTENDED)
    rep_ids: set[int] = set()
    if links.activity_ids or links.project_ids:
        rep_ids |= set(
            await _column(
                attended.filter(
                    Q(activity_id__in=links.activity_ids)
                    | Q(activity__project_id__in=links.project_ids)
                ),
                "representative_id",
            )
        )
    if links.feedback_ids:
        rep_ids |= set(
            await _column(ActivityFeedback.filter(id__in=links.feedback_ids), "representative_id")
        )
    if not rep_ids:
        return []
    return list(
        await Representative.filter(id__in=rep_ids, archived_at__isnull=True).order_by("id")
    )


def board_url(organisation: Organisation, team: Team) -> str:
    return f"{get_settings().base_url}/you-said-we-did/{organisation.slug}/{team.id}"


async def _tell_people(action: FeedbackAction, team: Team, links: Links) -> None:
    organisation = await Organisation.get(id=action.organisation_id)
    for rep in await people_to_tell(links):
        await contact.notify(
            rep,
            kind="action_done",
            context={
                "name": rep.full_name,
                "team": team.name,
                "you_said": action.you_said,
                "we_did": action.we_did,
                "url": board_url(organisation, team),
            },
            organisation_id=action.organisation_id,
            # Once per action and person, however often it is marked done again.
            dedupe_key=f"action_done:{action.id}:{rep.id}",
        )


# --------------------------------------------------------------------------- the public board


async def board(org_slug: str, team_id: int) -> tuple[Organisation, Team, list[FeedbackAction]]:
    """A team's actions on its public board, for anyone: only words, status and dates."""
    organisation = await Organisation.get_or_none(slug=org_slug)
    if organisation is None:
        raise NotFound
    team = await Team.get_or_none(id=team_id, organisation_id=organisation.id)
    if team is None:
        raise NotFound
    actions = await FeedbackAction.filter(team_id=team.id, on_board=True).order_by(
        "-done_on", "-updated_at", "-id"
    )
    return organisation, team, list(actions)


BOARD_ORDER = (
    ActionStatus.DONE,
    ActionStatus.IN_PROGRESS,
    ActionStatus.PLANNED,
    ActionStatus.NOT_POSSIBLE,
)


def by_status(actions: Iterable[FeedbackAction]) -> list[tuple[ActionStatus, list[Any]]]:
    grouped: dict[ActionStatus, list[FeedbackAction]] = {s: [] for s in BOARD_ORDER}
    for action in actions:
        grouped[action.status].append(action)
    return [(s, grouped[s]) for s in BOARD_ORDER if grouped[s]]


def may_see_team_feedback(actor: Actor, team: Team) -> bool:
    return may_handle_feedback(actor, team)
