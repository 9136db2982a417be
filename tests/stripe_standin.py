"""A local stand-in for Stripe's API, for tests.

Stripe is the only outside service the tests replace. The real `stripe` library talks to this
server over real HTTP (point `StripeGateway(api_base=standin.url)`, or
`stripe.StripeClient(key, base_addresses={"api": standin.url})`, at it), so the request
encoding, headers, retries, timeouts and error classes under test are the library's own.

What it covers, shaped from Stripe's own example objects (tests/fixtures/stripe/fixtures3.json:
every key of Stripe's object is present in the stand-in's):

- accounts (`POST /v1/accounts`, `GET /v1/accounts/{id}`), Express onboarding via
  `POST /v1/account_links` and `complete_onboarding()`, and later changes by Stripe
  (`update_account()`: payouts on or off, the `transfers` capability active, inactive or
  pending, with `requirements` to match);
- transfers (`POST /v1/transfers`, `GET /v1/transfers/{id}`, `GET /v1/transfers` filtered by
  `transfer_group`, `destination` and `created[gt|gte|lt|lte]`);
- reversals (`POST` and `GET /v1/transfers/{id}/reversals`, `GET .../reversals/{id}`, and the
  `reverse_transfer()` helper, which goes the same way);
- the connected account's money: each transfer makes a payment (`py_`, the transfer's
  `destination_payment`) and a `payment` balance transaction in the destination account;
  `pay_out()` makes Stripe's automatic payout of the account's balance, paid or failed;
  `GET /v1/payouts[/{id}]` and `GET /v1/balance_transactions[/{id}]` (filtered by `payout`,
  `type`, `source`, `created`) with the account in `Stripe-Account`; without it, the
  platform's own balance transactions (`transfer`, `transfer_refund`);
- events (`GET /v1/events/{id}`, `GET /v1/events`) and signed webhook deliveries.

Behaviour copied from Stripe, because the code under test relies on it:

- Transfers are refused (400 `insufficient_capabilities_for_transfer`) only when the
  destination's `transfers` capability is not active. With payouts disabled they are
  accepted, and the money waits in the account's Stripe balance.
- Idempotency-Key (per API key): the first response is saved once the endpoint starts work
  and replayed for the same method, path and parameters (with `Idempotent-Replayed: true`);
  the same key with anything different is a 400 `idempotency_error`. As on Stripe, malformed
  parameters and injected faults are not saved, so a retry runs afresh; business failures
  (an unknown destination, one without the capability) are saved and replayed, so a payer must
  use a new key for a genuinely new attempt. A second request arriving while the first with the
  same key is still running gets a 409, which stripe-python retries. Stripe forgets a key
  24 hours after its first use: the same key and parameters then make a NEW object. The
  stand-in has a clock for this (`now()`, `advance(seconds)`); every `created` uses it.
- Lists: `limit` 1 to 100 (default 10), `starting_after` / `ending_before`, newest first with
  a true `has_more`, so the library's `auto_paging_iter()` walks them both ways. A bad limit is
  a 400 `parameter_invalid_integer`; a cursor naming nothing, a 404 `resource_missing`.
- Reversals: the whole of what is left by default; `amount_reversed` adds up, `reversed` only
  once it is all reversed, and the transfer embeds its reversals. The money returns to the
  platform (`transfer_refund`) and leaves the connected account as a refund of the transfer's
  payment (`payment_refund`, from the reversal's `destination_payment_refund`, `pyr_`). Each
  records `transfer.reversed`. The stand-in does not check that the connected account can
  cover a reversal: its balance may go below zero.
- Payouts: an automatic payout covers every balance transaction not yet paid out; listing
  balance transactions by `payout` gives those and the payout's own (`payout`). A paid payout
  records `payout.paid`; a failed one records `payout.failed` with Stripe's `failure_code` and
  a `failure_message`, returns the money in a `payout_failure` balance transaction (which the
  next payout covers; the original ones stay with the failed payout), and switches the
  account's payouts off (`account.updated`: `external_account` past due).
- `Authorization: Bearer <key>` must match the stand-in's key (401 otherwise).
- Events, payouts and balance transactions of a connected account carry or belong to that
  account, and are only visible with it in the `Stripe-Account` header (404 otherwise).
- Webhooks: helpers (`complete_onboarding`, `update_account`, `pay_out`, `reverse_transfer`)
  deliver their events to the target, if set, before they return (`*_async` variants for a
  target served in-process or on the test's loop). Events made by API requests (a reversal)
  are delivered in the background, as Stripe does; `wait_deliveries[_async]()` waits for
  them. Signatures use real time, not the stand-in's clock, as receivers check them against
  theirs.

Not covered (not needed yet): `transfer.created`, `payout.created` and `balance.available`
events, pending funds, instant or manual payouts, charges.

Faults on demand, for any endpoint (by path prefix, optionally by method):
`fail_next()` (500, 429, ... before the endpoint runs, so nothing is saved) and `hang_next()`
(a stalled reply, to trip client timeouts).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import hashlib
import hmac
import json
import operator
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# Stripe's published example objects (MIT licence beside them), kept in the repository so a
# clone runs anywhere.
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "stripe" / "fixtures3.json"
DEFAULT_API_KEY = "sk_test_standin_0123456789"
DEFAULT_WEBHOOK_SECRET = "whsec_standin_0123456789"
PLATFORM_CURRENCY = "gbp"
# Stripe prunes an idempotency key once it is at least 24 hours old; the same key then makes a
# new object. The stand-in forgets it at exactly 24 hours, the earliest Stripe may.
IDEMPOTENCY_KEY_LIFETIME = 24 * 3600
MAX_LIST_LIMIT = 100
DEFAULT_LIST_LIMIT = 10
# Stripe's payout failure codes (https://docs.stripe.com/api/payouts/failures), with the kind of
# message Stripe puts in `failure_message`.
PAYOUT_FAILURES = {
    "account_closed": "The bank account has been closed.",
    "account_frozen": "The bank account has been frozen.",
    "bank_account_restricted": (
        "The bank account has restrictions on either the type or the number of payouts "
        "allowed. This normally indicates that the bank account is a savings or other "
        "non-current account."
    ),
    "bank_ownership_changed": (
        "The destination bank account is no longer valid because its branch has changed ownership."
    ),
    "could_not_process": "The bank could not process this payout.",
    "debit_not_authorized": "Debit transactions are not approved on the bank account.",
    "declined": "The bank has declined this payout. Please contact the bank before retrying.",
    "incorrect_account_holder_name": (
        "The bank notified Stripe that the bank account holder name on file is incorrect."
    ),
    "insufficient_funds": "The Stripe account has insufficient funds to cover the payout.",
    "invalid_account_number": ("The sort code seems correct, but the account number is invalid."),
    "invalid_currency": ("The bank was unable to process this payout because of its currency."),
    "no_account": (
        "The bank account details on file are probably incorrect. No bank account could be "
        "located with those details."
    ),
}
# What a connected account must still provide, by the part of it that is switched off.
_PAYOUTS_DUE = "external_account"
_TRANSFERS_DUE = "individual.verification.document"


def _load_templates(path: Path = FIXTURES) -> dict[str, dict[str, Any]]:
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


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _error_body(
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
class _Fault:
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
class _Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    # Stripe saves an idempotent result only once an endpoint has started work.
    save: bool = True


@dataclass
class _Saved:
    method: str
    path: str
    params: dict[str, Any]
    reply: _Reply
    # On the stand-in's clock, so `advance()` ages keys.
    saved_at: float


class _Refused(ValueError):
    """Stripe's answer to a request it will not carry out, raised from deep in an endpoint.
    A ValueError, so that a test helper going the same way (`reverse_transfer`) raises one."""

    def __init__(self, reply: _Reply) -> None:
        super().__init__(reply.body["error"]["message"])
        self.reply = reply


def _integer(param: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _Refused(
            _Reply(
                400,
                _error_body(
                    f"Invalid integer: {value}", code="parameter_invalid_integer", param=param
                ),
                save=False,
            )
        ) from None


def _integer_at_least(param: str, value: Any, lowest: int) -> int:
    number = _integer(param, value)
    if number < lowest:
        raise _Refused(
            _Reply(
                400,
                _error_body(
                    f"This value must be greater than or equal to {lowest}.",
                    code="parameter_invalid_integer",
                    param=param,
                ),
                save=False,
            )
        )
    return number


def _positive_integer(param: str, value: Any) -> int:
    return _integer_at_least(param, value, 1)


_COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def _created_between(items: list[dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
    """Stripe's `created` filter: an exact time, or any of created[gt|gte|lt|lte]."""
    created = params.get("created")
    if created is None or created == "":
        return items
    tests: list[tuple[Callable[[int, int], bool], int]] = []
    if isinstance(created, dict):
        for name, value in created.items():
            if name not in _COMPARISONS:
                raise _Refused(
                    _Reply(
                        400,
                        _error_body(
                            f"Received unknown parameter: created[{name}]",
                            code="parameter_unknown",
                            param=f"created[{name}]",
                        ),
                        save=False,
                    )
                )
            tests.append((_COMPARISONS[name], _integer(f"created[{name}]", value)))
    else:
        tests.append((operator.eq, _integer("created", created)))
    return [item for item in items if all(test(item["created"], at) for test, at in tests)]


