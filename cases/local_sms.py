"""A local Twilio-compatible SMS provider (127.0.0.1) for development, tests and benchmarks;
never used in production. It accepts
`POST /2010-04-01/Accounts/{sid}/Messages.json` (form-encoded To, From, Body, StatusCallback)
with HTTP basic auth, and lists what it accepted at `GET .../Messages.json?To=...`.

`statuses` scripts the answers to sends (the last one repeats; a 429 comes with Retry-After:
`retry_after`); `delay` slows each send, to catch a worker in the middle of one;
`drop_after_accept` accepts a text and then closes the connection without an answer (the
sender cannot tell whether it went out). Every accepted
message is kept in `accepted`; `requests` counts sends (accepted or not) and `lookups` the
listings (`SmsProvider.find_sent`).

Two servers answer the same way: `start()` serves from a thread per connection in the caller's
process (the tests, which script it and read `accepted`), and `serve()` from one event loop
(`python -m cases.local_sms`, what `dev.py up` runs and what `ProviderProcess` starts for the
benchmark in a process of its own, its counts at `GET /_local/stats`).
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SID = "ACtest"
TOKEN = "test-auth-token"  # noqa: S105 - the local receiver's fixed, published credential
_EXPECTED = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
_PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"
STATS_PATH = "/_local/stats"


def provider_settings(base_url: str) -> dict[str, str]:
    """The settings that send to the local provider at `base_url`."""
    return {
        "SMS_API_BASE_URL": base_url,
        "SMS_ACCOUNT_SID": SID,
        "SMS_AUTH_TOKEN": TOKEN,
        "SMS_FROM_NUMBER": "+15055550000",
    }


class _Server(ThreadingHTTPServer):
    # Room for every sender's connections at once (the default backlog of 5 resets some when
    # a few worker processes each open several).
    request_queue_size = 128
    daemon_threads = True

    def handle_error(self, request, client_address):
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):  # a sender that gave up waiting
            super().handle_error(request, client_address)


@dataclass
class SmsReceiver:
    statuses: list[int] = field(default_factory=lambda: [201])
    delay: float = 0.0
    retry_after: int = 1  # the Retry-After of a scripted 429, seconds
    drop_after_accept: bool = False
    accepted: list[dict] = field(default_factory=list)
    requests: int = 0
    lookups: int = 0
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_accept: Callable[[dict], None] | None = None  # told of each accepted text
    url: str = ""  # where `serve` listens

    @property
    def base_url(self) -> str:
        if self.server is None:
            return self.url
        host, port = self.server.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        return f"http://{host}:{port}"

    def settings(self) -> dict[str, str]:
        return provider_settings(self.base_url)

    def bodies_to(self, phone: str) -> list[str]:
        return [m["body"] for m in self.accepted if m["to"] == phone]

    # --- what it answers, whichever server serves it -------------------------------------

    def _refused(self, method: str, target: str, authorization: str | None) -> tuple | None:
        """(status, body) when the request is not for us or not ours to take, else None."""
        if authorization != _EXPECTED:
            return 401, {"code": 20003, "message": "Authenticate"}
        if method == "POST" and urlsplit(target).path != _PATH:
            return 404, {"code": 20404, "message": "Not found"}
        return None

    def _count(self) -> int:
        """A send arrived: the status scripted for it."""
        with self.lock:
            index = min(self.requests, len(self.statuses) - 1)
            self.requests += 1
            return self.statuses[index]

    def _outcome(self, status: int, form: dict) -> tuple[int, dict | None, dict]:
        """(status, body, headers) of a send's answer; body None: accepted, then the line
        drops without an answer."""
        if status == 429:  # Twilio's "Too Many Requests", with the wait it asks for
            body = {"code": 20429, "message": "Too Many Requests"}
            return 429, body, {"Retry-After": str(self.retry_after)}
        if status >= 400:
            code = 21211 if status == 400 else 20500
            return status, {"code": code, "message": f"Scripted {status}"}, {}
        message = {
            "sid": "SM" + uuid.uuid4().hex,
            "to": form.get("To", ""),
            "from": form.get("From", ""),
            "body": form.get("Body", ""),
            "status": "queued",
            "status_callback": form.get("StatusCallback", ""),
            "date_created": datetime.now(UTC).isoformat(),
        }
        with self.lock:
            self.accepted.append(message)
        if self.on_accept is not None:
            self.on_accept(message)
        if self.drop_after_accept:
            return 201, None, {}
        return 201, message, {}

    def _listing(self, target: str) -> tuple[int, dict]:
        """`GET .../Messages.json?To=...` (the sender's lookup), or this receiver's counts at
        `GET /_local/stats` (what a benchmark in another process reads; `?reset=1` starts
        them again)."""
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self.lock:
            if parts.path == STATS_PATH:
                per_number = Counter(m["to"] for m in self.accepted)
                stats = {
                    "accepted": len(self.accepted),
                    "requests": self.requests,
                    "lookups": self.lookups,
                    "numbers_twice": sum(1 for n in per_number.values() if n > 1),
                }
                if query.get("reset"):
                    self.accepted.clear()
                    self.requests = self.lookups = 0
                return 200, stats
            self.lookups += 1
            found = [m for m in self.accepted if m["to"] == query.get("To")]
        return 200, {"messages": found}

    # --- served by a thread per connection (tests: in the test's own process) ----------------

    def start(self, port: int = 0) -> SmsReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, as a real provider's API: every answer carries its Content-Length.
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes

            def _answer(self, status: int, body: dict, headers: dict | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                refused = receiver._refused("POST", self.path, self.headers.get("Authorization"))
                if refused:
                    return self._answer(*refused)
                status = receiver._count()
                if receiver.delay:
                    time.sleep(receiver.delay)
                status, body, headers = receiver._outcome(status, form)
                if body is None:
                    self.close_connection = True  # no answer: the line drops
                    return None
                return self._answer(status, body, headers)

            def do_GET(self):
                refused = receiver._refused("GET", self.path, self.headers.get("Authorization"))
                if refused:
                    return self._answer(*refused)
                return self._answer(*receiver._listing(self.path))

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    # --- served by one event loop (a process of its own: `python -m cases.local_sms`) -------

    async def serve(self, port: int = 0, ready=None) -> None:
        """Serve on 127.0.0.1:`port` from this thread's event loop until cancelled: one
        coroutine per connection, kept alive, each answer one write with TCP_NODELAY (no
        thread per connection contending for the interpreter lock). `ready(url)` is called
        once listening."""
        import asyncio

        server = await asyncio.start_server(self._connection, "127.0.0.1", port, backlog=1024)
        host, bound = server.sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{bound}"
        if ready is not None:
            ready(self.url)
        async with server:
            await server.serve_forever()

    async def _connection(self, reader, writer) -> None:
        import asyncio
        import socket

        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
                    return  # the sender closed it (or sent what is not HTTP)
                lines = head.decode("latin-1").split("\r\n")
                method, target, version = ([*lines[0].split(" ", 2), "", ""])[:3]
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                data = await reader.readexactly(length) if length else b""
                closing = headers.get("connection", "").lower() == "close" or version != "HTTP/1.1"
                refused = self._refused(method, target, headers.get("authorization"))
                extra: dict = {}
                if refused:
                    status, body = refused
                elif method == "POST":
                    form = {k: v[0] for k, v in parse_qs(data.decode()).items()}
                    status = self._count()
                    if self.delay:
                        await asyncio.sleep(self.delay)
                    status, body, extra = self._outcome(status, form)
                    if body is None:
                        return  # accepted, and the line drops without an answer
                elif method == "GET":
                    status, body = self._listing(target)
                else:
                    status, body = 405, {"code": 20405, "message": "Method not allowed"}
                payload = json.dumps(body).encode()
                answer = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
                answer += [f"{name}: {value}" for name, value in extra.items()]
                answer += [
                    "Content-Type: application/json",
                    f"Content-Length: {len(payload)}",
                    "Connection: close" if closing else "Connection: keep-alive",
                ]
                writer.write(("\r\n".join(answer) + "\r\n\r\n").encode("latin-1") + payload)
                if writer.transport.get_write_buffer_size() > 65536:
                    await writer.drain()
                if closing:
                    return
        finally:
            writer.close()

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


class ProviderProcess:
    """The local provider in a process of its own, served by one event loop (`serve`): what
    a benchmark sends to, so that the provider neither shares an interpreter lock with the
    benchmark nor serves each connection from a thread. Its counts come from
    `GET /_local/stats`."""

    def __init__(self, cwd: str | None = None):
        self.cwd = cwd
        self.process: Any = None
        self.base_url = ""

    def start(self) -> ProviderProcess:
        import subprocess
        import sys

        self.process = subprocess.Popen(
            [sys.executable, "-m", "cases.local_sms", "--port", "0", "--quiet"],
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()  # "Local SMS provider at http://... (...)"
        if " at http://" not in line:
            self.stop()
            raise RuntimeError("The local SMS provider did not start.")
        self.base_url = line.split(" at ", 1)[1].split()[0]
        return self

    def settings(self) -> dict[str, str]:
        return provider_settings(self.base_url)

    def stats(self, *, reset: bool = False) -> dict:
        """{"accepted", "requests", "lookups", "numbers_twice"} since the last reset."""
        import http.client

        parts = urlsplit(self.base_url)
        client = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
        try:
            target = STATS_PATH + ("?reset=1" if reset else "")
            client.request("GET", target, headers={"Authorization": _EXPECTED})
            return json.loads(client.getresponse().read())
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except Exception:
                self.process.kill()
                self.process.wait()
            self.process.stdout.close()
            self.process = None


def main(argv: list[str] | None = None) -> None:
    """`python -m cases.local_sms --port 8025`: the texting side of `dev.py up`, served by one
    event loop. It prints where it listens, then each text it accepts (the number's last four
    digits only; not with --quiet), and keeps running until stopped."""
    import argparse
    import asyncio
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8025, help="0: any free port")
    parser.add_argument("--quiet", action="store_true", help="do not print each text")
    args = parser.parse_args(argv)

    def shown(message: dict) -> None:
        print(f"[sms to …{message['to'][-4:]}] {message['body']}", file=sys.stdout, flush=True)

    receiver = SmsReceiver(on_accept=None if args.quiet else shown)

    def ready(url: str) -> None:
        print(f"Local SMS provider at {url} (account {SID})", flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(receiver.serve(args.port, ready))


if __name__ == "__main__":
    main()
