"""GOV.UK Notify's wire conventions, shared by every part of the stand-in.

Error bodies, timestamps, API keys, the request-schema checks (with the messages Notify's
jsonschema validation builds), recipient checks (as notifications-utils words them), template
placeholders, and the small records the stand-in keeps.

Sources: alphagov/notifications-api (app/v2/errors.py, app/schema_validation,
app/v2/notifications/notification_schemas.py, app/notifications/validators.py) and
alphagov/notifications-utils (recipient_validation, SMS_CHAR_COUNT_LIMIT).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

# Notify's DATETIME_FORMAT: UTC, microseconds, a literal Z.
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
SMS_CHAR_COUNT_LIMIT = 918  # 153 * 6, notifications_utils.SMS_CHAR_COUNT_LIMIT
API_PAGE_SIZE = 250
EMAIL_DOMAIN = "notifications.service.gov.uk"
# The stand-in's service and keys, fixed so that settings can name them before it starts.
DEFAULT_SERVICE_ID = "6f4f4c6e-2d4b-4c0b-9a55-3c9e1c1f0d11"
DEFAULT_SECRETS = {
    "normal": "1c8e0a44-7d3c-4e36-9f7e-2b9a3d5f6a01",
    "team": "2d9f1b55-8e4d-4f47-a08f-3cab4e6a7b02",
    "test": "3ea02c66-9f5e-4058-b19a-4dbc5f7b8c03",
}
DEFAULT_SMS_TEMPLATE_ID = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c41"
DEFAULT_EMAIL_TEMPLATE_ID = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c42"
DEFAULT_CALLBACK_TOKEN = "notify-callback-token-for-tests-0123456789"
PRECOMPILED_TEMPLATE_ID = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c43"

# Raw statuses (app/constants.py) and those the public API also accepts as filters.
NOTIFICATION_STATUS_TYPES = [
    "cancelled",
    "created",
    "sending",
    "sent",
    "delivered",
    "pending",
    "failed",
    "technical-failure",
    "temporary-failure",
    "permanent-failure",
    "pending-virus-check",
    "validation-failed",
    "virus-scan-failed",
    "returned-letter",
]
FILTER_STATUSES = [*NOTIFICATION_STATUS_TYPES, "accepted", "received"]
COMPLETED_STATUSES = {
    "sent",
    "delivered",
    "failed",
    "technical-failure",
    "temporary-failure",
    "permanent-failure",
    "returned-letter",
    "cancelled",
    "validation-failed",
}
FAILED_STATUSES = [
    "technical-failure",
    "temporary-failure",
    "permanent-failure",
    "validation-failed",
    "virus-scan-failed",
    "returned-letter",
]
NOTIFICATION_TYPES = ["email", "sms", "letter"]


def api_key(name: str, service_id: str, secret: str) -> str:
    """A Notify API key: the client reads the service id at [-73:-37] and the secret at [-36:]."""
    return f"{name}-{service_id}-{secret}"


def timestamp(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.strftime(DATETIME_FORMAT)


def new_id() -> str:
    return str(uuid.uuid4())


def is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------- errors


@dataclass
class Reply:
    status: int
    body: Any
    # Notify's gateway answers some faults with HTML, not JSON.
    raw: bytes | None = None
    content_type: str = "application/json"


def error_reply(status: int, error: str, message: str) -> Reply:
    """Notify's v2 error body, as `InvalidRequest.to_dict_v2()` and `AuthError.to_dict_v2()`."""
    return Reply(status, {"status_code": status, "errors": [{"error": error, "message": message}]})


