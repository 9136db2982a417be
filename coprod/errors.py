"""Errors that services raise and both web layers turn into responses."""

from __future__ import annotations


class NotFound(Exception):
    """No such record, or not one this person may see (we never say which)."""


class Conflict(Exception):
    """The request breaks a rule about the current state, e.g. a booking would overlap."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Forbidden(Exception):
    """Signed in, but this role may not do this."""
