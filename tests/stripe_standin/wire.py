"""Stripe's wire conventions, shared by every part of the stand-in.

Error bodies, the bracketed form encoding, integer and `created` parameters, list paging, ids,
the fixture templates each object starts from, and the small records the stand-in keeps.
"""

from __future__ import annotations

import copy
import json
import operator
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Stripe's published example objects (MIT licence beside them), kept in the repository so a
# clone runs anywhere.
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "stripe" / "fixtures3.json"
DEFAULT_API_KEY = "sk_test_standin_0123456789"
DEFAULT_WEBHOOK_SECRET = "whsec_standin_0123456789"
PLATFORM_CURRENCY = "gbp"
# Stripe prunes an idempotency key once it is at least 24 hours old; the same key then makes a
# new object. The stand-in forgets it at exactly 24 hours, the earliest Stripe may.
IDEMPOTENCY_KEY_LIFETIME = 24 * 3600
MAX_LIST_LIMIT = 100
DEFAULT_LIST_LIMIT = 10


def load_templates(path: Path = FIXTURES) -> dict[str, dict[str, Any]]:
    resources = json.loads(path.read_text())["resources"]
    names = (
        "account",
        "account_link",
        "balance_transaction",
        "event",
        "payout",
        "transfer",
        "transfer_reversal",
    )
    return {name: resources[name] for name in names}


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def error_body(
    message: str,
    *,
    type: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {"type": type, "message": message}
    if code:
        error["code"] = code
        error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param:
        error["param"] = param
    return {"error": error}


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's bracketed form encoding (`metadata[coprod_ref]=x`) as nested dicts.

    Array items (`items[0][id]`) come out as dicts keyed "0", "1", ...: enough to compare
    parameters for idempotency, and no endpoint here takes arrays.
    """
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        parts = re.findall(r"[^\[\]]+", raw_key)
        if not parts:
            continue
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return root


@dataclass
class RequestRecord:
    """One request as the stand-in saw it; tests use these to prove retries happened."""

    method: str
    path: str
    idempotency_key: str | None
    status: int = 0
    replayed: bool = False
    fault: str | None = None


@dataclass
class Delivery:
    """One webhook POST to the target."""

    event_id: str
    payload: bytes
    signature: str
    status: int | None = None
    response_body: str = ""
    error: str | None = None


@dataclass
class Fault:
    prefix: str
    method: str | None
    remaining: int
    status: int = 0
    should_retry: bool | None = None
    hang_seconds: float = 0.0
    lose_reply: bool = True

    def matches(self, method: str, path: str) -> bool:
        return (
            self.remaining > 0
            and path.startswith(self.prefix)
            and (self.method is None or self.method == method)
        )


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    # Stripe saves an idempotent result only once an endpoint has started work.
    save: bool = True


@dataclass
class Saved:
    method: str
    path: str
    params: dict[str, Any]
    reply: Reply
    # On the stand-in's clock, so `advance()` ages keys.
    saved_at: float


class Refused(ValueError):
    """Stripe's answer to a request it will not carry out, raised from deep in an endpoint.
    A ValueError, so that a test helper going the same way (`reverse_transfer`) raises one."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.body["error"]["message"])
        self.reply = reply


def integer(param: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Refused(
            Reply(
                400,
                error_body(
                    f"Invalid integer: {value}", code="parameter_invalid_integer", param=param
                ),
                save=False,
            )
        ) from None


def integer_at_least(param: str, value: Any, lowest: int) -> int:
    number = integer(param, value)
    if number < lowest:
        raise Refused(
            Reply(
                400,
                error_body(
                    f"This value must be greater than or equal to {lowest}.",
                    code="parameter_invalid_integer",
                    param=param,
                ),
                save=False,
            )
        )
    return number


def positive_integer(param: str, value: Any) -> int:
    return integer_at_least(param, value, 1)


_COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def created_between(items: list[dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
    """Stripe's `created` filter: an exact time, or any of created[gt|gte|lt|lte]."""
    created = params.get("created")
    if created is None or created == "":
        return items
    tests: list[tuple[Callable[[int, int], bool], int]] = []
    if isinstance(created, dict):
        for name, value in created.items():
            if name not in _COMPARISONS:
                raise Refused(
                    Reply(
                        400,
                        error_body(
                            f"Received unknown parameter: created[{name}]",
                            code="parameter_unknown",
                            param=f"created[{name}]",
                        ),
                        save=False,
                    )
                )
            tests.append((_COMPARISONS[name], integer(f"created[{name}]", value)))
    else:
        tests.append((operator.eq, integer("created", created)))
    return [item for item in items if all(test(item["created"], at) for test, at in tests)]


def page(
    url: str,
    kind: str,
    universe: list[dict[str, Any]],
    items: list[dict[str, Any]],
    params: dict[str, Any],
) -> Reply:
    """One page of a Stripe list, newest first.

    `universe` is every object the caller may page through, oldest first; `items` the ones
    that pass the filters. A cursor (`starting_after`, `ending_before`) names any object of
    the universe, as on Stripe, where a cursor need not match the filters.
    """
    limit = integer_at_least("limit", params.get("limit", DEFAULT_LIST_LIMIT), 1)
    if limit > MAX_LIST_LIMIT:
        raise Refused(
            Reply(
                400,
                error_body(
                    f"This value must be less than or equal to {MAX_LIST_LIMIT}.",
                    code="parameter_invalid_integer",
                    param="limit",
                ),
                save=False,
            )
        )
    after, before = params.get("starting_after"), params.get("ending_before")
    if after and before:
        raise Refused(
            Reply(
                400,
                error_body(
                    "You may only specify one of these parameters: ending_before, starting_after.",
                    code="parameters_exclusive",
                    param="ending_before",
                ),
                save=False,
            )
        )
    # Objects are kept in the order they were made, which is also their `created` order (the
    # stand-in's clock only goes forward), so that order settles ties within a second too.
    position = {obj["id"]: index for index, obj in enumerate(universe)}
    newest_first = sorted(items, key=lambda obj: position[obj["id"]], reverse=True)
    cursor_param, cursor = ("starting_after", after) if after else ("ending_before", before)
    if cursor and cursor not in position:
        raise Refused(
            Reply(
                404,
                error_body(
                    f"No such {kind}: '{cursor}'", code="resource_missing", param=cursor_param
                ),
                save=False,
            )
        )
    if after:
        older = [obj for obj in newest_first if position[obj["id"]] < position[after]]
        data, has_more = older[:limit], len(older) > limit
    elif before:
        # The page just newer than the cursor, still newest first; has_more: newer ones remain.
        newer = [obj for obj in newest_first if position[obj["id"]] > position[before]]
        data, has_more = newer[-limit:], len(newer) > limit
    else:
        data, has_more = newest_first[:limit], len(newest_first) > limit
    return Reply(
        200,
        {"object": "list", "url": url, "has_more": has_more, "data": copy.deepcopy(data)},
    )


def missing(param: str) -> Reply:
    return Reply(
        400,
        error_body(f"Missing required param: {param}.", code="parameter_missing", param=param),
        save=False,
    )


def no_such(kind: str, ident: str, param: str = "id") -> Reply:
    return Reply(
        404,
        error_body(f"No such {kind}: '{ident}'", code="resource_missing", param=param),
    )
