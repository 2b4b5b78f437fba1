"""The SMS transport: one keep-alive connection per sending thread (cases/channels.py)."""

import json
import socket
import threading
import time

import pytest

from cases import channels


class ClosesWhenIdle:
    """A provider that answers each request on a keep-alive connection, then closes the
    connection as soon as it is idle (as providers and load balancers do after a while)."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.connections = 0
        self.requests = 0
        self.closed = 0
        threading.Thread(target=self.serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(
                    next(
                        (
                            line.split(b":")[1]
                            for line in head.split(b"\r\n")
                            if line.lower().startswith(b"content-length")
                        ),
                        b"0",
                    )
                )
                while len(body) < length:
                    body += conn.recv(65536)
                self.requests += 1
                answer = json.dumps({"sid": f"SM{self.requests}"}).encode()
                conn.sendall(
                    b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                    b"Connection: keep-alive\r\nContent-Length: "
                    + str(len(answer)).encode()
                    + b"\r\n\r\n"
                    + answer
                )
            # closed here, idle, without "Connection: close"
            self.closed += 1

    def close(self):
        self.listener.close()


@pytest.fixture
def provider():
    server = ClosesWhenIdle()
    yield server
    server.close()


def test_a_connection_the_provider_closed_while_idle_is_not_used_again(provider):
    sms = channels.SmsProvider(
        base_url=provider.url, account_sid="AC", auth_token="t", from_number="+15055550000"
    )
    assert sms.send(to="+15055550101", body="one") == "SM1"
    # The provider has closed the first connection; the second text must not be lost on it
    # (an answer that never came would hold the text for a provider lookup).
    # (awaited: the provider's close, not only its answer, must have happened first)
    deadline = time.monotonic() + 5
    while provider.closed < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert provider.closed == 1
    assert sms.send(to="+15055550102", body="two") == "SM2"
    assert provider.connections == 2


def test_a_refused_connection_is_a_transient_error_that_may_not_have_sent():
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    sms = channels.SmsProvider(
        base_url=f"http://127.0.0.1:{port}", account_sid="AC", auth_token="t", from_number="+1"
    )
    with pytest.raises(channels.TransientError) as caught:
        sms.send(to="+15055550101", body="one")
    assert str(caught.value) == "ConnectionError"
