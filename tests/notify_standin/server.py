"""The stand-in served over HTTP: starting and stopping it, faults on demand, authentication,
routing each request to its endpoint, and the HTTP handler."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.notify_standin.auth import key_type_for
from tests.notify_standin.callbacks import CallbacksMixin
from tests.notify_standin.wire import (
    API_PAGE_SIZE,
    Fault,
    Refused,
    Reply,
    RequestRecord,
    bad_request,
    error_reply,
    is_uuid,
    validation_error,
)
from tests.standin_http import StandInHandler

RATE_LIMIT_MESSAGE = "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds"
# What Notify (or the load balancer in front of it) answers when it fails, by status.
FAULT_BODIES: dict[int, tuple[str, str]] = {
    400: ("BadRequestError", "An error occurred"),
    403: ("AuthError", "Invalid token: API key not found"),
    429: ("RateLimitError", RATE_LIMIT_MESSAGE),
    500: ("Exception", "Internal server error"),
    504: ("EventletTimeout", "Timeout serving request"),
}
DAILY_LIMIT_MESSAGE = "Exceeded send limits ({kind}: {limit}) for today"
GATEWAY_PAGE = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


class _Handler(StandInHandler):
    server_version = "notify-standin/1.0"

    def serve(self, method: str, body: bytes, headers: dict[str, str]) -> None:
        reply, delay = self.owner.handle(method, self.path, headers, body)
        if delay:
            self.owner._stall(delay)
        payload = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
        self.write(reply.status, payload, {"Content-Type": reply.content_type})


class NotifyStandIn(CallbacksMixin):
    """GOV.UK Notify's API v2 on a local port; see the package's docstring for what it covers."""

    name = "Notify"
    handler = _Handler

    def env(self) -> dict[str, str]:
        """The settings that point Coprod at this stand-in, as environment variables."""
        return {
            "NOTIFY_API_KEY": self.api_key,
            "NOTIFY_API_BASE": self.url,
            "NOTIFY_SMS_TEMPLATE_ID": self.sms_template_id,
            "NOTIFY_EMAIL_TEMPLATE_ID": self.email_template_id,
            "NOTIFY_CALLBACK_TOKEN": self.callback_token,
        }

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
        error: str | None = None,
    ) -> None:
        """Answer the next `times` matching requests with `status` before Notify does any work.

        The body is Notify's for that status: 429 is a `RateLimitError` (or, with
        `error="TooManyRequestsError"`, the daily limit), 500 Notify's "Internal server error",
        502 and 503 the load balancer's HTML page (the client then says "Request failed").
        """
        with self._lock:
            self._faults.append(
                self.make_fault(path_prefix, method, times, status=status, error=error)
            )

    def _fault_reply(self, fault: Fault, path: str) -> Reply:
        if fault.status in (502, 503):
            return Reply(fault.status, None, raw=GATEWAY_PAGE, content_type="text/html")
        if fault.error == "TooManyRequestsError":
            kind = path.rstrip("/").rsplit("/", 1)[-1]
            message = DAILY_LIMIT_MESSAGE.format(kind=kind, limit=250000)
            return error_reply(fault.status, "TooManyRequestsError", message)
        error, message = FAULT_BODIES.get(fault.status, ("Exception", "Internal server error"))
        return error_reply(fault.status, fault.error or error, message)

    # ------------------------------------------------------------------ request handling

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[Reply, float]:
        """Returns the reply and how long to hold it back."""
        split = urlsplit(target)
        path = split.path
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = body.decode(errors="replace")
        record = RequestRecord(method, path, split.query, parsed)
        with self._lock:
            self.requests.append(record)

        fault = self._take_fault(method, path)
        delay = 0.0
        if fault is not None and fault.status:
            record.fault = f"status {fault.status}"
            reply = self._fault_reply(fault, path)
            record.status = reply.status
            return reply, 0.0
        if fault is not None:
            record.fault = f"hang {fault.hang_seconds}s"
            if fault.lose_reply:
                delay = fault.hang_seconds
            else:
                self._stall(fault.hang_seconds)

        try:
            key_type = key_type_for(
                headers.get("authorization"), self.service_id, self._live_secrets()
            )
            record.key_type = key_type
            reply = self._route(method, path, split.query, body, key_type)
        except Refused as refused:
            reply = refused.reply
        record.status = reply.status
        return reply, delay

    def _route(self, method: str, path: str, query: str, body: bytes, key_type: str) -> Reply:
        with self._lock:
            if method == "POST":
                found = re.fullmatch(r"/v2/notifications/(\w+)", path)
                if found and found.group(1) in ("sms", "email", "letter"):
                    try:
                        form = json.loads(body) if body else {}
                    except ValueError as e:
                        raise bad_request("Invalid JSON supplied in POST data") from e
                    return self._post_notification(found.group(1), form or {}, key_type)
            if method == "GET":
                if path == "/v2/notifications":
                    return self._list_notifications(parse_qsl(query), key_type)
                found = re.fullmatch(r"/v2/notifications/([^/]+)", path)
                if found:
                    return self._get_notification(found.group(1))
                if path == "/v2/received-text-messages":
                    return self._received_texts(dict(parse_qsl(query)))
        # Flask's own 404 page, JSON-ified by Notify's error handler.
        return error_reply(404, "NotFound", "The requested URL was not found on the server.")

    def _received_texts(self, query: dict[str, str]) -> Reply:
        older_than = query.get("older_than")
        if older_than is not None and not is_uuid(older_than):
            raise validation_error("older_than is not a valid UUID")
        texts = list(reversed(self.received_texts))
        if older_than is not None:
            ids = [t["id"] for t in texts]
            texts = texts[ids.index(older_than) + 1 :] if older_than in ids else []
        page = texts[:API_PAGE_SIZE]
        links = {"current": f"{self.url}/v2/received-text-messages"}
        if page:
            links["next"] = f"{self.url}/v2/received-text-messages?older_than={page[-1]['id']}"
        return Reply(
            200,
            {
                "received_text_messages": [
                    {
                        "id": t["id"],
                        "created_at": t["date_received"],
                        "service_id": self.service_id,
                        "notify_number": t["destination_number"],
                        "user_number": t["source_number"],
                        "content": t["message"],
                    }
                    for t in page
                ],
                "links": links,
            },
        )


@contextmanager
def running_standin(**options: Any) -> Iterator[NotifyStandIn]:
    """A started stand-in, stopped afterwards; `options` go to `NotifyStandIn(...)`."""
    standin = NotifyStandIn(**options)
    standin.start()
    try:
        yield standin
    finally:
        standin.stop()
