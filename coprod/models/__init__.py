"""All models, in one Tortoise app called "models"."""

from coprod.models.audit import AuditEvent
from coprod.models.org import Network, NetworkMembership, Organisation, Team
from coprod.models.outbox import OutboxMessage, OutboxStatus
from coprod.models.users import (
    ROLE_LABELS,
    STAFF_ROLES,
    ApiToken,
    EmailLink,
    LinkPurpose,
    Membership,
    NetworkMember,
    NetworkRole,
    Role,
    Session,
    SignInAttempt,
    User,
)

__all__ = [
    "ROLE_LABELS",
    "STAFF_ROLES",
    "ApiToken",
    "AuditEvent",
    "EmailLink",
    "LinkPurpose",
    "Membership",
    "Network",
    "NetworkMember",
    "NetworkMembership",
    "NetworkRole",
    "Organisation",
    "OutboxMessage",
    "OutboxStatus",
    "Role",
    "Session",
    "SignInAttempt",
    "Team",
    "User",
]
