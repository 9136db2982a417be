"""The JSON API. Importing the handler modules registers their operations."""

from coprod.web.api import (
    actions,  # noqa: F401
    activities,  # noqa: F401
    activity_feedback,  # noqa: F401
    bookings,  # noqa: F401
    claims,  # noqa: F401
    contracts,  # noqa: F401
    core,  # noqa: F401
    courses,  # noqa: F401
    earnings,  # noqa: F401
    expenses,  # noqa: F401
    interests,  # noqa: F401
    messages,  # noqa: F401
    networks,  # noqa: F401
    notify,  # noqa: F401
    opportunities,  # noqa: F401
    outreach,  # noqa: F401
    payouts,  # noqa: F401
    payroll,  # noqa: F401
    polls,  # noqa: F401
    projects,  # noqa: F401
    reconciliation,  # noqa: F401
    recruitment,  # noqa: F401
    reports,  # noqa: F401
    representatives,  # noqa: F401
    standards,  # noqa: F401
    surveys,  # noqa: F401
    wellbeing,  # noqa: F401
)
from coprod.web.api.registry import api

__all__ = ["api"]
