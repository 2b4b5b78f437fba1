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
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SID = "ACtest"
TOKEN = "test-auth-token"  # noqa: S105 - the local receiver's fixed, published credential


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

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def settings(self) -> dict[str, str]:
        return {
            "SMS_API_BASE_URL": self.base_url,
            "SMS_ACCOUNT_SID": SID,
            "SMS_AUTH_TOKEN": TOKEN,
            "SMS_FROM_NUMBER": "+15055550000",
        }

    def bodies_to(self, phone: str) -> list[str]:
        return [m["body"] for m in self.accepted if m["to"] == phone]

    def start(self, port: int = 0) -> SmsReceiver:
        receiver = self
        expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        path = f"/2010-04-01/Accounts/{SID}/Messages.json"

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
                if self.headers.get("Authorization") != expected:
                    return self._answer(401, {"code": 20003, "message": "Authenticate"})
                if urlsplit(self.path).path != path:
                    return self._answer(404, {"code": 20404, "message": "Not found"})
                with receiver.lock:
                    index = min(receiver.requests, len(receiver.statuses) - 1)
                    receiver.requests += 1
                    status = receiver.statuses[index]
                if receiver.delay:
                    time.sleep(receiver.delay)
                if status == 429:  # Twilio's "Too Many Requests", with the wait it asks for
                    body = {"code": 20429, "message": "Too Many Requests"}
                    return self._answer(429, body, {"Retry-After": str(receiver.retry_after)})
                if status >= 400:
                    code = 21211 if status == 400 else 20500
                    return self._answer(status, {"code": code, "message": f"Scripted {status}"})
                message = {
                    "sid": "SM" + uuid.uuid4().hex,
                    "to": form.get("To", ""),
                    "from": form.get("From", ""),
                    "body": form.get("Body", ""),
                    "status": "queued",
                    "status_callback": form.get("StatusCallback", ""),
                    "date_created": datetime.now(UTC).isoformat(),
                }
                with receiver.lock:
                    receiver.accepted.append(message)
                if receiver.drop_after_accept:
                    self.close_connection = True  # no answer: the line drops
                    return None
                return self._answer(201, message)

            def do_GET(self):
                if self.headers.get("Authorization") != expected:
                    return self._answer(401, {"code": 20003, "message": "Authenticate"})
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                with receiver.lock:
                    receiver.lookups += 1
                    found = [m for m in receiver.accepted if m["to"] == query.get("To")]
                return self._answer(200, {"messages": found})

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def main(argv: list[str] | None = None) -> None:
    """`python -m cases.local_sms --port 8025`: the texting side of `dev.py up`. It prints each
    text it accepts (the number's last four digits only) and keeps running until stopped."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8025)
    args = parser.parse_args(argv)
    receiver = SmsReceiver().start(port=args.port)
    print(f"Local SMS provider at {receiver.base_url} (account {SID})", flush=True)
    shown = 0
    try:
        while True:
            time.sleep(0.5)
            with receiver.lock:
                new = receiver.accepted[shown:]
                shown += len(new)
            for message in new:
                print(
                    f"[sms to …{message['to'][-4:]}] {message['body']}", file=sys.stdout, flush=True
                )
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()


if __name__ == "__main__":
    main()
