"""An HTTP proxy that makes an EC2 API misbehave on purpose — a TEST TOOL, never used by the portal.

It stands between the portal's EC2 provider and moto's EC2 server (docs/security.md faults) and forwards
every request, except that:

- a `fail_rate` fraction of RunInstances calls, picked by a seeded random generator, get EC2's
  503 answer (Code "Unavailable"): either refused before the cloud sees them (`fault="refuse"`)
  or after the cloud made the node (`fault="lose_answer"`: the caller is told it failed, so its
  retry must find that node instead of making a second one);
- once `quota` RunInstances went through, the next ones get EC2's permanent 400
  InstanceLimitExceeded (moto has no instance limit); `quota = None` lifts it;
- after `hold_answers()`, RunInstances answers are kept back — the node exists, the caller
  waits — until `release()`, so a test can kill a worker in the middle of creates;
- `slow_actions` delays the answers to the Actions it names (a slow cloud widens races);
- after `stall()`, the cloud stops answering: every request is kept, never forwarded and never
  answered, until `resume()` (the callers' timeouts meet it; the cloud never saw those requests);
- every request is counted by its Action (`calls`), to measure what an operation costs.

    with FaultProxy("http://127.0.0.1:5000", fail_rate=0.3, seed=7) as proxy:
        ...  # point the cloud at proxy.host, proxy.port
"""

from __future__ import annotations

import http.client
import random
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

UNAVAILABLE = (503, "Unavailable", "The server is overloaded and can't handle the request.")
# Headers not passed on as they came: hop-by-hop ones, and those the proxy writes itself.
NOT_PASSED_ON = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade",
                 "content-length", "server", "date"}  # fmt: skip
HOLD_LIMIT = 30.0  # seconds an answer is kept back at most, should a test forget to release it
# Seconds the cloud behind may take to answer: longer than the portal's longest read (a list's: 60 s,
# 600 s with the tests' CLOUD_API_TIMEOUT), so that a slow cloud meets the portal's timeouts, not the proxy's.
UPSTREAM_TIMEOUT = 900.0


