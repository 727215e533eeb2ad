"""A loopback HTTP receiver standing in for a clinic's pager or SMS gateway: it records every
POST body it gets and answers 500 to the first ``fail_first`` of them, 200 after."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


@dataclass(frozen=True)
class Received:
    at: float  # time.time() when it arrived
    status: int  # what the receiver answered
    body: bytes
    headers: dict[str, str]

    def json(self) -> dict[str, object]:
        message = json.loads(self.body)
        assert isinstance(message, dict)
        return message


class AlertReceiver:
    """``with AlertReceiver() as receiver:`` … ``receiver.url`` … ``receiver.wait_for(1)``."""

    def __init__(self, *, fail_first: int = 0, path: str = "/hook") -> None:
        self.fail_first = fail_first
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    failing = len(receiver.received) < receiver.fail_first
                    status = 500 if failing else 200
                    receiver.received.append(
                        Received(time.time(), status, body, dict(self.headers.items()))
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet test output

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}{path}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> AlertReceiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def delivered(self) -> list[Received]:
        """The POSTs answered 200."""
        return [r for r in self.snapshot() if r.status == 200]

    def wait_until(
        self, condition: Callable[[list[Received]], bool], *, timeout: float = 30.0
    ) -> list[Received]:
        """Poll until ``condition`` holds for what arrived (a generous deadline, not a timing
        assertion); returns what arrived either way."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.snapshot()
            if condition(got):
                return got
            time.sleep(0.05)
        return self.snapshot()
