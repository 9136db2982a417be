"""Events and their signed webhook deliveries, and the `/v1/events` endpoints."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from tests.stripe_standin.state import StandInState
from tests.stripe_standin.wire import (
    DEFAULT_WEBHOOK_SECRET,
    Delivery,
    Reply,
    created_between,
    new_id,
    no_such,
    page,
)


class EventsMixin(StandInState):
    """Events and webhooks, mixed into `StripeStandIn`; the accounts and money mixins build on
    it, since what they do records events and delivers them."""

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
            id=new_id("evt"),
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

    # ------------------------------------------------------------------ endpoints

    def _visible_events(self, context: str | None) -> list[dict[str, Any]]:
        return [e for e in self.events.values() if e.get("account") == context]

    def _list_events(self, params: dict[str, Any], context: str | None) -> Reply:
        universe = self._visible_events(context)
        items = created_between(universe, params)
        if params.get("type"):
            items = [e for e in items if e["type"] == params["type"]]
        return page("/v1/events", "event", universe, items, params)

    def _get_event(self, params: dict[str, Any], context: str | None, ident: str) -> Reply:
        event = self.events.get(ident)
        if event is None or event.get("account") != context:
            return no_such("event", ident)
        return Reply(200, copy.deepcopy(event))
