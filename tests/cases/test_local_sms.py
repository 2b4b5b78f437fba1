"""The local SMS provider served by one event loop in a process of its own (what `dev.py up` and
the benchmark run), spoken to by the sender's own keep-alive client (channels._Connection,
over http.client)."""

import socket
import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from cases import channels
from cases.local_sms import ProviderProcess


@pytest.fixture
def provider():
    process = ProviderProcess().start()
    yield process
    process.stop()


def sms_provider(process: ProviderProcess, **overrides) -> channels.SmsProvider:
    s = {**process.settings(), **overrides}
    return channels.SmsProvider(
        s["SMS_API_BASE_URL"], s["SMS_ACCOUNT_SID"], s["SMS_AUTH_TOKEN"], s["SMS_FROM_NUMBER"]
    )


def test_the_event_loop_provider_answers_as_twilio_does_over_one_kept_connection(provider):
    sender = sms_provider(provider)
    before = timezone.now() - timedelta(seconds=5)
    sids = [sender.send(to=f"+1505555{i:04d}", body=f"text {i}") for i in range(20)]
    assert len(set(sids)) == 20 and all(sid.startswith("SM") for sid in sids)
    # The sender's lookup for an ambiguous send finds what went out, and only that.
    assert sender.find_sent(to="+15055550007", body="text 7", since=before) == sids[7]
    assert sender.find_sent(to="+15055550007", body="text 8", since=before) is None
    assert provider.stats() == {"accepted": 20, "requests": 20, "lookups": 2, "numbers_twice": 0}
    # One connection for this thread, kept alive across the 22 requests.
    port = urlsplit(provider.base_url).port
    (connection,) = [
        c for k, c in channels._local.connections.items() if k != "pid" and k[2] == port
    ]
    assert connection.http.sock is not None
    assert provider.stats(reset=True)["accepted"] == 20 and provider.stats()["accepted"] == 0


def test_a_wrong_token_is_refused_and_sends_nothing(provider):
    with pytest.raises(channels.PermanentError, match="HTTP 401 20003"):
        sms_provider(provider, SMS_AUTH_TOKEN="wrong").send(to="+15055550100", body="x")
    assert provider.stats()["accepted"] == 0


def test_the_client_reads_chunked_answers_and_a_close():
    """A provider behind a proxy may answer chunked, and may close after an answer."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    answers = [
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'6\r\n{"sid"\r\n8\r\n: "SM1"}\r\n0\r\n\r\n',
        b'HTTP/1.1 201 Created\r\nContent-Length: 14\r\nConnection: close\r\n\r\n{"sid": "SM2"}',
    ]
    connections = []

    def serve():
        conn, _ = listener.accept()
        connections.append(conn)
        reader = conn.makefile("rb")
        for answer in answers:
            # The whole request, however TCP splits it: headers, then Content-Length bytes.
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            reader.read(length)
            conn.sendall(answer)
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    sender = channels.SmsProvider(f"http://127.0.0.1:{port}", "AC", "token", "+15055550000")
    assert sender.send(to="+15055550100", body="one") == "SM1"
    assert sender.send(to="+15055550101", body="two") == "SM2"
    thread.join(5)
    listener.close()
    assert len(connections) == 1  # both requests on one kept connection
    # "Connection: close": the client dropped it rather than reuse a closed line.
    (connection,) = [
        c for k, c in channels._local.connections.items() if k != "pid" and k[2] == port
    ]
    assert connection.http.sock is None
