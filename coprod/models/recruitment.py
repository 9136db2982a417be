"""Recruitment, welcome and training: opportunities, people's interest and its path to becoming
a representative, outreach, and courses with the formats people take them in."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields

from coprod.domain import notifications
from coprod.models.base import TimestampedModel
from coprod.models.people import EqualityAnswers, RepresentativeType

if TYPE_CHECKING:
    from coprod.models.activities import Booking
    from coprod.models.org import Organisation, Team
    from coprod.models.people import Representative
    from coprod.models.users import User


class Opportunity(TimestampedModel):
    """A role the organisation is recruiting representatives into, such as a staff interview
    panel or an advisory group. Public while published, not withdrawn and not past closing."""

    organisation_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="opportunities", on_delete=fields.CASCADE
    )
    title = fields.CharField(max_length=200)
    # The kind of activity the role mostly is (activities.Kind), so courses it needs are known.
    activity_kind = fields.CharField(max_length=20, null=True)
    involves = fields.TextField()
    # The role in easy read (short sentences, everyday words) for the easy-read print.
    easy_read = fields.TextField(null=True)
    time_commitment = fields.TextField()
    pay = fields.TextField()
    # Ways to take part: in_person, video, phone (people.Mode).
    modes: Any = fields.JSONField(default=list)
    accessibility = fields.TextField()
    closes_on = fields.DateField(null=True)
    published_at = fields.DatetimeField(null=True)
    withdrawn_at = fields.DatetimeField(null=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="opportunities_created", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "opportunity"
        ordering = ["closes_on", "title", "id"]


class OutreachKind(StrEnum):
    COMMUNITY_GROUP = "community_group"
    FAITH_GROUP = "faith_group"
    COMMUNITY_CENTRE = "community_centre"
    SCHOOL_COLLEGE = "school_college"
    YOUTH_GROUP = "youth_group"
    ONLINE = "online"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "community_group": "Community group",
            "faith_group": "Faith group",
            "community_centre": "Community centre",
            "school_college": "School or college",
            "youth_group": "Youth group",
            "online": "Online",
            "other": "Other",
        }[self.value]


class Outreach(TimestampedModel):
    """A visit or post that told people about involvement, to reach those who do not use
    services yet and groups that are under-represented."""

    organisation_id: int
    team_id: int | None
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="outreach", on_delete=fields.CASCADE
    )
    team: fields.ForeignKeyNullableRelation[Team] = fields.ForeignKeyField(
        "models.Team", related_name="outreach", null=True, on_delete=fields.SET_NULL
    )
    kind = fields.CharEnumField(OutreachKind, max_length=20)
    held_on = fields.DateField()
    place = fields.CharField(max_length=200)
    people_reached = fields.IntField()
    note = fields.TextField(null=True)
    recorded_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="outreach_recorded", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "outreach"
        ordering = ["-held_on", "-id"]
        indexes = (("organisation_id", "held_on"),)


class InterestStatus(StrEnum):
    NEW = "new"
    CHATTED = "chatted"
    WELCOME_BOOKED = "welcome_booked"
    READY = "ready"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {
            "new": "New",
            "chatted": "Chatted",
            "welcome_booked": "Welcome session booked",
            "ready": "Ready",
            "closed": "Closed",
        }[self.value]


class InterestSource(StrEnum):
    """How the interest reached us: the public form, or a lead writing it down for someone."""

    ONLINE = "online"
    PHONE = "phone"
    EMAIL = "email"
    LETTER = "letter"
    IN_PERSON = "in_person"

    @property
    def label(self) -> str:
        return {
            "online": "Online form",
            "phone": "By phone",
            "email": "By email",
            "letter": "By letter",
            "in_person": "In person",
        }[self.value]


class CloseReason(StrEnum):
    NOT_RIGHT_TIME = "not_right_time"
    NO_SUITABLE_ROLE = "no_suitable_role"
    SUPPORT_ELSEWHERE = "support_elsewhere"
    CHOSE_NOT_TO = "chose_not_to"
    COULD_NOT_CONTACT = "could_not_contact"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "not_right_time": "Not the right time for them",
            "no_suitable_role": "No role that suits them at the moment",
            "support_elsewhere": "Better supported by another service",
            "chose_not_to": "They decided not to go ahead",
            "could_not_contact": "We could not get in touch",
            "other": "Another reason",
        }[self.value]


class Interest(TimestampedModel):
    """Someone said they would like to get involved. A lead moves it through new, chatted,
    welcome session booked and ready (which makes the representative), or closes it kindly.

    What the lead learns on the way (access needs, consent) is kept here, so that "ready" makes
    the representative from it without anything being typed twice.
    """

    organisation_id: int
    opportunity_id: int | None
    outreach_id: int | None
    representative_id: int | None
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="interests", on_delete=fields.CASCADE
    )
    opportunity: fields.ForeignKeyNullableRelation[Opportunity] = fields.ForeignKeyField(
        "models.Opportunity", related_name="interests", null=True, on_delete=fields.SET_NULL
    )
    # Where they heard about us, when a lead knows it.
    outreach: fields.ForeignKeyNullableRelation[Outreach] = fields.ForeignKeyField(
        "models.Outreach", related_name="interests", null=True, on_delete=fields.SET_NULL
    )
    source = fields.CharEnumField(InterestSource, max_length=10)
    # The lead who wrote it down for someone who phoned or wrote in; None from the public form.
    entered_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="interests_entered", null=True, on_delete=fields.SET_NULL
    )
    full_name = fields.CharField(max_length=200)
    email = fields.CharField(max_length=254, null=True)
    phone = fields.CharField(max_length=40, null=True)
    mobile = fields.CharField(max_length=40, null=True)
    postal_address = fields.TextField(null=True)
    # The ways they would like us to get in touch, in their order (people.ContactChannel).
    contact_channels: Any = fields.JSONField(default=list)
    best_time = fields.CharField(max_length=200, null=True)
    representative_type = fields.CharEnumField(RepresentativeType, max_length=10, null=True)
    message = fields.TextField(null=True)
    # Interest is never refused: what looks like spam is held for a lead to look at, not lost.
    held_as_spam = fields.BooleanField(default=False)
    held_reason = fields.CharField(max_length=200, null=True)
    status = fields.CharEnumField(InterestStatus, max_length=16, default=InterestStatus.NEW)
    chatted_at = fields.DatetimeField(null=True)
    welcome_at = fields.DatetimeField(null=True)  # when the welcome session is
    welcome_mode = fields.CharField(max_length=10, null=True)
    welcome_booked_at = fields.DatetimeField(null=True)
    ready_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    close_reason = fields.CharEnumField(CloseReason, max_length=20, null=True)
    close_note = fields.TextField(null=True)
    notes = fields.TextField(null=True)
    # Access needs, as the representative's profile keeps them.
    formats: Any = fields.JSONField(default=list)
    translated_language = fields.CharField(max_length=100, null=True)
    interpreter_language = fields.CharField(max_length=100, null=True)
    needs_transport = fields.BooleanField(default=False)
    other_needs = fields.TextField(null=True)
    # Consent given during the chat, carried onto the representative at "ready".
    consent_contact_on = fields.DateField(null=True)
    consent_equality_on = fields.DateField(null=True)
    # The secret that lets someone who used the public form answer the optional equality
    # questions just after; only its hash is kept.
    equality_token_hash = fields.CharField(max_length=64, null=True, unique=True)
    # An HMAC of the address a public form came from, to notice a flood of forms from one place
    # without keeping anyone's address.
    sender_hash = fields.CharField(max_length=64, null=True)
    representative: fields.ForeignKeyNullableRelation[Representative] = fields.ForeignKeyField(
        "models.Representative", related_name="interests", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "interest"
        ordering = ["-created_at", "-id"]
        indexes = (
            ("organisation_id", "status"),
            ("organisation_id", "created_at"),
            ("sender_hash", "created_at"),
        )

    @property
    def addresses(self) -> notifications.Addresses:
        return notifications.Addresses(
            email=bool(self.email), mobile=bool(self.mobile), postal=bool(self.postal_address)
        )


class InterestEquality(TimestampedModel, EqualityAnswers):
    """Voluntary equality answers from someone who expressed interest, for the reach report.
    Copied to their EqualityResponse when they become a representative."""

    interest_id: int
    interest: fields.OneToOneRelation[Interest] = fields.OneToOneField(
        "models.Interest", related_name="equality", on_delete=fields.CASCADE
    )

    class Meta:
        table = "interest_equality"


class Course(TimestampedModel):
    """Training for representatives (induction, confidence and assertiveness, recruitment-panel
    training and any the lead adds), with the formats it can be taken in."""

    organisation_id: int
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="courses", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    description = fields.TextField(null=True)
    # Formats besides standard print (people.Format, without bsl): braille, audio, easy_read,
    # large_print, translated, interpreter.
    formats: Any = fields.JSONField(default=list)
    # The languages it is translated into, when "translated" is among the formats.
    languages: Any = fields.JSONField(default=list)
    # The kinds of activity (activities.Kind) someone should have done this course before.
    required_for: Any = fields.JSONField(default=list)
    archived_at = fields.DatetimeField(null=True)

    class Meta:
        table = "course"
        ordering = ["name"]
        unique_together = (("organisation", "name"),)


class CoursePlace(TimestampedModel):
    """The format someone takes a course session in: chosen from their access needs when they
    are booked on, changeable by the lead."""

    booking_id: int
    booking: fields.OneToOneRelation[Booking] = fields.OneToOneField(
        "models.Booking", related_name="course_place", on_delete=fields.CASCADE
    )
    format = fields.CharField(max_length=20)  # "standard" or a course format
    language = fields.CharField(max_length=100, null=True)

    class Meta:
        table = "course_place"


class CourseCompletion(TimestampedModel):
    """A course someone has done: written when attendance at a session is recorded, or by a
    lead for a course done before the organisation used Coprod."""

    organisation_id: int
    representative_id: int
    course_id: int
    booking_id: int | None
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="course_completions", on_delete=fields.CASCADE
    )
    representative: fields.ForeignKeyRelation[Representative] = fields.ForeignKeyField(
        "models.Representative", related_name="course_completions", on_delete=fields.CASCADE
    )
    course: fields.ForeignKeyRelation[Course] = fields.ForeignKeyField(
        "models.Course", related_name="completions", on_delete=fields.CASCADE
    )
    completed_on = fields.DateField()
    format = fields.CharField(max_length=20)
    language = fields.CharField(max_length=100, null=True)
    booking: fields.OneToOneNullableRelation[Booking] = fields.OneToOneField(
        "models.Booking", related_name="course_completion", null=True, on_delete=fields.SET_NULL
    )
    recorded_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User",
        related_name="course_completions_recorded",
        null=True,
        on_delete=fields.SET_NULL,
    )

    class Meta:
        table = "course_completion"
        ordering = ["-completed_on", "-id"]
        unique_together = (("representative", "course", "completed_on"),)
        indexes = (("organisation_id", "completed_on"),)
