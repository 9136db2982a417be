"""A local stand-in for Stripe's API, for tests.

Stripe is the only outside service the tests replace. The real `stripe` library talks to this
server over real HTTP (point `StripeGateway(api_base=standin.url)` at it), so the request
encoding, headers, retries, timeouts and error classes under test are the library's own.

What it covers, shaped from Stripe's own example objects (/work/shared/stripe/fixtures3.json):

- accounts (`POST /v1/accounts`, `GET /v1/accounts/{id}`), Express onboarding via
  `POST /v1/account_links` and `complete_onboarding()`;
- transfers (`POST /v1/transfers`, `GET /v1/transfers/{id}`, `GET /v1/transfers`);
- events (`GET /v1/events/{id}`, `GET /v1/events`) and signed webhook deliveries.

Behaviour copied from Stripe, because the code under test relies on it:

- Idempotency-Key (per API key): the first response is saved once the endpoint starts work
  and replayed for the same method, path and parameters (with `Idempotent-Replayed: true`);
  the same key with anything different is a 400 `idempotency_error`. As on Stripe, malformed
  parameters and injected faults are not saved, so a retry runs afresh; business failures
  (an unknown destination, one without payouts) are saved and replayed, so a payer must use a
  new key for a genuinely new attempt. A second request arriving while the first with the same
  key is still running gets a 409, which stripe-python retries.
- `Authorization: Bearer <key>` must match the stand-in's key (401 otherwise).
- Events on a connected account carry `account`, and are only visible with that account in the
  `Stripe-Account` header.

Faults on demand: `fail_next()` (500, 429, ... before the endpoint runs, so nothing is saved)
and `hang_next()` (a stalled reply, to trip client timeouts).
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
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


def _load_templates(path: Path = FIXTURES) -> dict[str, dict[str, Any]]:
    resources = json.loads(path.read_text())["resources"]
    return {name: resources[name] for name in ("account", "account_link", "transfer", "event")}


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
        self.accounts: dict[str, dict[str, Any]] = {}
        self.account_links: list[dict[str, Any]] = []
        self.transfers: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.requests: list[RequestRecord] = []
        self.deliveries: list[Delivery] = []
        self._webhook_url: str | None = None
        self._webhook_secret: str = DEFAULT_WEBHOOK_SECRET
        self._webhook_client: Any = None

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
            for key in ("currently_due", "eventually_due", "past_due"):
                account["requirements"][key] = []
            account["requirements"]["disabled_reason"] = None
            account["tos_acceptance"]["date"] = int(time.time())
            return self.record_event(
                "account.updated", account, account=account_id, previous_attributes=previous
            )

    def reverse_transfer(self, transfer_id: str) -> dict[str, Any]:
        """Reverse a whole transfer (as the Dashboard would) and record `transfer.reversed`."""
        with self._lock:
            transfer = self.transfers[transfer_id]
            previous = {"amount_reversed": transfer["amount_reversed"], "reversed": False}
            transfer["amount_reversed"] = transfer["amount"]
            transfer["reversed"] = True
            transfer["reversals"]["data"].append(
                {
                    "id": _new_id("trr"),
                    "object": "transfer_reversal",
                    "amount": transfer["amount"],
                    "currency": transfer["currency"],
                    "created": int(time.time()),
                    "transfer": transfer_id,
                    "metadata": {},
                }
            )
            return self.record_event("transfer.reversed", transfer, previous_attributes=previous)

    # ------------------------------------------------------------------ webhooks

    def webhook_target(
        self, url: str, secret: str = DEFAULT_WEBHOOK_SECRET, *, client: Any = None
    ) -> None:
        """Where signed events go. `client` (an httpx.AsyncClient, e.g. on the ASGI app in
        process) carries async deliveries; without it they are real HTTP POSTs."""
        self._webhook_url = url
        self._webhook_secret = secret
        self._webhook_client = client

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
            created=int(time.time()),
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
                    self._saved[slot] = _Saved(method, path, params, copy.deepcopy(reply))
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
            ("GET", r"/v1/events", self._list_events),
            ("GET", r"/v1/events/(\w+)", self._get_event),
        ]
        for route_method, pattern, handler in routes:
            found = re.fullmatch(pattern, path)
            if found and route_method == method:
                with self._lock:
                    reply: _Reply = handler(params, context, *found.groups())
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
            created=int(time.time()),
            charges_enabled=False,
            payouts_enabled=False,
            details_submitted=False,
            capabilities={name: "inactive" for name in requested},
        )
        if account_type == "express":
            account["controller"] = {"is_controller": True, "type": "application"}
        account["external_accounts"]["url"] = f"/v1/accounts/{account_id}/external_accounts"
        self.accounts[account_id] = account
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
        now = int(time.time())
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
        try:
            amount = int(params["amount"])
        except ValueError:
            return _Reply(
                400,
                _error_body(
                    f"Invalid integer: {params['amount']}",
                    code="parameter_invalid_integer",
                    param="amount",
                ),
                save=False,
            )
        if amount < 1:
            return _Reply(
                400,
                _error_body(
                    "This value must be greater than or equal to 1.",
                    code="parameter_invalid_integer",
                    param="amount",
                ),
                save=False,
            )
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
        transfers_capability = destination["capabilities"].get("transfers")
        if not destination["payouts_enabled"] or transfers_capability != "active":
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
        transfer.update(
            id=transfer_id,
            amount=amount,
            amount_reversed=0,
            currency=PLATFORM_CURRENCY,
            description=params.get("description"),
            destination=destination["id"],
            destination_payment=_new_id("py"),
            balance_transaction=_new_id("txn"),
            metadata=params.get("metadata") or {},
            created=int(time.time()),
            reversed=False,
            transfer_group=params.get("transfer_group"),
            source_type="card",
        )
        transfer["reversals"] = {
            "data": [],
            "has_more": False,
            "object": "list",
            "url": f"/v1/transfers/{transfer_id}/reversals",
        }
        self.transfers[transfer_id] = transfer
        return _Reply(200, copy.deepcopy(transfer))

    def _get_transfer(self, params: dict[str, Any], context: str | None, ident: str) -> _Reply:
        if ident not in self.transfers:
            return self._no_such("transfer", ident)
        return _Reply(200, copy.deepcopy(self.transfers[ident]))

    @staticmethod
    def _list(url: str, items: list[dict[str, Any]], params: dict[str, Any]) -> _Reply:
        limit = max(1, min(100, int(params.get("limit", 10))))
        # Newest first, as Stripe lists.
        ordered = list(reversed(items))
        return _Reply(
            200,
            {
                "object": "list",
                "url": url,
                "has_more": len(ordered) > limit,
                "data": copy.deepcopy(ordered[:limit]),
            },
        )

    def _list_transfers(self, params: dict[str, Any], context: str | None) -> _Reply:
        items = list(self.transfers.values())
        if params.get("destination"):
            items = [t for t in items if t["destination"] == params["destination"]]
        return self._list("/v1/transfers", items, params)

    def _visible_events(self, context: str | None) -> list[dict[str, Any]]:
        return [e for e in self.events.values() if e.get("account") == context]

    def _list_events(self, params: dict[str, Any], context: str | None) -> _Reply:
        items = self._visible_events(context)
        if params.get("type"):
            items = [e for e in items if e["type"] == params["type"]]
        return self._list("/v1/events", items, params)

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
