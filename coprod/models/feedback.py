"""Closing the loop: feedback surveys and their answers, the themes a feedback champion tags,
"You said, we did" actions, representatives' feedback on an activity, and a team's evidence
against the quality network's patient and carer standards."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields

from coprod.models.base import TimestampedModel

if TYPE_CHECKING:
    from coprod.models.activities import Activity, Booking, Project
    from coprod.models.org import Organisation, Team
    from coprod.models.people import Representative
    from coprod.models.users import User


class Audience(StrEnum):
    PATIENTS = "patients"
    CARERS = "carers"
    # Representatives, after an activity they took part in.
    REPRESENTATIVES = "representatives"


class SurveyStage(StrEnum):
    """Where in a person's time with the team a survey is given. With ASK, the form asks."""

    START = "start"
    END = "end"
    ASK = "ask"


class JourneyStage(StrEnum):
    START = "start"
    END = "end"


class SurveyStatus(StrEnum):
    DRAFT = "draft"  # being written: its link answers "not open yet"
    OPEN = "open"
    CLOSED = "closed"


class QuestionKind(StrEnum):
    CHOICE = "choice"  # one of the question's choices
    RATING = "rating"  # 1 to 5
    TEXT = "text"  # their own words


class ResponseSource(StrEnum):
    WEB = "web"  # by the web link or the QR code
    PAPER = "paper"  # typed in by staff from a paper form


class Survey(TimestampedModel):
    organisation_id: int
    team_id: int
    created_by_id: int | None

    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="surveys", on_delete=fields.CASCADE
    )
    team: fields.ForeignKeyRelation[Team] = fields.ForeignKeyField(
        "models.Team", related_name="surveys", on_delete=fields.CASCADE
    )
    title = fields.CharField(max_length=200)
    introduction = fields.TextField(null=True)
    audience = fields.CharEnumField(Audience, max_length=16)
    stage = fields.CharEnumField(SurveyStage, max_length=8)
    status = fields.CharEnumField(SurveyStatus, max_length=8, default=SurveyStatus.DRAFT)
    # The public web link and QR code carry this, never the id: links on posters cannot be
    # walked to find other teams' surveys.
    link_token = fields.CharField(max_length=40, unique=True)
    # The template it was started from, if any (domain/surveys.TEMPLATES).
    template_key = fields.CharField(max_length=40, null=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="surveys_created", null=True, on_delete=fields.SET_NULL
    )
    opened_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "survey"
        unique_together = (("team", "title"),)
        ordering = ["title"]


class SurveyQuestion(TimestampedModel):
    survey_id: int

    survey: fields.ForeignKeyRelation[Survey] = fields.ForeignKeyField(
        "models.Survey", related_name="questions", on_delete=fields.CASCADE
    )
    position = fields.SmallIntField()
    kind = fields.CharEnumField(QuestionKind, max_length=8)
    prompt = fields.CharField(max_length=300)
    # CHOICE only: the choices, in order.
    choices: Any = fields.JSONField(null=True)

    class Meta:
        table = "survey_question"
        unique_together = (("survey", "position"),)
        ordering = ["position"]


class SurveyResponse(TimestampedModel):
    """One person's answers. Anonymous unless they chose to leave contact details, which are
    encrypted (coprod.crypto) because a name beside free text about care is sensitive."""

    organisation_id: int
    survey_id: int
    team_id: int
    entered_by_id: int | None
    reviewed_by_id: int | None

    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="survey_responses", on_delete=fields.CASCADE
    )
    survey: fields.ForeignKeyRelation[Survey] = fields.ForeignKeyField(
        "models.Survey", related_name="responses", on_delete=fields.CASCADE
    )
    # Copied from the survey so a team's counts read one table.
    team: fields.ForeignKeyRelation[Team] = fields.ForeignKeyField(
        "models.Team", related_name="survey_responses", on_delete=fields.CASCADE
    )
    audience = fields.CharEnumField(Audience, max_length=16)
    # Empty when the survey asked and the person did not say.
    stage = fields.CharEnumField(JourneyStage, max_length=8, null=True)
    source = fields.CharEnumField(ResponseSource, max_length=8)
    entered_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="responses_entered", null=True, on_delete=fields.SET_NULL
    )
    received_at = fields.DatetimeField()
    # The London date it was given (a paper form's date, as typed): what periods count by.
    received_on = fields.DateField()
    contact_encrypted = fields.TextField(null=True)
    # The feedback champion has read it: "new feedback" is what has no reviewed_at.
    reviewed_at = fields.DatetimeField(null=True)
    reviewed_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="responses_reviewed", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "survey_response"
        indexes = (("team_id", "received_on"), ("organisation_id", "received_on"))
        ordering = ["-received_at", "-id"]