def ec2_error(code: str, message: str) -> bytes:
    """An error document as EC2 writes them."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{escape(code)}</Code>'
        f"<Message>{escape(message)}</Message></Error></Errors><RequestID>{uuid.uuid4()}</RequestID></Response>"
    ).encode()


def error_answer(error: tuple[int, str, str]) -> tuple[int, list, bytes]:
    status, code, message = error
    return status, [("Content-Type", "text/xml")], ec2_error(code, message)


def quota_error(limit: int) -> tuple[int, str, str]:
    return (400, "InstanceLimitExceeded",
            f"You have requested more instances (1) than your current instance limit of {limit} allows "
            "for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request "
            "to request an adjustment to this limit.")  # fmt: skip


def action_of(path: str, body: bytes) -> str:
    """The EC2 Action, from the query string (libcloud sends GETs) or the form body (boto3 POSTs)."""
    fields = parse_qs(urlsplit(path).query)
    if not fields.get("Action") and body:
        fields = parse_qs(body.decode("utf-8", "replace"))
    return (fields.get("Action") or ["?"])[0]


class FaultProxy:
    def __init__(self, target: str, *, fail_rate: float = 0.0, fault: str = "refuse", seed: int = 0,
                 quota: int | None = None, host: str = "127.0.0.1"):  # fmt: skip
        if fault not in ("refuse", "lose_answer"):
            raise ValueError(f"unknown fault {fault!r}")
        parts = urlsplit(target)
        self.target_host, self.target_port = parts.hostname, parts.port
        self.fail_rate, self.fault, self.quota = fail_rate, fault, quota
        self.host = host
        self.calls: Counter = Counter()  # requests by Action
        self.requests: list[tuple[str, str, str]] = []  # (method, path with query, Action) of each
        self.faults: Counter = Counter()  # error codes answered instead of the cloud's
        self.admitted = 0  # RunInstances let through to the cloud
        self.held = 0  # answers being kept back right now
        self.slow_actions: dict[str, float] = {}  # Action -> seconds every answer to it takes
        self._random = random.Random(seed)  # noqa: S311 - reproducible faults, not crypto
        self._lock = threading.Lock()
        self._holding = False
        self._released = threading.Event()
        self.stalled = 0  # requests kept unanswered by stall() so far
        self._answering = threading.Event()
        self._answering.set()
        self._server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------ control

    def __enter__(self) -> FaultProxy:
        handler = type("Handler", (_Handler,), {"proxy": self})
        self._server = ThreadingHTTPServer((self.host, 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()
        self.resume()
        self._server.shutdown()
        self._server.server_close()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def hold_answers(self) -> None:
        with self._lock:
            self._holding = True
            self._released.clear()

    def release(self) -> None:
        with self._lock:
            self._holding = False
            self._released.set()

    def stall(self) -> None:
        """The cloud hangs: requests from now on get no answer at all until resume()."""
        self._answering.clear()

    def resume(self) -> None:
        """The cloud answers again; the requests kept while it hung are dropped unanswered."""
        self._answering.set()

    def reset_counts(self) -> None:
        with self._lock:
            self.calls.clear()
            self.faults.clear()
            self.requests.clear()

    # ------------------------------------------------------------------ decisions

    def _admit(self) -> tuple[int, str, str] | None:
        """The error to answer a RunInstances with instead of forwarding it, or None to forward."""
        with self._lock:
            if self.quota is not None and self.admitted >= self.quota:
                error = quota_error(self.quota)
            elif self.fault == "refuse" and self._random.random() < self.fail_rate:
                error = UNAVAILABLE
            else:
                self.admitted += 1
                return None
            self.faults[error[1]] += 1
            return error

    def _lose_answer(self) -> bool:
        with self._lock:
            lose = self.fault == "lose_answer" and self._random.random() < self.fail_rate
            if lose:
                self.faults[UNAVAILABLE[1]] += 1
            return lose

    def _hold(self) -> None:
        with self._lock:
            if not self._holding:
                return
            self.held += 1
        try:
            self._released.wait(HOLD_LIMIT)
        finally:
            with self._lock:
                self.held -= 1

    def _forward(self, method: str, path: str, headers, body: bytes) -> tuple[int, list, bytes]:
        connection = http.client.HTTPConnection(self.target_host, self.target_port, timeout=UPSTREAM_TIMEOUT)
        try:
            kept = {k: v for k, v in headers.items() if k.lower() not in NOT_PASSED_ON}
            connection.request(method, path, body=body or None, headers=kept)
            answer = connection.getresponse()
            return answer.status, answer.getheaders(), answer.read()
        finally:
            connection.close()


class _Handler(BaseHTTPRequestHandler):
    proxy: FaultProxy

    def _proxy(self) -> None:
        proxy = self.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        action = action_of(self.path, body)
        with proxy._lock:
            proxy.calls[action] += 1
            proxy.requests.append((self.command, self.path, action))
        if not proxy._answering.is_set():
            with proxy._lock:
                proxy.stalled += 1
            proxy._answering.wait()
            self.close_connection = True  # its caller gave up long ago: no answer, as from a hung cloud
            return
        if action == "RunInstances" and (error := proxy._admit()):
            return self._answer(*error_answer(error))
        status, headers, answer = proxy._forward(self.command, self.path, self.headers, body)
        time.sleep(proxy.slow_actions.get(action, 0.0))
        if action == "RunInstances" and status == 200:
            if proxy._lose_answer():
                status, headers, answer = error_answer(UNAVAILABLE)
            else:
                proxy._hold()
        self._answer(status, headers, answer)

    do_GET = do_POST = _proxy

    def _answer(self, status: int, headers, body: bytes) -> None:
        try:
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in NOT_PASSED_ON:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller is gone (a killed worker): nobody to answer

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's signature
        pass
