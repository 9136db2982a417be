"""Projects, activities, finding a time, bookings, wellbeing checks and access arrangements."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields

from coprod.models.base import TimestampedModel

if TYPE_CHECKING:
    from coprod.models.org import Organisation, Team
    from coprod.models.people import Representative
    from coprod.models.recruitment import Course
    from coprod.models.users import User


class Category(StrEnum):
    """The four co-production activities (QN-CRHTT report, section 4)."""

    CO_DESIGN = "co_design"
    CO_DECISION = "co_decision"
    CO_DELIVERY = "co_delivery"
    CO_EVALUATION = "co_evaluation"

    @property
    def label(self) -> str:
        return {
            "co_design": "Co-design: planning services",
            "co_decision": "Co-decision: allocating resources",
            "co_delivery": "Co-delivery: delivering services",
            "co_evaluation": "Co-evaluation: evaluating services",
        }[self.value]


class Kind(StrEnum):
    MEETING = "meeting"
    INTERVIEW_PANEL = "interview_panel"
    TRAINING_DELIVERY = "training_delivery"
    PEER_REVIEW = "peer_review"
    CATCH_UP = "catch_up"
    TRAINING_RECEIVED = "training_received"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def needs_category(self) -> bool:
        return self not in (Kind.CATCH_UP, Kind.TRAINING_RECEIVED)


class ActivityStatus(StrEnum):
    PLANNING = "planning"  # finding a time
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class BookingStatus(StrEnum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    NEEDS_WELLBEING_CHECK = "needs_wellbeing_check"
    CONFIRMED = "confirmed"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {
            "needs_wellbeing_check": "Wellbeing check needed",
            "no_show": "Did not attend",
        }.get(self.value, self.value.capitalize())


# Bookings that hold a place and a slot in the person's diary.
HOLDING = (BookingStatus.NEEDS_WELLBEING_CHECK, BookingStatus.CONFIRMED)


class WellbeingOutcome(StrEnum):
    PROCEED = "proceed"
    POSTPONE = "postpone"
    ADJUST_ROLE = "adjust_role"
    NOT_THIS_TIME = "not_this_time"

    @property
    def label(self) -> str:
        return {
            "proceed": "Proceed",
            "postpone": "Postpone",
            "adjust_role": "Adjust the role",
            "not_this_time": "Not this time",
        }[self.value]


class Project(TimestampedModel):
    organisation_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="projects", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    description = fields.TextField(null=True)
    respect_agreement = fields.TextField(null=True)
    respect_agreement_required = fields.BooleanField(default=False)

    class Meta:
        table = "project"
        ordering = ["name"]
        unique_together = (("organisation", "name"),)


class RespectAcknowledgement(TimestampedModel):
    """Someone (a representative, or a member of staff) agreed to a project's respect agreement."""

    representative_id: int | None
    user_id: int | None
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="acknowledgements", on_delete=fields.CASCADE
    )
    representative: fields.ForeignKeyNullableRelation[Representative] = fields.ForeignKeyField(
        "models.Representative",
        related_name="acknowledgements",
        null=True,
        on_delete=fields.CASCADE,
    )
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="acknowledgements", null=True, on_delete=fields.CASCADE
    )

    class Meta:
        table = "respect_acknowledgement"
        unique_together = (("project", "representative"), ("project", "user"))


class Activity(TimestampedModel):
    organisation_id: int
    project_id: int | None
    team_id: int | None
    lead_id: int | None
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="activities", on_delete=fields.CASCADE
    )
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="activities", null=True, on_delete=fields.SET_NULL
    )
    team: fields.ForeignKeyNullableRelation[Team] = fields.ForeignKeyField(
        "models.Team", related_name="activities", null=True, on_delete=fields.SET_NULL
    )
    # The organiser: invitations come from them and questions go to them.
    lead: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="activities_led", null=True, on_delete=fields.SET_NULL
    )
    title = fields.CharField(max_length=200)
    description = fields.TextField(null=True)
    category = fields.CharEnumField(Category, max_length=20, null=True)
    kind = fields.CharEnumField(Kind, max_length=20)
    status = fields.CharEnumField(ActivityStatus, max_length=12, default=ActivityStatus.PLANNING)
    starts_at = fields.DatetimeField(null=True, db_index=True)
    duration_minutes = fields.IntField()
    preparation_minutes = fields.IntField(default=0)
    capacity = fields.IntField()
    poll_deadline = fields.DatetimeField(null=True)
    in_person = fields.BooleanField(default=False)
    venue = fields.CharField(max_length=200, null=True)
    address = fields.TextField(null=True)
    step_free = fields.BooleanField(default=False)
    transport_offered = fields.BooleanField(default=False)
    video = fields.BooleanField(default=False)
    video_link = fields.CharField(max_length=500, null=True)
    phone = fields.BooleanField(default=False)
    dial_in = fields.CharField(max_length=40, null=True)
    dial_in_pin = fields.CharField(max_length=20, null=True)
    # A session of a course (kind training_received): booking someone on chooses their format.
    course_id: int | None
    course: fields.ForeignKeyNullableRelation[Course] = fields.ForeignKeyField(
        "models.Course", related_name="sessions", null=True, on_delete=fields.SET_NULL
    )
    # Who training delivered to staff was for, e.g. "Ward nurses" (kind training_delivery).
    audience = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "activity"
        ordering = ["starts_at", "id"]
        # An organisation's activities of one kind (training delivered, catch-ups) in a period:
        # reports read them without scanning every trust's activities.
        indexes = (("organisation_id", "kind", "starts_at"),)

    @property
    def modes(self) -> frozenset[str]:
        offered = {"in_person": self.in_person, "video": self.video, "phone": self.phone}
        return frozenset(mode for mode, on in offered.items() if on)


