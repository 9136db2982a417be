"""Representatives (patients and carers with lived experience) and what is kept about them."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields

from coprod.domain import notifications
from coprod.domain.phone_numbers import normalise_mobile
from coprod.models.base import TimestampedModel

if TYPE_CHECKING:
    from coprod.models.org import Organisation, Team
    from coprod.models.users import User


class RepresentativeType(StrEnum):
    PATIENT = "patient"
    CARER = "carer"
    BOTH = "both"


class ContactChannel(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    TEXT = "text"
    POST = "post"


class Mode(StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"
    PHONE = "phone"


class Format(StrEnum):
    BRAILLE = "braille"
    AUDIO = "audio"
    EASY_READ = "easy_read"
    LARGE_PRINT = "large_print"
    TRANSLATED = "translated"
    INTERPRETER = "interpreter"
    BSL = "bsl"


class PaymentPreference(StrEnum):
    PAID = "paid"
    DECLINE = "decline"


class Representative(TimestampedModel):
    organisation_id: int
    user_id: int | None
    lead_id: int | None
    contracts: fields.ReverseRelation[Contract]
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="representatives", on_delete=fields.CASCADE
    )
    # Empty for someone who takes part only by phone or post: their lead acts for them.
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="representatives", null=True, on_delete=fields.SET_NULL
    )
    # The involvement lead who looks after this person (reminders go to them).
    lead: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="represented", null=True, on_delete=fields.SET_NULL
    )
    full_name = fields.CharField(max_length=200)
    representative_type = fields.CharEnumField(RepresentativeType, max_length=10)
    email = fields.CharField(max_length=254, null=True)
    phone = fields.CharField(max_length=40, null=True)
    mobile = fields.CharField(max_length=40, null=True)
    postal_address = fields.TextField(null=True)
    # Channels in the order the person prefers them, e.g. ["phone", "post"].
    contact_channels: Any = fields.JSONField(default=list)
    # How news about involvement reaches them (email, text or letter), from contact_channels and
    # the details they gave; None when the lead phones them. Kept by services.notifications.
    usual_channel = fields.CharField(max_length=10, null=True)
    # The mobile number as Notify gives a text's sender (447700900123), to match replies.
    mobile_normalised = fields.CharField(max_length=20, null=True, db_index=True)
    lived_experience_teams: fields.ManyToManyRelation[Team] = fields.ManyToManyField(
        "models.Team", related_name="representatives", through="representative_team"
    )
    formats: Any = fields.JSONField(default=list)
    translated_language = fields.CharField(max_length=100, null=True)
    interpreter_language = fields.CharField(max_length=100, null=True)
    needs_transport = fields.BooleanField(default=False)
    wants_tech_test = fields.BooleanField(default=False)
    other_needs = fields.TextField(null=True)
    preferred_modes: Any = fields.JSONField(default=list)
    # e.g. ["mon:morning", "fri:all_day"]
    unavailable: Any = fields.JSONField(default=list)
    unavailable_note = fields.TextField(null=True)
    payment_preference = fields.CharEnumField(
        PaymentPreference, max_length=10, default=PaymentPreference.PAID
    )
    break_until = fields.DateField(null=True)
    archived_at = fields.DatetimeField(null=True)
    # The secret in their calendar feed's address. Reset it to cut off an old subscription.
    calendar_token = fields.CharField(max_length=64, null=True, unique=True)
    # How they are paid: "stripe" (Stripe Connect Express) or "payroll" (the trust's payroll).
    payout_method = fields.CharField(max_length=10, null=True)
    payroll_reference = fields.CharField(max_length=50, null=True)
    # Encrypted (coprod.crypto), so the number is never readable in the database; pages and the
    # API show only the masked form kept beside it, and only the payroll file has it in full.
    national_insurance_encrypted = fields.TextField(null=True)
    national_insurance_masked = fields.CharField(max_length=20, null=True)
    stripe_account_id = fields.CharField(max_length=100, null=True, unique=True)
    stripe_payouts_enabled = fields.BooleanField(default=False)
    # Stripe's `capabilities.transfers == "active"`: whether a transfer to them is accepted.
    stripe_transfers_active = fields.BooleanField(default=False)
    # A benefits earnings limit they asked us to watch: a configured code, or their own figure.
    earnings_limit_code = fields.CharField(max_length=50, null=True)
    earnings_limit_pence = fields.IntField(null=True)
    earnings_limit_period = fields.CharField(max_length=5, null=True)  # week | month

    class Meta:
        table = "representative"
        ordering = ["full_name"]
        unique_together = (("organisation", "user"),)

    def on_break(self, today: dt.date) -> bool:
        return self.break_until is not None and self.break_until >= today

    @property
    def addresses(self) -> notifications.Addresses:
        return notifications.Addresses(
            email=bool(self.email), mobile=bool(self.mobile), postal=bool(self.postal_address)
        )

    async def save(self, *args: Any, **kwargs: Any) -> None:
        # These follow from the person's choices and details, so they are worked out on every
        # save rather than by each caller that might change them.
        self.usual_channel = notifications.usual_channel(
            self.contact_channels or [], self.addresses
        )
        self.mobile_normalised = normalise_mobile(self.mobile)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = list(
                dict.fromkeys([*update_fields, "usual_channel", "mobile_normalised"])
            )
        await super().save(*args, **kwargs)

    @property
    def phone_only(self) -> bool:
        return self.user_id is None


class Contract(TimestampedModel):
    organisation_id: int
    representative_id: int
    predecessor_id: int | None
    catch_ups: fields.ReverseRelation[CatchUp]
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="contracts", on_delete=fields.CASCADE
    )
    representative: fields.ForeignKeyRelation[Representative] = fields.ForeignKeyField(
        "models.Representative", related_name="contracts", on_delete=fields.CASCADE
    )
    role_title = fields.CharField(max_length=100)
    starts_on = fields.DateField()
    ends_on = fields.DateField()
    ended_on = fields.DateField(null=True)
    end_reason = fields.TextField(null=True)
    predecessor: fields.ForeignKeyNullableRelation[Contract] = fields.ForeignKeyField(
        "models.Contract", related_name="successors", null=True, on_delete=fields.SET_NULL
    )
    # When the next catch-up falls due (None once none is left), kept by every write that
    # changes it (services/contracts.refresh_next_catch_ups), so the dashboard counts who is
    # due in one indexed query rather than recounting everyone's catch-ups on each view.
    next_catch_up_on = fields.DateField(null=True)

    class Meta:
        table = "contract"
        ordering = ["-starts_on"]
        indexes = (("organisation_id", "next_catch_up_on"),)


class ConsentPurpose(StrEnum):
    CONTACT = "contact"
    HEALTH = "health"
    EQUALITY = "equality"

    @property
    def label(self) -> str:
        return {
            "contact": "Being contacted about involvement",
            "health": "Holding health information for the six-week check",
            "equality": "Equality monitoring",
        }[self.value]


class Consent(TimestampedModel):
    representative_id: int
    representative: fields.ForeignKeyRelation[Representative] = fields.ForeignKeyField(
        "models.Representative", related_name="consents", on_delete=fields.CASCADE
    )
    purpose = fields.CharEnumField(ConsentPurpose, max_length=10)
    given_on = fields.DateField()
    review_on = fields.DateField()
    withdrawn_on = fields.DateField(null=True)
    recorded_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="consents_recorded", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "consent"
        ordering = ["purpose", "-given_on"]
        # Every message to a representative first asks whether their consent is in force.
        indexes = (("representative_id", "purpose"),)


class AcuteEpisode(TimestampedModel):
    """Special-category health data. Dates, crisis-team care and the note are one encrypted
    payload, so nothing readable about someone's health sits in the database."""

    representative: fields.ForeignKeyRelation[Representative] = fields.ForeignKeyField(
        "models.Representative", related_name="episodes", on_delete=fields.CASCADE
    )
    representative_id: int
    payload = fields.TextField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "acute_episode"