def _page(
    url: str,
    kind: str,
    universe: list[dict[str, Any]],
    items: list[dict[str, Any]],
    params: dict[str, Any],
) -> _Reply:
    """One page of a Stripe list, newest first.

    `universe` is every object the caller may page through, oldest first; `items` the ones
    that pass the filters. A cursor (`starting_after`, `ending_before`) names any object of
    the universe, as on Stripe, where a cursor need not match the filters.
    """
    limit = _integer_at_least("limit", params.get("limit", DEFAULT_LIST_LIMIT), 1)
    if limit > MAX_LIST_LIMIT:
        raise _Refused(
            _Reply(
                400,
                _error_body(
                    f"This value must be less than or equal to {MAX_LIST_LIMIT}.",
                    code="parameter_invalid_integer",
                    param="limit",
                ),
                save=False,
            )
        )
    after, before = params.get("starting_after"), params.get("ending_before")
    if after and before:
        raise _Refused(
            _Reply(
                400,
                _error_body(
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
        raise _Refused(
            _Reply(
                404,
                _error_body(
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
    return _Reply(
        200,
        {"object": "list", "url": url, "has_more": has_more, "data": copy.deepcopy(data)},
    )


class StripeStandIn:
    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        *,
        fixtures: Path = FIXTURES,
        host: str = "127.0.0.1",
    ) -> None:
        self.api_key = api_key
        self.host = host
        self._templates = _load_templates(fixtures)
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._busy = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._hang_gates: set[threading.Event] = set()
        self._faults: list[_Fault] = []
        self._saved: dict[tuple[str, str], _Saved] = {}
        self._in_flight: set[tuple[str, str]] = set()
        self._clock_offset = 0.0
        self.accounts: dict[str, dict[str, Any]] = {}
        self.account_links: list[dict[str, Any]] = []
        self.transfers: dict[str, dict[str, Any]] = {}
        self.reversals: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.payouts: dict[str, dict[str, Any]] = {}
        self.balance_transactions: dict[str, dict[str, Any]] = {}
        # Who owns what, kept beside the objects so that they stay exactly Stripe's shape: the
        # account a payout or balance transaction belongs to (None: the platform), the payout
        # that covered a balance transaction, and each account's bank account.
        self._payout_account: dict[str, str] = {}
        self._txn_account: dict[str, str | None] = {}
        self._txn_payout: dict[str, str] = {}
        self._bank_accounts: dict[str, str] = {}
        self.requests: list[RequestRecord] = []
        self.deliveries: list[Delivery] = []
        self._webhook_url: str | None = None
        self._webhook_secret: str = DEFAULT_WEBHOOK_SECRET
        self._webhook_client: Any = None
        self._webhook_loop: asyncio.AbstractEventLoop | None = None
        self._background: list[threading.Thread | concurrent.futures.Future[Delivery]] = []

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> StripeStandIn:
        standin = self

        class Handler(_Handler):
            owner = standin

        server = ThreadingHTTPServer((self.host, 0), Handler)
        # A hung request must not keep the test process alive or block stop().
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release_hangs()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> StripeStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until no request is being handled (e.g. a hung one has finished its work)."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._busy == 0, timeout=timeout):
                raise TimeoutError("the Stripe stand-in is still handling a request")

    # ------------------------------------------------------------------ clock

    def now(self) -> int:
        """The stand-in's time (Unix seconds): real time moved on by every `advance()`."""
        return int(self._clock())

    def _clock(self) -> float:
        return time.time() + self._clock_offset

    def advance(self, seconds: float) -> None:
        """Move the stand-in's clock forward: later objects are created then, and saved
        idempotency keys age (Stripe forgets them after 24 hours). Webhook signatures keep
        real time, since the receiver checks them against its own clock."""
        if seconds < 0:
            raise ValueError("Stripe's clock only goes forward")
        with self._lock:
            self._clock_offset += seconds

    # ------------------------------------------------------------------ faults

    def fail_next(
        self,
        path_prefix: str,
        status: int = 500,
        times: int = 1,
        *,
        method: str | None = None,
        should_retry: bool | None = None,
    ) -> None:
        """Answer the next `times` matching requests with `status` before Stripe does any work.

        `should_retry` sets Stripe's `Stripe-Should-Retry` header, which overrides the
        library's own choice (it retries 409 and 5xx, never 429 on its own).
        """
        with self._lock:
            self._faults.append(
                _Fault(path_prefix, method, times, status=status, should_retry=should_retry)
            )

    def hang_next(
        self,
        path_prefix: str,
        seconds: float,
        times: int = 1,
        *,
        method: str | None = None,
        lose_reply: bool = True,
    ) -> None:
        """Stall the next `times` matching requests for `seconds` (or until `release_hangs`).

        With `lose_reply` (the default) Stripe does the work first and only the reply is late:
        the dangerous case, where the client gives up on a payment that was made. Otherwise the
        request is held before Stripe sees it, then handled as normal.
        """
        with self._lock:
            self._faults.append(
                _Fault(path_prefix, method, times, hang_seconds=seconds, lose_reply=lose_reply)
            )

    def release_hangs(self) -> None:
        with self._lock:
            gates = list(self._hang_gates)
        for gate in gates:
            gate.set()

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
        self.release_hangs()

    # ------------------------------------------------------------------ test helpers

    def transfers_to(self, account_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [t for t in self.transfers.values() if t["destination"] == account_id]

    def transfers_in_group(self, group: str) -> list[dict[str, Any]]:
        with self._lock:
            return [t for t in self.transfers.values() if t["transfer_group"] == group]

    def requests_to(self, path: str, method: str = "POST") -> list[RequestRecord]:
        with self._lock:
            return [r for r in self.requests if r.path == path and r.method == method]

    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        """The representative finishes Stripe's onboarding: payouts are switched on.

        Records an `account.updated` event and, if a webhook target is set, delivers it (over
        real HTTP; use `complete_onboarding_async` when the target is served from this event
        loop or is an in-process client). Returns the event.
        """
        event = self._onboard(account_id)
        if self._webhook_url is not None:
            self.deliver(event["id"])
        return event

    async def complete_onboarding_async(self, account_id: str) -> dict[str, Any]:
        event = self._onboard(account_id)
        if self._webhook_url is not None:
            await self.deliver_async(event["id"])
        return event

    def _onboard(self, account_id: str) -> dict[str, Any]:
        with self._lock:
            account = self.accounts[account_id]
            previous = {
                "capabilities": copy.deepcopy(account["capabilities"]),
                "details_submitted": account["details_submitted"],
                "payouts_enabled": account["payouts_enabled"],
                "requirements": copy.deepcopy(account["requirements"]),
            }
            account["details_submitted"] = True
            account["payouts_enabled"] = True
            account["capabilities"]["transfers"] = "active"
            for key in ("currently_due", "eventually_due", "past_due", "pending_verification"):
                account["requirements"][key] = []
            account["requirements"]["disabled_reason"] = None
            account["tos_acceptance"]["date"] = self.now()
            return self.record_event(
                "account.updated", account, account=account_id, previous_attributes=previous
            )

    def reverse_transfer(self, transfer_id: str, amount: int | None = None) -> dict[str, Any]:
        """Reverse a transfer (the whole of what is left by default), as the Dashboard would,
        through the same code as `POST /v1/transfers/{id}/reversals`. Returns the
        `transfer.reversed` event, delivered over real HTTP if the webhook target is a URL.
        With an in-process client target it is left undelivered, for the test to deliver (or
        replay) itself; `reverse_transfer_async` delivers to any target."""
        with self._lock:
            _, event = self._reverse(transfer_id, amount, {})
        if self._webhook_url is not None and self._webhook_client is None:
            self.deliver(event["id"])
        return event

    async def reverse_transfer_async(
        self, transfer_id: str, amount: int | None = None
    ) -> dict[str, Any]:
        with self._lock:
            _, event = self._reverse(transfer_id, amount, {})
        if self._webhook_url is not None:
            await self.deliver_async(event["id"])
        return event

    def _reverse(
        self, transfer_id: str, amount: int | None, metadata: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Returns the reversal and the `transfer.reversed` event; raises _Refused."""
        transfer = self.transfers.get(transfer_id)
        if transfer is None:
            raise _Refused(self._no_such("transfer", transfer_id))
        left = transfer["amount"] - transfer["amount_reversed"]
        if left == 0:
            raise _Refused(
                _Reply(400, _error_body(f"Transfer {transfer_id} has already been fully reversed."))
            )
        amount = left if amount is None else amount
        if amount > left:
            raise _Refused(
                _Reply(
                    400,
                    _error_body(
                        f"You cannot reverse {amount} of transfer {transfer_id}: only {left} "
                        "has not been reversed.",
                        param="amount",
                    ),
                )
            )
        reversal_id = _new_id("trr")
        refund_id = _new_id("pyr")
        # The money comes back to the platform and leaves the connected account, where the
        # reversal shows as a refund of the payment the transfer made.
        returned = self._add_balance_transaction(
            None,
            type="transfer_refund",
            amount=amount,
            source=reversal_id,
            category="transfer_reversal",
        )
        self._add_balance_transaction(
            transfer["destination"],
            type="payment_refund",
            amount=-amount,
            source=refund_id,
            category="refund",
        )
        reversal = copy.deepcopy(self._templates["transfer_reversal"])
        reversal.update(
            id=reversal_id,
            amount=amount,
            balance_transaction=returned["id"],
            created=self.now(),
            currency=transfer["currency"],
            destination_payment_refund=refund_id,
            metadata=metadata,
            source_refund=None,
            transfer=transfer_id,
        )
        self.reversals[reversal_id] = reversal
        previous: dict[str, Any] = {"amount_reversed": transfer["amount_reversed"]}
        transfer["amount_reversed"] += amount
        if transfer["amount_reversed"] == transfer["amount"]:
            previous["reversed"] = False
            transfer["reversed"] = True
        transfer["reversals"] = self._embedded_reversals(transfer_id)
        event = self.record_event("transfer.reversed", transfer, previous_attributes=previous)
        return copy.deepcopy(reversal), event

    def _embedded_reversals(self, transfer_id: str) -> dict[str, Any]:
        # A transfer carries its first page of reversals, as Stripe's does.
        mine = [r for r in self.reversals.values() if r["transfer"] == transfer_id]
        newest_first = list(reversed(mine))
        return {
            "data": copy.deepcopy(newest_first[:DEFAULT_LIST_LIMIT]),
            "has_more": len(newest_first) > DEFAULT_LIST_LIMIT,
            "object": "list",
            "url": f"/v1/transfers/{transfer_id}/reversals",
        }

    def _add_balance_transaction(
        self, account: str | None, *, type: str, amount: int, source: str, category: str
    ) -> dict[str, Any]:
        """Money moving in (positive) or out of an account's balance (None: the platform's).
        Everything here is available at once: the stand-in has no pending funds."""
        txn = copy.deepcopy(self._templates["balance_transaction"])
        now = self.now()
        txn.update(
            id=_new_id("txn"),
            amount=amount,
            available_on=now,
            created=now,
            currency=PLATFORM_CURRENCY,
            description=None,
            exchange_rate=None,
            fee=0,
            fee_details=[],
            net=amount,
            reporting_category=category,
            source=source,
            status="available",
            type=type,
        )
        self.balance_transactions[txn["id"]] = txn
        self._txn_account[txn["id"]] = account
        return txn

    def balance_of(self, account_id: str) -> int:
        """What the connected account holds in Stripe and has not yet paid out, in pence."""
        with self._lock:
            return sum(t["amount"] for t in self._unpaid(account_id))

    def _unpaid(self, account_id: str) -> list[dict[str, Any]]:
        return [
            t
            for t in self.balance_transactions.values()
            if self._txn_account[t["id"]] == account_id and t["id"] not in self._txn_payout
        ]

    def pay_out(self, account_id: str, *, fail_with: str | None = None) -> dict[str, Any]:
        """Stripe's automatic payout of the account's whole balance to its bank account.

        Without `fail_with` the payout is paid (`payout.paid`); with a payout failure code
        (see PAYOUT_FAILURES) it fails (`payout.failed`), the money returns to the account's
        balance, and Stripe switches the account's payouts off (`account.updated`) until its
        bank details are fixed. The events are on the connected account and go to the webhook
        target, if set, over real HTTP (`pay_out_async` for an in-process target). Returns the
        payout. Raises ValueError if the account's payouts are off or it has nothing to pay.
        """
        payout, events = self._pay_out(account_id, fail_with)
        if self._webhook_url is not None:
            for event in events:
                self.deliver(event["id"])
        return payout

    async def pay_out_async(
        self, account_id: str, *, fail_with: str | None = None
    ) -> dict[str, Any]:
        payout, events = self._pay_out(account_id, fail_with)
        if self._webhook_url is not None:
            for event in events:
                await self.deliver_async(event["id"])
        return payout

    def _pay_out(
        self, account_id: str, fail_with: str | None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if fail_with is not None and fail_with not in PAYOUT_FAILURES:
            raise ValueError(f"{fail_with!r} is not a Stripe payout failure code")
        with self._lock:
            account = self.accounts.get(account_id)
            if account is None:
                raise ValueError(f"no account {account_id}")
            if not account["payouts_enabled"]:
                raise ValueError(f"{account_id} has payouts disabled: Stripe pays nothing out")
            covered = self._unpaid(account_id)
            amount = sum(t["amount"] for t in covered)
            if amount <= 0:
                raise ValueError(f"{account_id} has nothing to pay out (balance {amount})")
            payout_id = _new_id("po")
            spent = self._add_balance_transaction(
                account_id, type="payout", amount=-amount, source=payout_id, category="payout"
            )
            # Listing balance transactions by payout gives what it covered and the payout's own.
            for txn in [*covered, spent]:
                self._txn_payout[txn["id"]] = payout_id
            now = self.now()
            payout = copy.deepcopy(self._templates["payout"])
            payout.update(
                id=payout_id,
                amount=amount,
                arrival_date=now + 24 * 3600,
                automatic=True,
                balance_transaction=spent["id"],
                created=now,
                currency=PLATFORM_CURRENCY,
                description="STRIPE PAYOUT",
                destination=self._bank_accounts[account_id],
                failure_balance_transaction=None,
                failure_code=None,
                failure_message=None,
                metadata={},
                method="standard",
                reconciliation_status="completed",
                source_type="card",
                status="paid",
                type="bank_account",
                trace_id={"status": "supported", "value": secrets.token_hex(8).upper()},
            )
            self.payouts[payout_id] = payout
            self._payout_account[payout_id] = account_id
            if fail_with is None:
                return copy.deepcopy(payout), [
                    self.record_event("payout.paid", payout, account=account_id)
                ]
            # The bank sends the money back: it is in the balance again, for a later payout.
            returned = self._add_balance_transaction(
                account_id,
                type="payout_failure",
                amount=amount,
                source=payout_id,
                category="payout_reversal",
            )
            payout.update(
                status="failed",
                failure_balance_transaction=returned["id"],
                failure_code=fail_with,
                failure_message=PAYOUT_FAILURES[fail_with],
                trace_id={"status": "unsupported", "value": None},
            )
            failed = self.record_event("payout.failed", payout, account=account_id)
            previous = self._change_account(account, payouts_enabled=False, transfers=None)
            updated = self.record_event(
                "account.updated", account, account=account_id, previous_attributes=previous
            )
            return copy.deepcopy(payout), [failed, updated]

    def update_account(
        self,
        account_id: str,
        *,
        payouts_enabled: bool | None = None,
        transfers: str | None = None,
    ) -> dict[str, Any]:
        """Stripe changes the account: payouts on or off, the `transfers` capability `active`,
        `inactive` or `pending`; its requirements follow. Records `account.updated` with
        `previous_attributes` and delivers it over real HTTP if a webhook target is set
        (`update_account_async` for an in-process target). Returns the event."""
        event = self._update_account(account_id, payouts_enabled, transfers)
        if self._webhook_url is not None:
            self.deliver(event["id"])
        return event

    async def update_account_async(
        self,
        account_id: str,
        *,
        payouts_enabled: bool | None = None,
        transfers: str | None = None,
    ) -> dict[str, Any]:
        event = self._update_account(account_id, payouts_enabled, transfers)
        if self._webhook_url is not None:
            await self.deliver_async(event["id"])
        return event

    def _update_account(
        self, account_id: str, payouts_enabled: bool | None, transfers: str | None
    ) -> dict[str, Any]:
        if transfers not in {None, "active", "inactive", "pending"}:
            raise ValueError(f"a capability is active, inactive or pending, not {transfers!r}")
        with self._lock:
            account = self.accounts[account_id]
            previous = self._change_account(
                account, payouts_enabled=payouts_enabled, transfers=transfers
            )
            if not previous:
                raise ValueError(f"{account_id} is already like that: Stripe sends no event")
            return self.record_event(
                "account.updated", account, account=account_id, previous_attributes=previous
            )

    @staticmethod
    def _change_account(
        account: dict[str, Any], *, payouts_enabled: bool | None, transfers: str | None
    ) -> dict[str, Any]:
        """Changes the account and its requirements; returns the changed fields' old values."""
        before = {
            "capabilities": copy.deepcopy(account["capabilities"]),
            "payouts_enabled": account["payouts_enabled"],
            "requirements": copy.deepcopy(account["requirements"]),
        }
        if payouts_enabled is not None:
            account["payouts_enabled"] = payouts_enabled
        if transfers is not None:
            account["capabilities"]["transfers"] = transfers
        # What Stripe would ask the representative for, given what is switched off.
        due = [] if account["payouts_enabled"] else [_PAYOUTS_DUE]
        capability = account["capabilities"].get("transfers")
        if capability == "inactive":
            due.append(_TRANSFERS_DUE)
        pending = [_TRANSFERS_DUE] if capability == "pending" else []
        disabled_reason = None
        if due:
            disabled_reason = "requirements.past_due"
        elif pending:
            disabled_reason = "requirements.pending_verification"
        account["requirements"].update(
            currently_due=list(due),
            eventually_due=list(due),
            past_due=list(due),
            pending_verification=pending,
            disabled_reason=disabled_reason,
        )
        return {name: old for name, old in before.items() if account[name] != old}

    # ------------------------------------------------------------------ webhooks

    def webhook_target(
        self, url: str, secret: str = DEFAULT_WEBHOOK_SECRET, *, client: Any = None
    ) -> None:
        """Where signed events go. `client` (an httpx.AsyncClient, e.g. on the ASGI app in
        process) carries async deliveries; without it they are real HTTP POSTs."""
        self._webhook_url = url
        self._webhook_secret = secret
        self._webhook_client = client
        try:
            # Events made by API requests are delivered from the server's threads; an
            # in-process client must be driven from the loop it belongs to.
            self._webhook_loop = asyncio.get_running_loop()
        except RuntimeError:
            self._webhook_loop = None

    def _deliver_in_background(self, event_id: str) -> None:
        """Deliver an event made by an API request after the reply, as Stripe does."""
        if self._webhook_url is None:
            return
        if self._webhook_client is None:
            thread = threading.Thread(target=self.deliver, args=(event_id,), daemon=True)
            thread.start()
            self._background.append(thread)
        elif self._webhook_loop is not None and not self._webhook_loop.is_closed():
            future = asyncio.run_coroutine_threadsafe(
                self.deliver_async(event_id), self._webhook_loop
            )
            self._background.append(future)
        else:
            with self._lock:
                self.deliveries.append(
                    Delivery(event_id, b"", "", error="webhook_target() was set outside a loop")
                )

    def wait_deliveries(self, timeout: float = 10.0) -> None:
        """Wait for deliveries of events that API requests made (over real HTTP only)."""
        with self._lock:
            pending, self._background = self._background, []
        for job in pending:
            if isinstance(job, threading.Thread):
                job.join(timeout)
            else:
                job.result(timeout)

    async def wait_deliveries_async(self) -> None:
        """The same from a test's event loop, which in-process deliveries run on (bound it
        with `asyncio.timeout` if need be)."""
        with self._lock:
            pending, self._background = self._background, []
        for job in pending:
            if isinstance(job, threading.Thread):
                await asyncio.to_thread(job.join)
            else:
                await asyncio.wrap_future(job)

    def signature_header(
        self, payload: bytes, secret: str | None = None, timestamp: int | None = None
    ) -> str:
        # Computed here rather than with stripe-python's helper, so verification is checked
        # against an independent signer.
        t = int(time.time()) if timestamp is None else timestamp
        key = (secret or self._webhook_secret).encode()
        signed = f"{t}.".encode() + payload
        return f"t={t},v1={hmac.new(key, signed, hashlib.sha256).hexdigest()}"

    def record_event(
        self,
        type: str,
        obj: dict[str, Any],
        *,
        account: str | None = None,
        previous_attributes: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        import stripe

        event = copy.deepcopy(self._templates["event"])
        event.update(
            id=_new_id("evt"),
            api_version=stripe.api_version,
            created=self.now(),
            type=type,
            pending_webhooks=1 if self._webhook_url else 0,
            request={"id": None, "idempotency_key": None},
        )
        event["data"] = {"object": copy.deepcopy(obj)}
        if previous_attributes is not None:
            event["data"]["previous_attributes"] = previous_attributes
        if account is not None:
            event["account"] = account
        with self._lock:
            self.events[event["id"]] = event
        return copy.deepcopy(event)

    def send_event(self, type: str, obj: dict[str, Any], *, account: str | None = None) -> Delivery:
        event = self.record_event(type, obj, account=account)
        return self.deliver(event["id"])

    async def send_event_async(
        self, type: str, obj: dict[str, Any], *, account: str | None = None
    ) -> Delivery:
        event = self.record_event(type, obj, account=account)
        return await self.deliver_async(event["id"])

    def replay(self, event_id: str, times: int = 1) -> list[Delivery]:
        """Deliver the same event again, as Stripe does when it is unsure it got through."""
        return [self.deliver(event_id) for _ in range(times)]

    async def replay_async(self, event_id: str, times: int = 1) -> list[Delivery]:
        return [await self.deliver_async(event_id) for _ in range(times)]

    def _signed(self, event_id: str) -> tuple[bytes, dict[str, str]]:
        if self._webhook_url is None:
            raise RuntimeError("call webhook_target(url, secret) first")
        with self._lock:
            payload = json.dumps(self.events[event_id], indent=2).encode()
        signature = self.signature_header(payload)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": signature,
        }
        return payload, headers

    def deliver(self, event_id: str) -> Delivery:
        """POST the event to the target over real HTTP; blocks until it answers."""
        if self._webhook_client is not None:
            raise RuntimeError("the webhook target is an async client: use deliver_async()")
        payload, headers = self._signed(event_id)
        delivery = Delivery(event_id, payload, headers["Stripe-Signature"])
        assert self._webhook_url is not None
        request = urllib.request.Request(
            self._webhook_url, data=payload, headers=headers, method="POST"
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=10) as response:
                delivery.status = response.status
                delivery.response_body = response.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            delivery.status = exc.code
            delivery.response_body = exc.read().decode(errors="replace")
        except OSError as exc:
            delivery.error = repr(exc)
        with self._lock:
            self.deliveries.append(delivery)
        return delivery

    async def deliver_async(self, event_id: str) -> Delivery:
        """Deliver without blocking the event loop, so an app served from it can answer."""
        if self._webhook_client is None:
            # Real HTTP from a worker thread, in case the target app runs on this very loop.
            return await asyncio.to_thread(self.deliver, event_id)
        payload, headers = self._signed(event_id)
        delivery = Delivery(event_id, payload, headers["Stripe-Signature"])
        try:
            response = await self._webhook_client.post(
                self._webhook_url, content=payload, headers=headers
            )
            delivery.status = response.status_code
            delivery.response_body = response.text
        except Exception as exc:
            delivery.error = repr(exc)
        with self._lock:
            self.deliveries.append(delivery)
        return delivery

    # ------------------------------------------------------------------ request handling

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    return fault
        return None

    def _stall(self, seconds: float) -> None:
        gate = threading.Event()
        with self._lock:
            self._hang_gates.add(gate)
        try:
            gate.wait(seconds)
        finally:
            with self._lock:
                self._hang_gates.discard(gate)

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[_Reply, float]:
        """Returns the reply and how long to hold it back."""
        split = urlsplit(target)
        path = split.path
        idem_key = headers.get("idempotency-key") if method == "POST" else None
        record = RequestRecord(method, path, idem_key)
        with self._lock:
            self.requests.append(record)

        fault = self._take_fault(method, path)
        delay = 0.0
        if fault is not None and fault.status:
            record.fault = f"status {fault.status}"
            reply = self._fault_reply(fault)
            record.status = reply.status
            return reply, 0.0
        if fault is not None:
            record.fault = f"hang {fault.hang_seconds}s"
            if fault.lose_reply:
                delay = fault.hang_seconds
            else:
                self._stall(fault.hang_seconds)

        reply = self._authenticated(method, path, split.query, headers, body, idem_key, record)
        record.status = reply.status
        return reply, delay

    def _fault_reply(self, fault: _Fault) -> _Reply:
        if fault.status == 429:
            body = _error_body(
                "Too many requests hit the API too quickly. We recommend an exponential "
                "backoff of your requests.",
                code="rate_limit",
            )
        elif fault.status >= 500:
            body = _error_body(
                "Sorry, something went wrong. We've already been notified of the problem.",
                type="api_error",
            )
        else:
            body = _error_body(f"Injected fault ({fault.status}).")
        headers = {}
        if fault.should_retry is not None:
            headers["Stripe-Should-Retry"] = "true" if fault.should_retry else "false"
        return _Reply(fault.status, body, headers, save=False)

    def _authenticated(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        idem_key: str | None,
        record: RequestRecord,
    ) -> _Reply:
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return _Reply(
                401,
                _error_body(
                    "You did not provide an API key. You need to provide your API key in the "
                    "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                    "YOUR_SECRET_KEY')."
                ),
                save=False,
            )
        key = auth[7:].strip()
        if not hmac.compare_digest(key, self.api_key):
            return _Reply(
                401,
                _error_body(f"Invalid API Key provided: {key[:8]}{'*' * 8}{key[-4:]}"),
                save=False,
            )

        if method == "POST":
            params = decode_form(parse_qsl(body.decode(), keep_blank_values=True))
        else:
            params = decode_form(parse_qsl(query, keep_blank_values=True))
        context = headers.get("stripe-account")

        if idem_key is None:
            return self._route(method, path, params, context)

        slot = (key, idem_key)
        with self._lock:
            saved = self._saved.get(slot)
            if saved is not None and self._clock() - saved.saved_at >= IDEMPOTENCY_KEY_LIFETIME:
                del self._saved[slot]
                saved = None
            if saved is None and slot in self._in_flight:
                return _Reply(
                    409,
                    _error_body(
                        "There is currently another in-progress request using this "
                        f"Idempotent Key (that probably means you submitted twice, and the "
                        f"other request is still going through): {idem_key}. Please try "
                        "again later.",
                        type="idempotency_error",
                    ),
                    save=False,
                )
            if saved is None:
                self._in_flight.add(slot)
        if saved is not None:
            if (saved.method, saved.path, saved.params) != (method, path, params):
                return _Reply(
                    400,
                    _error_body(
                        "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with. Try using a key other than "
                        f"'{idem_key}' if you meant to execute a different request.",
                        type="idempotency_error",
                    ),
                    save=False,
                )
            record.replayed = True
            replay = copy.deepcopy(saved.reply)
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        try:
            reply = self._route(method, path, params, context)
            reply.headers["Idempotency-Key"] = idem_key
            if reply.save:
                with self._lock:
                    self._saved[slot] = _Saved(
                        method, path, params, copy.deepcopy(reply), saved_at=self._clock()
                    )
            return reply
        finally:
            with self._lock:
                self._in_flight.discard(slot)

    def _route(self, method: str, path: str, params: dict[str, Any], context: str | None) -> _Reply:
        routes: list[tuple[str, str, Any]] = [
            ("POST", r"/v1/accounts", self._create_account),
            ("GET", r"/v1/accounts/(acct_\w+)", self._get_account),
            ("POST", r"/v1/account_links", self._create_account_link),
            ("POST", r"/v1/transfers", self._create_transfer),
            ("GET", r"/v1/transfers", self._list_transfers),
            ("GET", r"/v1/transfers/(\w+)", self._get_transfer),
            ("POST", r"/v1/transfers/(\w+)/reversals", self._create_reversal),
            ("GET", r"/v1/transfers/(\w+)/reversals", self._list_reversals),
            ("GET", r"/v1/transfers/(\w+)/reversals/(\w+)", self._get_reversal),
            ("GET", r"/v1/payouts", self._list_payouts),
            ("GET", r"/v1/payouts/(\w+)", self._get_payout),
            ("GET", r"/v1/balance_transactions", self._list_balance_transactions),
            ("GET", r"/v1/balance_transactions/(\w+)", self._get_balance_transaction),
            ("GET", r"/v1/events", self._list_events),
            ("GET", r"/v1/events/(\w+)", self._get_event),
        ]
        for route_method, pattern, handler in routes:
            found = re.fullmatch(pattern, path)
            if found and route_method == method:
                with self._lock:
                    try:
                        reply: _Reply = handler(params, context, *found.groups())
                    except _Refused as refused:
                        reply = refused.reply
                    return reply
        return _Reply(
            404,
            _error_body(
                f"Unrecognized request URL ({method}: {path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/."
            ),
            save=False,
        )

    # ------------------------------------------------------------------ endpoints

    @staticmethod
    def _missing(param: str) -> _Reply:
        return _Reply(
            400,
            _error_body(f"Missing required param: {param}.", code="parameter_missing", param=param),
            save=False,
        )

    @staticmethod
    def _no_such(kind: str, ident: str, param: str = "id") -> _Reply:
        return _Reply(
            404,
            _error_body(f"No such {kind}: '{ident}'", code="resource_missing", param=param),
        )

    def _create_account(self, params: dict[str, Any], context: str | None) -> _Reply:
        account_type = params.get("type")
        if account_type not in {"express", "standard", "custom"}:
            return _Reply(
                400,
                _error_body(
                    "Invalid type: must be one of express, standard, or custom.",
                    code="parameter_invalid_string",
                    param="type",
                ),
                save=False,
            )
        account = copy.deepcopy(self._templates["account"])
        account_id = _new_id("acct")
        requested = [
            name
            for name, options in (params.get("capabilities") or {}).items()
            if isinstance(options, dict) and options.get("requested") == "true"
        ]
        country = params.get("country", "GB")
        account.update(
            id=account_id,
            type=account_type,
            country=country,
            default_currency="gbp" if country == "GB" else account["default_currency"],
            email=params.get("email"),
            business_type=params.get("business_type"),
            metadata=params.get("metadata") or {},
            created=self.now(),
            charges_enabled=False,
            payouts_enabled=False,
            details_submitted=False,
            capabilities={name: "inactive" for name in requested},
        )
        if account_type == "express":
            account["controller"] = {"is_controller": True, "type": "application"}
        account["external_accounts"]["url"] = f"/v1/accounts/{account_id}/external_accounts"
        self.accounts[account_id] = account
        self._bank_accounts[account_id] = _new_id("ba")
        return _Reply(200, copy.deepcopy(account))

    def _get_account(self, params: dict[str, Any], context: str | None, ident: str) -> _Reply:
        if ident not in self.accounts:
            return self._no_such("account", ident)
        return _Reply(200, copy.deepcopy(self.accounts[ident]))

    def _create_account_link(self, params: dict[str, Any], context: str | None) -> _Reply:
        for required in ("account", "type"):
            if not params.get(required):
                return self._missing(required)
        account_id = params["account"]
        if account_id not in self.accounts:
            return self._no_such("account", account_id, param="account")
        link = copy.deepcopy(self._templates["account_link"])
        now = self.now()
        link.update(
            created=now,
            expires_at=now + 300,
            url=f"{self.url}/onboarding/{account_id}/{secrets.token_urlsafe(9)}",
        )
        self.account_links.append(
            {
                **link,
                "account": account_id,
                "refresh_url": params.get("refresh_url"),
                "return_url": params.get("return_url"),
                "type": params["type"],
            }
        )
        return _Reply(200, link)

    def _create_transfer(self, params: dict[str, Any], context: str | None) -> _Reply:
        for required in ("amount", "currency", "destination"):
            if not params.get(required):
                return self._missing(required)
        amount = _positive_integer("amount", params["amount"])
        if params["currency"].lower() != PLATFORM_CURRENCY:
            return _Reply(
                400,
                _error_body(
                    f"Invalid currency: {params['currency']}. This platform only holds a "
                    "GBP balance.",
                    code="parameter_invalid_string",
                    param="currency",
                ),
                save=False,
            )
        destination = self.accounts.get(params["destination"])
        if destination is None:
            return self._no_such("destination", params["destination"], param="destination")
        # Only the capability matters: with payouts off the money waits in the account's
        # Stripe balance until a payout can be made.
        if destination["capabilities"].get("transfers") != "active":
            return _Reply(
                400,
                _error_body(
                    "Your destination account needs to have at least one of the following "
                    "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                    code="insufficient_capabilities_for_transfer",
                    param="destination",
                ),
            )
        transfer = copy.deepcopy(self._templates["transfer"])
        transfer_id = _new_id("tr")
        payment_id = _new_id("py")
        spent = self._add_balance_transaction(
            None, type="transfer", amount=-amount, source=transfer_id, category="transfer"
        )
        self._add_balance_transaction(
            destination["id"], type="payment", amount=amount, source=payment_id, category="charge"
        )
        transfer.update(
            id=transfer_id,
            amount=amount,
            amount_reversed=0,
            currency=PLATFORM_CURRENCY,
            description=params.get("description"),
            destination=destination["id"],
            destination_payment=payment_id,
            balance_transaction=spent["id"],
            metadata=params.get("metadata") or {},
            created=self.now(),
            reversed=False,
            transfer_group=params.get("transfer_group"),
            source_type="card",
        )
        self.transfers[transfer_id] = transfer
        transfer["reversals"] = self._embedded_reversals(transfer_id)
        return _Reply(200, copy.deepcopy(transfer))

    def _get_transfer(self, params: dict[str, Any], context: str | None, ident: str) -> _Reply:
        if ident not in self.transfers:
            return self._no_such("transfer", ident)
        return _Reply(200, copy.deepcopy(self.transfers[ident]))

    def _list_transfers(self, params: dict[str, Any], context: str | None) -> _Reply:
        universe = list(self.transfers.values())
        items = _created_between(universe, params)
        for name in ("destination", "transfer_group"):
            if params.get(name):
                items = [t for t in items if t[name] == params[name]]
        return _page("/v1/transfers", "transfer", universe, items, params)

    def _create_reversal(
        self, params: dict[str, Any], context: str | None, transfer_id: str
    ) -> _Reply:
        amount = None
        if params.get("amount") not in (None, ""):
            amount = _positive_integer("amount", params["amount"])
        reversal, event = self._reverse(transfer_id, amount, params.get("metadata") or {})
        self._deliver_in_background(event["id"])
        return _Reply(200, copy.deepcopy(reversal))

    def _transfer_reversals(self, transfer_id: str) -> list[dict[str, Any]]:
        if transfer_id not in self.transfers:
            raise _Refused(self._no_such("transfer", transfer_id))
        return [r for r in self.reversals.values() if r["transfer"] == transfer_id]

    def _list_reversals(
        self, params: dict[str, Any], context: str | None, transfer_id: str
    ) -> _Reply:
        universe = self._transfer_reversals(transfer_id)
        url = f"/v1/transfers/{transfer_id}/reversals"
        return _page(url, "transfer_reversal", universe, universe, params)

    def _get_reversal(
        self, params: dict[str, Any], context: str | None, transfer_id: str, ident: str
    ) -> _Reply:
        found = [r for r in self._transfer_reversals(transfer_id) if r["id"] == ident]
        if not found:
            return self._no_such("transfer_reversal", ident)
        return _Reply(200, copy.deepcopy(found[0]))

    def _account_payouts(self, context: str | None) -> list[dict[str, Any]]:
        return [p for p in self.payouts.values() if self._payout_account[p["id"]] == context]

    def _list_payouts(self, params: dict[str, Any], context: str | None) -> _Reply:
        universe = self._account_payouts(context)
        items = _created_between(universe, params)
        if params.get("status"):
            items = [p for p in items if p["status"] == params["status"]]
        return _page("/v1/payouts", "payout", universe, items, params)

    def _get_payout(self, params: dict[str, Any], context: str | None, ident: str) -> _Reply:
        # A connected account's payout is only found with that account in Stripe-Account.
        if ident not in self.payouts or self._payout_account[ident] != context:
            return self._no_such("payout", ident)
        return _Reply(200, copy.deepcopy(self.payouts[ident]))

    def _list_balance_transactions(self, params: dict[str, Any], context: str | None) -> _Reply:
        universe = [
            t for t in self.balance_transactions.values() if self._txn_account[t["id"]] == context
        ]
        items = _created_between(universe, params)
        payout = params.get("payout")
        if payout:
            if payout not in self.payouts or self._payout_account[payout] != context:
                return self._no_such("payout", payout, param="payout")
            items = [t for t in items if self._txn_payout.get(t["id"]) == payout]
        for name in ("type", "source", "currency"):
            if params.get(name):
                items = [t for t in items if t[name] == params[name]]
        return _page("/v1/balance_transactions", "balance_transaction", universe, items, params)

    def _get_balance_transaction(
        self, params: dict[str, Any], context: str | None, ident: str
    ) -> _Reply:
        if ident not in self.balance_transactions or self._txn_account[ident] != context:
            return self._no_such("balance transaction", ident)
        return _Reply(200, copy.deepcopy(self.balance_transactions[ident]))

    def _visible_events(self, context: str | None) -> list[dict[str, Any]]:
        return [e for e in self.events.values() if e.get("account") == context]

    def _list_events(self, params: dict[str, Any], context: str | None) -> _Reply:
        universe = self._visible_events(context)
        items = _created_between(universe, params)
        if params.get("type"):
            items = [e for e in items if e["type"] == params["type"]]
        return _page("/v1/events", "event", universe, items, params)

    def _get_event(self, params: dict[str, Any], context: str | None, ident: str) -> _Reply:
        event = self.events.get(ident)
        if event is None or event.get("account") != context:
            return self._no_such("event", ident)
        return _Reply(200, copy.deepcopy(event))

    def _onboarding_page(self, path: str) -> tuple[int, bytes]:
        found = re.fullmatch(r"/onboarding/(acct_\w+)/[\w-]+", path)
        link = None
        if found:
            with self._lock:
                link = next((x for x in self.account_links if x["url"].endswith(path)), None)
        if link is None:
            return 404, b"<h1>No such onboarding link</h1>"
        page = (
            "<!doctype html><title>Stripe stand-in onboarding</title>"
            f"<h1>Onboarding for {link['account']}</h1>"
            "<p>Tests finish onboarding with <code>complete_onboarding()</code>.</p>"
            f'<p><a href="{link["return_url"]}">Return to Coprod</a></p>'
        )
        return 200, page.encode()


class _Handler(BaseHTTPRequestHandler):
    owner: StripeStandIn
    server_version = "stripe-standin/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self, method: str) -> None:
        owner = self.owner
        with owner._idle:
            owner._busy += 1
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path.startswith("/onboarding/") and method == "GET":
                status, page = owner._onboarding_page(urlsplit(self.path).path)
                self._write(status, page, {"Content-Type": "text/html; charset=utf-8"})
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply, delay = owner.handle(method, self.path, headers, body)
            if delay:
                owner._stall(delay)
            out_headers = {
                "Content-Type": "application/json",
                "Request-Id": _new_id("req"),
                "Stripe-Version": headers.get("stripe-version", ""),
                **reply.headers,
            }
            self._write(reply.status, json.dumps(reply.body, indent=2).encode(), out_headers)
        finally:
            with owner._idle:
                owner._busy -= 1
                owner._idle.notify_all()

    def _write(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a timeout test); Stripe's work is done regardless.
            pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")


@contextmanager
def running_standin(api_key: str = DEFAULT_API_KEY) -> Iterator[StripeStandIn]:
    """A started stand-in, stopped afterwards. For a fixture in any test module:

    @pytest.fixture
    def standin():
        with running_standin() as s:
            yield s
    """
    standin = StripeStandIn(api_key)
    standin.start()
    try:
        yield standin
    finally:
        standin.stop()