class Refused(Exception):
    """Notify's answer to a request it will not carry out, raised from deep in an endpoint."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.body["errors"][0]["message"])
        self.reply = reply


def bad_request(message: str, status: int = 400) -> Refused:
    return Refused(error_reply(status, "BadRequestError", message))


def validation_error(message: str) -> Refused:
    return Refused(error_reply(400, "ValidationError", message))


# ---------------------------------------------------------------------------- schemas

# The request schemas, reduced to what the checks below need: each property's kind, in the
# order Notify declares them (jsonschema reports errors in that order), and the required ones.
UUID_FIELD = "uuid"
SCHEMAS: dict[str, tuple[dict[str, str], list[str]]] = {
    "sms": (
        {
            "reference": "reference",
            "phone_number": "phone_number",
            "template_id": UUID_FIELD,
            "personalisation": "object",
            "scheduled_for": "nullable_string",
            "sms_sender_id": UUID_FIELD,
        },
        ["phone_number", "template_id"],
    ),
    "email": (
        {
            "reference": "reference",
            "email_address": "email_address",
            "template_id": UUID_FIELD,
            "personalisation": "object",
            "scheduled_for": "nullable_string",
            "email_reply_to_id": UUID_FIELD,
            "one_click_unsubscribe_url": "https_url",
            "sanitise_content_for": "nullable_array",
        },
        ["email_address", "template_id"],
    ),
    "letter": (
        {"reference": "reference", "template_id": UUID_FIELD, "personalisation": "object"},
        ["template_id", "personalisation"],
    ),
    "precompiled": (
        {"reference": "string", "content": "string", "postage": "postage"},
        ["reference", "content"],
    ),
}


def _unquoted(text: str) -> str:
    # Notify strips every single quote from jsonschema's messages.
    return text.replace("'", "")


def _type_message(name: str, value: Any, kind: str) -> str:
    return _unquoted(f"{name} {value!r} is not of type {kind!r}")


def _field_error(name: str, kind: str, value: Any) -> str | None:
    if kind == UUID_FIELD:
        return None if is_uuid(value) else f"{name} is not a valid UUID"
    if kind == "object":
        return None if isinstance(value, dict) else _type_message(name, value, "object")
    if kind == "nullable_array":
        return (
            None
            if value is None or isinstance(value, list)
            else _unquoted(f"{name} {value!r} is not of type 'array', 'null'")
        )
    if kind == "nullable_string":
        return (
            None
            if value is None or isinstance(value, str)
            else _unquoted(f"{name} {value!r} is not of type 'string', 'null'")
        )
    if not isinstance(value, str):
        return _type_message(name, value, "string")
    if kind == "reference" and len(value) > 1000:
        return _unquoted(f"{name} {value!r} is too long")
    if kind == "phone_number":
        problem = phone_number_problem(value, schema_level=True)
        return None if problem is None else f"{name} {problem}"
    if kind == "email_address":
        return None if is_email_address(value) else f"{name} Not a valid email address"
    if kind == "https_url":
        return None if value.startswith("https") else f"{name} is not a valid https url"
    if kind == "postage" and value not in ("first", "second", "economy"):
        return f"{name} invalid. It must be either first, second or economy."
    return None


def _validation_errors(messages: list[str]) -> Refused:
    unique = list(dict.fromkeys(messages))
    errors = [{"error": "ValidationError", "message": m} for m in unique]
    return Refused(Reply(400, {"status_code": 400, "errors": errors}))


def _unexpected(names: list[str]) -> str:
    verb = "was" if len(names) == 1 else "were"
    return f"Additional properties are not allowed ({', '.join(names)} {verb} unexpected)"


def check_schema(form: Any, schema: str) -> dict[str, Any]:
    """Notify's `validate()`: every problem at once, as a 400 of `ValidationError`s."""
    properties, required = SCHEMAS[schema]
    if not isinstance(form, dict):
        raise validation_error(_unquoted(f"{form!r} is not of type 'object'"))
    messages: list[str] = []
    for name, kind in properties.items():
        if name in form:
            problem = _field_error(name, kind, form[name])
            if problem:
                messages.append(problem)
    messages += [f"{name} is a required property" for name in required if name not in form]
    extra = [name for name in form if name not in properties]
    if extra:
        messages.append(_unexpected(extra))
    if messages:
        raise _validation_errors(messages)
    return form


LIST_PARAMETERS = ("reference", "status", "template_type", "include_jobs", "older_than")