class CatchUp(TimestampedModel):
    """A twice-yearly half-day catch-up that took place under a contract."""

    contract_id: int

    contract: fields.ForeignKeyRelation[Contract] = fields.ForeignKeyField(
        "models.Contract", related_name="catch_ups", on_delete=fields.CASCADE
    )
    held_on = fields.DateField()
    note = fields.TextField(null=True)

    class Meta:
        table = "catch_up"
        ordering = ["-held_on"]


class EqualityAnswers:
    """The answers to the equality monitoring questions (domain.equality.QUESTIONS, one column
    each). Every answer may be "prefer_not_to_say"; an empty answer means the question was
    skipped."""

    age_band = fields.CharField(max_length=40, null=True)
    disability = fields.CharField(max_length=40, null=True)
    gender_reassignment = fields.CharField(max_length=40, null=True)
    marriage_civil_partnership = fields.CharField(max_length=40, null=True)
    pregnancy_maternity = fields.CharField(max_length=40, null=True)
    ethnicity = fields.CharField(max_length=80, null=True)
    religion = fields.CharField(max_length=40, null=True)
    sex = fields.CharField(max_length=40, null=True)
    sexual_orientation = fields.CharField(max_length=40, null=True)
    carer_status = fields.CharField(max_length=40, null=True)
    updated_at = fields.DatetimeField(auto_now=True)


class EqualityResponse(TimestampedModel, EqualityAnswers):
    """Voluntary equality monitoring, kept apart from the profile and used only in aggregate."""

    representative: fields.OneToOneRelation[Representative] = fields.OneToOneField(
        "models.Representative", related_name="equality", on_delete=fields.CASCADE
    )

    class Meta:
        table = "equality_response"
