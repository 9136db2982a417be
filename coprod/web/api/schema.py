"""The vocabulary API operations are declared in: typed bodies, queries and replies.

Each operation names a `Body` (what it accepts), a `Query` (its query parameters) and a `Reply`
(what it answers), all pydantic models. The registry validates input against them, turns
pydantic's errors into the same plain-English, field-by-field messages the pages use, checks
every reply against its declaration before sending it, and writes the OpenAPI document from
the same classes, so the contract cannot drift from the code.

We chose pydantic over msgspec because it reports every field's error at once (msgspec stops
at the first), which is what a field-by-field error summary needs, and its JSON Schema is the
2020-12 dialect that OpenAPI 3.1 uses.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from typing import Annotated, Any, Generic, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, ValidationError
from pydantic.fields import FieldInfo

from coprod.validation import MAX_ID, FieldError

T = TypeVar("T")


class Body(BaseModel):
    """A request body. Fields it does not declare are refused, so a misspelt field name is
    reported rather than silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    def data(self) -> dict[str, Any]:
        """The fields the client sent, as JSON values, for a service to check its rules on
        (services take the same mapping from a page's form)."""
        return self.model_dump(mode="json", exclude_unset=True)


class Query(BaseModel):
    """Query parameters. Unknown ones are ignored, as browsers and proxies add their own."""

    model_config = ConfigDict(extra="ignore")


class Reply(BaseModel):
    """A reply. Every reply is checked against its declaration before it is sent, and a field
    the declaration lacks is an error, so the published schema is always what clients get."""

    model_config = ConfigDict(extra="forbid")


class NoBody(Body):
    """An action that takes no input (an empty JSON object, or no body at all)."""


# Ids and counts are stored in 32-bit columns in every database we run on.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Count = Annotated[int, Field(ge=0, le=MAX_ID)]
# A report's count of people, hidden where it could point to someone.
Hidden = Annotated[
    int | None, Field(description="null when suppressed: 1 to 4 could point to a person")
]
# Our datetimes are UTC: written with an explicit +00:00 offset, as Python writes them.
DateTime = Annotated[
    dt.datetime,
    PlainSerializer(lambda v: v.isoformat(), return_type=str, when_used="json"),
]


def text(max_length: int = 200, *, required: bool = True, **field: Any) -> Any:
    """A text field of at most `max_length` characters, which must not be blank unless it is
    not `required` (the service checks what it means)."""
    return Field(min_length=1 if required else None, max_length=max_length, **field)


# ---------------------------------------------------------------------------- lists

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Paging(Query):
    """Every list pages: `limit` items at a time, and the `cursor` from the previous reply."""

    limit: int = Field(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"How many items, 1 to {MAX_LIMIT}"
    )
    cursor: str | None = Field(
        None,
        max_length=500,
        description="`next_cursor` from the previous page; leave out for the first page",
    )


class Page(Reply, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Send as `cursor` for the next page; null on the last page"
    )


# ---------------------------------------------------------------------------- errors


class ErrorItem(Reply):
    field: str | None = Field(description="The input field this is about, if any")
    message: str


class BookingAtRisk(Reply):
    booking_id: int
    representative_id: int
    full_name: str
    starts_at: DateTime
    reasons: list[str]


class Errors(Reply):
    errors: list[ErrorItem]
    conflicts: list[BookingAtRisk] | None = Field(
        None,
        description="Only when a change would leave bookings breaking a rule: who and why, "
        "for the lead to send a decision for each",
    )


# ---------------------------------------------------------------------------- messages


def field_errors(exc: ValidationError, model: type[BaseModel]) -> list[FieldError]:
    """pydantic's errors as plain-English messages, one per field, named as the client sent
    them (`decisions.0.reason` for a field inside a list)."""
    found: list[FieldError] = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        field = ".".join(loc) or "body"
        message = _message(error, _label(model, loc))
        if error["type"] == "missing" and _is_choice(model, loc):
            message = f"Select {_label(model, loc)}"  # as the pages say for a missing choice
        if not any(e.field == field for e in found):
            found.append(FieldError(field, message))
    return found


def _field(model: type[BaseModel], loc: Sequence[str]) -> FieldInfo | None:
    """The declaration of the field at `loc`, through nested models
    (`adjustments.0.approved_pence`)."""
    info = None
    inside: type[BaseModel] | None = model
    for name in (part for part in loc if not part.isdigit()):
        info = inside.model_fields.get(name) if inside is not None else None
        inside = _model_in(info.annotation) if info is not None else None
    return info


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, directly or in a list or an optional."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _label(model: type[BaseModel], loc: Sequence[str]) -> str:
    """A field's `title` if it has one ("the role title"), else its name in words."""
    names = [part for part in loc if not part.isdigit()]
    if not names:
        return "the request body"
    info = _field(model, loc)
    if info is not None and info.title:
        return info.title
    return f"the {names[-1].replace('_', ' ')}"


def _is_choice(model: type[BaseModel], loc: Sequence[str]) -> bool:
    """Is this field picked from a list (an enum or Literal, or a list of them)?"""
    info = _field(model, loc)
    pending = [info.annotation] if info is not None else []
    while pending:
        kind = pending.pop()
        if get_origin(kind) is Literal or (isinstance(kind, type) and issubclass(kind, enum.Enum)):
            return True
        pending += [arg for arg in get_args(kind) if arg is not type(None)]
    return False


def _message(error: Any, label: str) -> str:
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    name = label[0].upper() + label[1:]
    if kind == "missing":
        return f"Enter {label}"
    if kind == "extra_forbidden":
        return "Remove this field: it is not one this takes"
    if kind in ("string_type", "string_sub_type"):
        return f"{name} must be text"
    if kind.startswith("int_") or kind == "int_type":
        return f"{name} must be a whole number"
    if kind.startswith("bool_"):
        return f"{name} must be true or false"
    if kind in ("list_type", "tuple_type", "set_type"):
        return f"{name} must be a list"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"{name} must be an object with named fields"
    if kind.startswith("datetime") or kind == "timezone_aware":
        return f"{name} must be a date and time, like 2026-04-01T10:00:00+01:00"
    if kind.startswith("date"):
        return f"{name} must be a real date, like 2026-04-01"
    if kind in ("enum", "literal_error"):
        return f"Select {label}"  # the schema lists the choices
    if kind == "string_too_long":
        return f"{name} must be {ctx['max_length']} characters or fewer"
    if kind == "string_too_short":
        return f"Enter {label}"
    if kind == "too_long":
        return f"{name} must have {ctx['max_length']} items or fewer"
    if kind == "too_short":
        return f"{name} must have at least {ctx['min_length']} item"
    if kind == "greater_than_equal":
        return f"{name} must be {ctx['ge']} or more"
    if kind == "greater_than":
        return f"{name} must be more than {ctx['gt']}"
    if kind == "less_than_equal":
        return f"{name} must be {ctx['le']} or fewer"
    if kind == "less_than":
        return f"{name} must be less than {ctx['lt']}"
    if kind == "value_error" and ctx.get("error") is not None:
        # Our own validators raise ValueError with a plain-English message.
        return str(ctx["error"])
    if kind in ("float_type", "float_parsing", "decimal_parsing"):
        return f"{name} must be a number"
    return f"{name} is not valid"
