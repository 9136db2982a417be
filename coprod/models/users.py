"""People who sign in, their roles, and the records that sign-in needs."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields

from coprod.models.base import TimestampedModel

if TYPE_CHECKING:
    from coprod.models.org import Network, Organisation


class Role(StrEnum):
    INVOLVEMENT_LEAD = "involvement_lead"
    REPRESENTATIVE = "representative"
    FINANCE_OFFICER = "finance_officer"
    ORG_ADMIN = "org_admin"
    REPORTER = "reporter"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.INVOLVEMENT_LEAD: "Involvement lead",
    Role.REPRESENTATIVE: "Representative",
    Role.FINANCE_OFFICER: "Finance officer",
    Role.ORG_ADMIN: "Organisation administrator",
    Role.REPORTER: "Reporter",
}

STAFF_ROLES = frozenset(Role) - {Role.REPRESENTATIVE}


class NetworkRole(StrEnum):
    NETWORK_REPORTER = "network_reporter"
    # Invites organisations; sees the roll-up as a reporter does.
    NETWORK_ADMIN = "network_admin"


class User(TimestampedModel):
    # Lower-cased on the way in (services.people.normalise_email) so uniqueness is real. Empty
    # for a representative with only a mobile number, who signs in with a code sent by text.
    email = fields.CharField(max_length=254, unique=True, null=True)
    full_name = fields.CharField(max_length=200)
    # Staff only: the number invitations give representatives for their involvement lead.
    phone = fields.CharField(max_length=40, null=True)
    # Representatives sign in by emailed link only, so most have no password.
    password_hash = fields.CharField(max_length=255, null=True)
    is_active = fields.BooleanField(default=True)
    last_signed_in_at = fields.DatetimeField(null=True)

    class Meta:
        table = "user"
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def work_email(self) -> str:
        """The address of someone who holds a staff role. Staff are only ever made with an
        email address (services.people.create_user), and an account made for a mobile number
        cannot be found by email to be given a staff role, so only representatives lack one."""
        if self.email is None:
            raise ValueError(f"user {self.id} has no email address, so cannot hold a staff role")
        return self.email


class Membership(TimestampedModel):
    """One role a user holds in one organisation."""

    user_id: int
    organisation_id: int

    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="memberships", on_delete=fields.CASCADE
    )
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="memberships", on_delete=fields.CASCADE
    )
    role = fields.CharEnumField(Role, max_length=32)

    class Meta:
        table = "membership"
        unique_together = (("user", "organisation", "role"),)


class NetworkMember(TimestampedModel):
    """The role a user holds on a network (network reporters see roll-ups, never personal data)."""

    network_id: int
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="network_roles", on_delete=fields.CASCADE
    )
    network: fields.ForeignKeyRelation[Network] = fields.ForeignKeyField(
        "models.Network", related_name="members", on_delete=fields.CASCADE
    )
    role = fields.CharEnumField(NetworkRole, max_length=32)

    class Meta:
        table = "network_member"
        unique_together = (("user", "network", "role"),)


class LinkPurpose(StrEnum):
    SIGN_IN = "sign_in"
    PASSWORD_RESET = "password_reset"


class EmailLink(TimestampedModel):
    """A single-use link sent by email. Only a hash of the secret is kept."""

    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="email_links", on_delete=fields.CASCADE
    )
    purpose = fields.CharEnumField(LinkPurpose, max_length=20)
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "email_link"


class Session(TimestampedModel):
    """A signed-in browser. The cookie holds a secret and the row holds only its hash."""

    user_id: int
    organisation_id: int | None

    key_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sessions", on_delete=fields.CASCADE
    )
    organisation: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="sessions", null=True, on_delete=fields.CASCADE
    )
    expires_at = fields.DatetimeField(db_index=True)
    last_seen_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "session"


class SignInKind(StrEnum):
    PASSWORD = "password"
    LINK = "link"  # asking for a sign-in or password reset link
    CODE = "code"  # asking for a sign-in code by text


class SignInAttempt(TimestampedModel):
    """Kept for throttling, per account and per address, over a sliding window. Password tries
    and link requests are counted apart, so asking for links never blocks signing in."""

    kind = fields.CharEnumField(SignInKind, max_length=10, default=SignInKind.PASSWORD)
    account = fields.CharField(max_length=254, db_index=True)
    address = fields.CharField(max_length=64, db_index=True)
    # None while the password is being checked, so two tries at once both count.
    succeeded = fields.BooleanField(null=True, default=None)

    class Meta:
        table = "sign_in_attempt"


class SignInCode(TimestampedModel):
    """A six-digit code sent by text, and the page it is entered on. A request for a number with
    no account (or one shared by two people) makes a row too, with no user and no text, so the
    page behaves the same and nobody learns which numbers have accounts. Only an HMAC of the
    code is kept: a stolen database does not give six digits away to a quick search."""

    user_id: int | None

    # The secret in the address of the page the code is entered on (hashed, as links are).
    challenge_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sign_in_codes", null=True, on_delete=fields.CASCADE
    )
    code_hash = fields.CharField(max_length=64)
    expires_at = fields.DatetimeField()
    # Every try counts, the right one included, so guesses made at once cannot exceed the limit.
    tries = fields.IntField(default=0)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sign_in_code"


class ApiToken(TimestampedModel):
    """An organisation-scoped token for the JSON API, stored as a hash and shown once."""

    organisation_id: int
    created_by_id: int

    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="api_tokens", on_delete=fields.CASCADE
    )
    created_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="api_tokens", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=100)
    role = fields.CharEnumField(Role, max_length=32)
    prefix = fields.CharField(max_length=12)
    token_hash = fields.CharField(max_length=64, unique=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"
        ordering = ["-created_at"]