class SurveyAnswer(TimestampedModel):
    response_id: int
    question_id: int

    response: fields.ForeignKeyRelation[SurveyResponse] = fields.ForeignKeyField(
        "models.SurveyResponse", related_name="answers", on_delete=fields.CASCADE
    )
    question: fields.ForeignKeyRelation[SurveyQuestion] = fields.ForeignKeyField(
        "models.SurveyQuestion", related_name="answers", on_delete=fields.CASCADE
    )
    choice = fields.CharField(max_length=200, null=True)
    rating = fields.SmallIntField(null=True)
    text = fields.TextField(null=True)

    class Meta:
        table = "survey_answer"
        unique_together = (("response", "question"),)


class FeedbackTheme(TimestampedModel):
    """A theme the feedback champion tags answers with, e.g. "waiting times"."""

    organisation_id: int

    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="feedback_themes", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=100)

    class Meta:
        table = "feedback_theme"
        unique_together = (("organisation", "name"),)
        ordering = ["name"]


class ResponseTheme(TimestampedModel):
    response_id: int
    theme_id: int

    response: fields.ForeignKeyRelation[SurveyResponse] = fields.ForeignKeyField(
        "models.SurveyResponse", related_name="themes", on_delete=fields.CASCADE
    )
    theme: fields.ForeignKeyRelation[FeedbackTheme] = fields.ForeignKeyField(
        "models.FeedbackTheme", related_name="responses", on_delete=fields.CASCADE
    )

    class Meta:
        table = "response_theme"
        unique_together = (("response", "theme"),)


class ActionStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NOT_POSSIBLE = "not_possible"  # with the reason, which the board shows


class FeedbackAction(TimestampedModel):
    """A "You said, we did" action: what people said, what the team is doing about it, who owns
    it and how far it has got. The public board shows only the words, the status and dates."""

    organisation_id: int
    team_id: int
    owner_id: int | None

    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="feedback_actions", on_delete=fields.CASCADE
    )
    team: fields.ForeignKeyRelation[Team] = fields.ForeignKeyField(
        "models.Team", related_name="feedback_actions", on_delete=fields.CASCADE
    )
    you_said = fields.TextField()
    we_did = fields.TextField()
    owner: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="feedback_actions_owned", null=True, on_delete=fields.SET_NULL
    )
    status = fields.CharEnumField(ActionStatus, max_length=12, default=ActionStatus.PLANNED)
    not_possible_reason = fields.TextField(null=True)
    # Shown on the team's public board and poster.
    on_board = fields.BooleanField(default=True)
    done_on = fields.DateField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "feedback_action"
        indexes = (("team_id", "status"), ("organisation_id", "status"))
        ordering = ["-updated_at", "-id"]


class ActionActivity(TimestampedModel):
    action_id: int
    activity_id: int

    action: fields.ForeignKeyRelation[FeedbackAction] = fields.ForeignKeyField(
        "models.FeedbackAction", related_name="activity_links", on_delete=fields.CASCADE
    )
    activity: fields.ForeignKeyRelation[Activity] = fields.ForeignKeyField(
        "models.Activity", related_name="action_links", on_delete=fields.CASCADE
    )

    class Meta:
        table = "action_activity"
        unique_together = (("action", "activity"),)


class ActionProject(TimestampedModel):
    action_id: int
    project_id: int

    action: fields.ForeignKeyRelation[FeedbackAction] = fields.ForeignKeyField(
        "models.FeedbackAction", related_name="project_links", on_delete=fields.CASCADE
    )
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="action_links", on_delete=fields.CASCADE
    )

    class Meta:
        table = "action_project"
        unique_together = (("action", "project"),)


class ActionResponse(TimestampedModel):
    """Survey feedback an action answers."""

    action_id: int
    response_id: int

    action: fields.ForeignKeyRelation[FeedbackAction] = fields.ForeignKeyField(
        "models.FeedbackAction", related_name="response_links", on_delete=fields.CASCADE
    )
    response: fields.ForeignKeyRelation[SurveyResponse] = fields.ForeignKeyField(
        "models.SurveyResponse", related_name="action_links", on_delete=fields.CASCADE
    )

    class Meta:
        table = "action_response"
        unique_together = (("action", "response"),)