def check_list_query(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """GET /v2/notifications's query: `status` and `template_type` may repeat, the rest may not
    (Notify keeps the first)."""
    data: dict[str, Any] = {}
    for name, value in pairs:
        if name in ("status", "template_type"):
            data.setdefault(name, []).append(value)
        else:
            data.setdefault(name, value)
    messages: list[str] = []
    for name, allowed in (("status", FILTER_STATUSES), ("template_type", NOTIFICATION_TYPES)):
        for value in data.get(name, []):
            if value not in allowed:
                messages.append(_unquoted(f"{name} {value!r} is not one of {allowed!r}"))
    if data.get("include_jobs", "true") not in ("true", "True"):
        messages.append(
            _unquoted(f"include_jobs {data['include_jobs']!r} is not one of ['true', 'True']")
        )
    if "older_than" in data and not is_uuid(data["older_than"]):
        messages.append("older_than is not a valid UUID")
    extra = [n for n in data if n not in LIST_PARAMETERS]
    if extra:
        messages.append(_unexpected(extra))
    if messages:
        raise _validation_errors(messages)
    return data


# ---------------------------------------------------------------------------- recipients

_EMAIL = re.compile(r"^[^\s\"(),:;<>@\[\\\]]+@([^.@][^@\s]+)$")
_HOSTNAME_PART = re.compile(r"^(xn|[a-z0-9]+)(-?-[a-z0-9]+)*$", re.IGNORECASE)
_TLD_PART = re.compile(r"^([a-z]{2,63}|xn--([a-z0-9]+-)*[a-z0-9]+)$", re.IGNORECASE)


def is_email_address(value: str) -> bool:
    """notifications-utils' `validate_email_address`, without its IDNA step."""
    address = value.strip()
    match = _EMAIL.match(address)
    if not match or len(address) > 320 or ".." in address:
        return False
    parts = match.group(1).split(".")
    if len(parts) < 2 or len(match.group(1)) > 253:
        return False
    if not all(_HOSTNAME_PART.match(part) for part in parts):
        return False
    return bool(_TLD_PART.match(parts[-1]))


def normalise_phone_number(value: str) -> str:
    """A number as Notify stores it: with its country code and no "+" ("447700900123").
    Without a "+" or "00" a number is read as British, as Notify reads it."""
    digits = re.sub(r"[\s()\-.]", "", value)
    international = digits.startswith(("+", "00"))
    digits = digits.lstrip("+")
    if digits.startswith("00"):
        digits = digits[2:]
    if digits.startswith("44"):
        national = digits[2:]
    elif international:
        return digits
    else:
        national = digits
    # "+44 (0)7700 900123" and "07700 900123" alike.
    return "44" + national.removeprefix("0")


def phone_number_problem(value: str, *, schema_level: bool = False) -> str | None:
    """What Notify says of a number, in its legacy v2 words, or None if it can send to it.

    The schema accepts landlines and international numbers (`schema_level`); the service then
    needs permission for them, which the stand-in's service does not have, as is usual.
    """
    if re.search(r"[^\d\s()\-+.]", value):
        return "Must not contain letters or symbols"
    normalised = normalise_phone_number(value)
    if not normalised.startswith("44"):
        if len(normalised) < 8:
            return "Not enough digits"
        return None if schema_level else "Cannot send to international mobile numbers"
    national = normalised[2:]
    if len(national) < 10 and not (national.startswith("1") and len(national) == 9):
        return "Not enough digits"
    if len(national) > 10:
        return "Too many digits"
    if national.startswith("7") and not national.startswith("70") and not national.startswith("76"):
        return None
    if national[0] in "123" and not schema_level:
        return "Not a UK mobile number"
    if national[0] in "123":
        return None
    return "Number is not valid – double check the phone number you entered"  # noqa: RUF001


# ---------------------------------------------------------------------------- templates

_PLACEHOLDER = re.compile(r"\(\(([^()]+)\)\)")
# GSM 03.38's extension table: each of these costs two characters in a text message.
_GSM_EXTENDED = set("^{}\\[~]|€")


def _key(name: str) -> str:
    return re.sub(r"\s", "", name).lower()


def fill(content: str, personalisation: dict[str, Any]) -> tuple[str, list[str]]:
    """Notify's placeholders: `((name))`, matched ignoring case and spaces, and `((name??text))`
    (the text if the value is truthy). Returns the filled content and the missing names."""
    values = {_key(k): v for k, v in personalisation.items()}
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name, _, conditional = match.group(1).partition("??")
        key = _key(name)
        if key not in values or values[key] is None:
            if name.strip() not in missing:
                missing.append(name.strip())
            return match.group(0)
        value = values[key]
        if conditional:
            return conditional if value and str(value).lower() not in ("no", "false") else ""
        if isinstance(value, list):
            return "\n".join(f"* {item}" for item in value)
        return str(value)

    return _PLACEHOLDER.sub(replace, content), missing


def sms_length(text: str) -> int:
    return len(text) + sum(1 for ch in text if ch in _GSM_EXTENDED)


def sms_fragments(text: str) -> int:
    length = sms_length(text)
    return 1 if length <= 160 else -(-length // 153)


# ---------------------------------------------------------------------------- records


@dataclass
class RequestRecord:
    """One request as the stand-in saw it; tests use these to prove retries happened."""

    method: str
    path: str
    query: str
    body: Any
    status: int = 0
    fault: str | None = None
    key_type: str | None = None


@dataclass
class Fault:
    prefix: str
    method: str | None
    remaining: int
    status: int = 0
    error: str | None = None
    hang_seconds: float = 0.0
    lose_reply: bool = True

    def matches(self, method: str, path: str) -> bool:
        if self.remaining <= 0 or not path.startswith(self.prefix):
            return False
        return self.method is None or self.method == method


@dataclass
class Template:
    id: str
    type: str
    content: str
    subject: str | None = None
    version: int = 1
    name: str = ""


@dataclass
class Notification:
    """One notification as Notify holds it: raw status, the recipient as sent (`to`)."""

    id: str
    type: str
    to: str
    template: Template
    personalisation: dict[str, Any]
    body: str
    subject: str | None
    reference: str | None
    key_type: str
    created_at: dt.datetime
    status: str
    reply_to: str | None = None
    postage: str | None = None
    sent_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    billable_units: int = 0
    pdf: bytes | None = None
    page_count: int | None = None
    # Why a precompiled letter failed validation (Notify shows it on its website, not the API).
    validation_failure: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def phone_number(self) -> str | None:
        return self.to if self.type == "sms" else None
