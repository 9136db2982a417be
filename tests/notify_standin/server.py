"""The stand-in served over HTTP: starting and stopping it, faults on demand, authentication,
routing each request to its endpoint, and the HTTP handler."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


class NotifyStandIn(CallbacksMixin):
    """GOV.UK Notify's API v2 on a local port; see the package's docstring for what it covers."""

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> NotifyStandIn:
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

    def __enter__(self) -> NotifyStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until no request is being handled (e.g. a hung one has finished its work)."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._busy == 0, timeout=timeout):
                raise TimeoutError("the Notify stand-in is still handling a request")

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
            self._faults.append(Fault(path_prefix, method, times, status=status, error=error))

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

        With `lose_reply` (the default) Notify does the work first and only the reply is late:
        past the client's timeout, the notification exists but the sender never learns its id,
        and must look it up by reference before sending again. Otherwise the request is held
        before Notify sees it, then handled as normal: a slow reply.
        """
        with self._lock:
            self._faults.append(
                Fault(path_prefix, method, times, hang_seconds=seconds, lose_reply=lose_reply)
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

    def _take_fault(self, method: str, path: str) -> Fault | None:
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

    def requests_to(self, path: str, method: str = "POST") -> list[RequestRecord]:
        with self._lock:
            return [r for r in self.requests if r.path == path and r.method == method]

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


class _Handler(BaseHTTPRequestHandler):
    owner: NotifyStandIn
    server_version = "notify-standin/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self, method: str) -> None:
        owner = self.owner
        with owner._idle:
            owner._busy += 1
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply, delay = owner.handle(method, self.path, headers, body)
            if delay:
                owner._stall(delay)
            payload = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
            self._write(reply.status, payload, reply.content_type)
        finally:
            with owner._idle:
                owner._busy -= 1
                owner._idle.notify_all()

    def _write(self, status: int, payload: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a timeout test); Notify's work is done regardless.
            pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")


@contextmanager
def running_standin(**options: Any) -> Iterator[NotifyStandIn]:
    """A started stand-in, stopped afterwards; `options` go to `NotifyStandIn(...)`."""
    standin = NotifyStandIn(**options)
    standin.start()
    try:
        yield standin
    finally:
        standin.stop()
