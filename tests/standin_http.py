"""What the stand-ins for services on the internet (tests/stripe_standin, tests/notify_standin)
share: a threaded HTTP server on a local port, the count of requests in flight, faults on demand
(a failure before any work, a stall, a reply lost after the work was done) and the record of
requests. Each stand-in says how a fault reads and what each endpoint does."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, Self


class Fault(Protocol):
    remaining: int
    hang_seconds: float
    lose_reply: bool

    def matches(self, method: str, path: str) -> bool: ...


class Record(Protocol):
    method: str
    path: str


class HttpStandIn:
    """Serving a stand-in; subclasses give `handler` (a `StandInHandler`), `name` and
    `make_fault`, and call `_serve_from(host)` in their constructor."""

    name = "stand-in"
    handler: type[StandInHandler]

    def _serve_from(self, host: str) -> None:
        self.host = host
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._busy = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._hang_gates: set[threading.Event] = set()
        self._faults: list[Any] = []
        self.requests: list[Any] = []

    def make_fault(self, path_prefix: str, method: str | None, times: int, **how: Any) -> Fault:
        raise NotImplementedError

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        server = ThreadingHTTPServer(
            (self.host, 0), type("Handler", (self.handler,), {"owner": self})
        )
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until no request is being handled (e.g. a hung one has finished its work)."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._busy == 0, timeout=timeout):
                raise TimeoutError(f"the {self.name} stand-in is still handling a request")

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

        With `lose_reply` (the default) the service does the work first and only the reply is
        late: past the client's timeout, the work is done but the caller never hears of it, the
        dangerous case. Otherwise the request is held before the service sees it, then handled
        as normal: a slow reply.
        """
        fault = self.make_fault(
            path_prefix, method, times, hang_seconds=seconds, lose_reply=lose_reply
        )
        with self._lock:
            self._faults.append(fault)

    def release_hangs(self) -> None:
        with self._lock:
            gates = list(self._hang_gates)
        for gate in gates:
            gate.set()

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
        self.release_hangs()

    def requests_to(self, path: str, method: str = "POST") -> list[Any]:
        with self._lock:
            return [r for r in self.requests if r.path == path and r.method == method]

    def _take_fault(self, method: str, path: str) -> Any:
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

    def counted(self) -> _InFlight:
        return _InFlight(self)


class _InFlight:
    """Counts a request in flight, so `wait_idle` knows when the stand-in is quiet."""

    def __init__(self, owner: HttpStandIn) -> None:
        self._owner = owner

    def __enter__(self) -> None:
        with self._owner._idle:
            self._owner._busy += 1

    def __exit__(self, *exc: object) -> None:
        with self._owner._idle:
            self._owner._busy -= 1
            self._owner._idle.notify_all()


class StandInHandler(BaseHTTPRequestHandler):
    """Reads each request and hands it to `serve`, which a stand-in's handler writes."""

    owner: Any

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def serve(self, method: str, body: bytes, headers: dict[str, str]) -> None:
        raise NotImplementedError

    def _serve(self, method: str) -> None:
        with self.owner.counted():
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            self.serve(method, body, {k.lower(): v for k, v in self.headers.items()})

    def write(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a timeout test); the service's work is done regardless.
            pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")