class TimeOption(TimestampedModel):
    activity_id: int
    activity: fields.ForeignKeyRelation[Activity] = fields.ForeignKeyField(
        "models.Activity", related_name="options", on_delete=fields.CASCADE
    )
    starts_at = fields.DatetimeField()

    class Meta:
        table = "time_option"
        ordering = ["starts_at"]
        unique_together = (("activity", "starts_at"),)


class Invitation(TimestampedModel):
    """Someone asked "when can you make it?" for an activity. The secret link lets them answer
    without signing in; only its hash is kept."""

    activity_id: int
    representative_id: int
    activity: fields.ForeignKeyRelation[Activity] = fields.ForeignKeyField(
        "models.Activity", related_name="invitations", on_delete=fields.CASCADE
    )
    representative: fields.ForeignKeyRelation[Representative] = fields.ForeignKeyField(
        "models.Representative", related_name="invitations", on_delete=fields.CASCADE
    )
    answers: fields.ReverseRelation[OptionAnswer]
    token_hash = fields.CharField(max_length=64, unique=True)
    mode = fields.CharField(max_length=10, null=True)
    answered_at = fields.DatetimeField(null=True)
    comment = fields.TextField(null=True)
    # The option ids a text invitation listed, in the order it numbered them from 1: a reply's
    # numbers keep meaning what the text said when times are added later. None if not texted.
    texted_option_ids: Any = fields.JSONField(null=True)

    class Meta:
        table = "invitation"
        unique_together = (("activity", "representative"),)


class OptionAnswer(TimestampedModel):
    invitation_id: int
    option_id: int
    invitation: fields.ForeignKeyRelation[Invitation] = fields.ForeignKeyField(
        "models.Invitation", related_name="answers", on_delete=fields.CASCADE
    )
    option: fields.ForeignKeyRelation[TimeOption] = fields.ForeignKeyField(
        "models.TimeOption", related_name="answers", on_delete=fields.CASCADE
    )
    answer = fields.CharField(max_length=12)

    class Meta:
        table = "option_answer"
        unique_together = (("invitation", "option"),)


class Booking(TimestampedModel):
    activity_id: int
    representative_id: int
    activity: fields.ForeignKeyRelation[Activity] = fields.ForeignKeyField(
        "models.Activity", related_name="bookings", on_delete=fields.CASCADE
    )
    representative: fields.ForeignKeyRelation[Representative] = fields.ForeignKeyField(
        "models.Representative", related_name="bookings", on_delete=fields.CASCADE
    )
    status = fields.CharEnumField(BookingStatus, max_length=24)
    mode = fields.CharField(max_length=10)
    # The calendar identity of this booking: the UID never changes, the sequence goes up with
    # every change that is sent out.
    uid = fields.CharField(max_length=100, unique=True)
    sequence = fields.IntField(default=0)
    starts_at = fields.DatetimeField(db_index=True)
    ends_at = fields.DatetimeField()
    confirmed_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    # Attendance, recorded by the lead: paid time is attended minutes plus preparation minutes.
    attended_minutes = fields.IntField(null=True)
    preparation_minutes = fields.IntField(null=True)
    attendance_recorded_at = fields.DatetimeField(null=True)

    class Meta:
        table = "booking"
        ordering = ["starts_at", "id"]
        # An activity's places and list, and a person's own bookings, are read on every
        # booking and on the busiest pages: without these each is a scan of every booking.
        # The first holds the person, so who attended is read from the index alone.
        indexes = (
            ("activity_id", "status", "representative_id"),
            ("representative_id", "starts_at"),
        )


class WellbeingCheck(TimestampedModel):
    """The conversation a lead had before someone took part soon after an acute episode.
    The note is health information, so it is encrypted like the episodes."""

    booking_id: int
    booking: fields.ForeignKeyRelation[Booking] = fields.ForeignKeyField(
        "models.Booking", related_name="wellbeing_checks", on_delete=fields.CASCADE
    )
    outcome = fields.CharEnumField(WellbeingOutcome, max_length=16)
    payload = fields.TextField()  # encrypted {"note", "representative_wish"}
    recorded_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="wellbeing_checks", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "wellbeing_check"


class AccessArrangement(TimestampedModel):
    booking_id: int
    booking: fields.ForeignKeyRelation[Booking] = fields.ForeignKeyField(
        "models.Booking", related_name="arrangements", on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=20)
    label = fields.CharField(max_length=200)
    due_on = fields.DateField()
    done_at = fields.DatetimeField(null=True)
    # Kept so reports can count "done on time" in SQL: done on or before the due day (London).
    done_on_time = fields.BooleanField(default=False)
    done_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="arrangements_done", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "access_arrangement"
        ordering = ["due_on", "id"]
        unique_together = (("booking", "kind"),)