class ActionActivityFeedback(TimestampedModel):
    """A representative's feedback on an activity that an action answers: they are told when
    it is done."""

    action_id: int
    feedback_id: int

    action: fields.ForeignKeyRelation[FeedbackAction] = fields.ForeignKeyField(
        "models.FeedbackAction", related_name="feedback_links", on_delete=fields.CASCADE
    )
    feedback: fields.ForeignKeyRelation[ActivityFeedback] = fields.ForeignKeyField(
        "models.ActivityFeedback", related_name="action_links", on_delete=fields.CASCADE
    )

    class Meta:
        table = "action_activity_feedback"
        unique_together = (("action", "feedback"),)


class Agreement(StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class ActivityFeedback(TimestampedModel):
    """How an attended activity went for one representative: once per booking."""

    organisation_id: int
    activity_id: int
    representative_id: int
    booking_id: int
    reviewed_by_id: int | None
    entered_by_id: int | None

    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="activity_feedback", on_delete=fields.CASCADE
    )
    activity: fields.ForeignKeyRelation[Activity] = fields.ForeignKeyField(
        "models.Activity", related_name="feedback", on_delete=fields.CASCADE
    )
    representative: fields.ForeignKeyRelation[Representative] = fields.ForeignKeyField(
        "models.Representative", related_name="activity_feedback", on_delete=fields.CASCADE
    )
    booking: fields.OneToOneRelation[Booking] = fields.OneToOneField(
        "models.Booking", related_name="feedback", on_delete=fields.CASCADE
    )
    rating = fields.SmallIntField()  # how it went, 1 (badly) to 5 (very well)
    listened_to = fields.CharEnumField(Agreement, max_length=8)  # the respect agreement
    # Empty when they had no access needs for it.
    access_met = fields.CharEnumField(Agreement, max_length=8, null=True)
    comments = fields.TextField(null=True)
    # A lead who recorded it for them (after a phone call, say); empty when they gave it.
    entered_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User",
        related_name="activity_feedback_entered",
        null=True,
        on_delete=fields.SET_NULL,
    )
    submitted_at = fields.DatetimeField()
    reviewed_at = fields.DatetimeField(null=True)
    reviewed_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User",
        related_name="activity_feedback_reviewed",
        null=True,
        on_delete=fields.SET_NULL,
    )

    class Meta:
        table = "activity_feedback"
        indexes = (("organisation_id", "submitted_at"), ("activity_id",))


class StandardStatus(StrEnum):
    MET = "met"
    PARTLY_MET = "partly_met"
    NOT_MET = "not_met"


class StandardReview(TimestampedModel):
    """A team's mark against one standard (domain/standards.py holds the standards themselves,
    by edition and number)."""

    organisation_id: int
    team_id: int
    updated_by_id: int | None

    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="standard_reviews", on_delete=fields.CASCADE
    )
    team: fields.ForeignKeyRelation[Team] = fields.ForeignKeyField(
        "models.Team", related_name="standard_reviews", on_delete=fields.CASCADE
    )
    edition = fields.CharField(max_length=20)
    number = fields.SmallIntField()
    status = fields.CharEnumField(StandardStatus, max_length=12)
    note = fields.TextField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)
    updated_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="standard_reviews", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "standard_review"
        unique_together = (("team", "edition", "number"),)


class EvidenceKind(StrEnum):
    ACTIVITY = "activity"
    ACTION = "action"  # a "You said, we did" action
    SURVEY = "survey"  # a survey, with its counts
    NOTE = "note"


class StandardEvidence(TimestampedModel):
    """One piece of evidence for a team's standard: exactly one of activity, action, survey or
    note, by kind."""

    review_id: int
    activity_id: int | None
    action_id: int | None
    survey_id: int | None
    added_by_id: int | None

    review: fields.ForeignKeyRelation[StandardReview] = fields.ForeignKeyField(
        "models.StandardReview", related_name="evidence", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(EvidenceKind, max_length=10)
    activity: fields.ForeignKeyNullableRelation[Activity] = fields.ForeignKeyField(
        "models.Activity", related_name="standard_evidence", null=True, on_delete=fields.CASCADE
    )
    action: fields.ForeignKeyNullableRelation[FeedbackAction] = fields.ForeignKeyField(
        "models.FeedbackAction",
        related_name="standard_evidence",
        null=True,
        on_delete=fields.CASCADE,
    )
    survey: fields.ForeignKeyNullableRelation[Survey] = fields.ForeignKeyField(
        "models.Survey", related_name="standard_evidence", null=True, on_delete=fields.CASCADE
    )
    note = fields.TextField(null=True)
    added_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="standard_evidence_added", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "standard_evidence"
        ordering = ["id"]
