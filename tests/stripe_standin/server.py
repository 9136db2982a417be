"""The stand-in served over HTTP: starting and stopping it, faults on demand, Idempotency-Key
handling, routing each request to its endpoint, and the HTTP handler."""

from __future__ import annotations

import copy
import hmac
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.standin_http import StandInHandler
from tests.stripe_standin.accounts import AccountsMixin
from tests.stripe_standin.money import MoneyMixin
from tests.stripe_standin.wire import (
    DEFAULT_API_KEY,
    IDEMPOTENCY_KEY_LIFETIME,
    Fault,
    Refused,
    Reply,
    RequestRecord,
    Saved,
    decode_form,
    error_body,
    new_id,
)


class _Handler(StandInHandler):
    server_version = "stripe-standin/1.0"

    def serve(self, method: str, body: bytes, headers: dict[str, str]) -> None:
        owner = self.owner
        if self.path.startswith("/onboarding/") and method == "GET":
            status, page = owner._onboarding_page(urlsplit(self.path).path)
            self.write(status, page, {"Content-Type": "text/html; charset=utf-8"})
            return
        reply, delay = owner.handle(method, self.path, headers, body)
        if delay:
            owner._stall(delay)
        out_headers = {
            "Content-Type": "application/json",
            "Request-Id": new_id("req"),
            "Stripe-Version": headers.get("stripe-version", ""),
            **reply.headers,
        }
        self.write(reply.status, json.dumps(reply.body, indent=2).encode(), out_headers)


class StripeStandIn(AccountsMixin, MoneyMixin):
    """Stripe's API on a local port; see the package's docstring for what it covers."""

    name = "Stripe"
    handler = _Handler

    # ------------------------------------------------------------------ faults

    def make_fault(self, path_prefix: str, method: str | None, times: int, **how: Any) -> Fault:
        return Fault(path_prefix, method, times, **how)

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
                self.make_fault(
                    path_prefix, method, times, status=status, should_retry=should_retry
                )
            )

    # ------------------------------------------------------------------ request handling

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[Reply, float]:
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

    def _fault_reply(self, fault: Fault) -> Reply:
        if fault.status == 429:
            body = error_body(
                "Too many requests hit the API too quickly. We recommend an exponential "
                "backoff of your requests.",
                code="rate_limit",
            )
        elif fault.status >= 500:
            body = error_body(
                "Sorry, something went wrong. We've already been notified of the problem.",
                type="api_error",
            )
        else:
            body = error_body(f"Injected fault ({fault.status}).")
        headers = {}
        if fault.should_retry is not None:
            headers["Stripe-Should-Retry"] = "true" if fault.should_retry else "false"
        return Reply(fault.status, body, headers, save=False)

    def _authenticated(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        idem_key: str | None,
        record: RequestRecord,
    ) -> Reply:
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return Reply(
                401,
                error_body(
                    "You did not provide an API key. You need to provide your API key in the "
                    "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                    "YOUR_SECRET_KEY')."
                ),
                save=False,
            )
        key = auth[7:].strip()
        if not hmac.compare_digest(key, self.api_key):
            return Reply(
                401,
                error_body(f"Invalid API Key provided: {key[:8]}{'*' * 8}{key[-4:]}"),
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
                return Reply(
                    409,
                    error_body(
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
                return Reply(
                    400,
                    error_body(
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
                    self._saved[slot] = Saved(
                        method, path, params, copy.deepcopy(reply), saved_at=self._clock()
                    )
            return reply
        finally:
            with self._lock:
                self._in_flight.discard(slot)

    def _route(self, method: str, path: str, params: dict[str, Any], context: str | None) -> Reply:
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
                        reply: Reply = handler(params, context, *found.groups())
                    except Refused as refused:
                        reply = refused.reply
                    return reply
        return Reply(
            404,
            error_body(
                f"Unrecognized request URL ({method}: {path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/."
            ),
            save=False,
        )


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
