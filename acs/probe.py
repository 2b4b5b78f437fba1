"""The container's HEALTHCHECK for the web process: `python -m acs.probe`.

Asks this container's gunicorn for /healthz (acs/health.py) and exits 0 when it answers 200,
1 otherwise. Standard library only and no Django set-up, so a check every 15 seconds costs a
few milliseconds. The Host header is the first name in ALLOWED_HOSTS (a production deployment
allows only its own names, and Django would answer 400 to 127.0.0.1).

/healthz checks the database, the cache and the queues: a web container reports unhealthy when
PostgreSQL is down. If a cheap liveness path is added (/healthz/live), point PATH at it so that
an orchestrator does not restart web containers for an outage of the database.
"""

from __future__ import annotations

import http.client
import os
import sys

PATH = "/healthz"


def probe_host() -> str:
    for name in os.environ.get("ALLOWED_HOSTS", "").split(","):
        name = name.strip()
        if name and "*" not in name and not name.startswith("."):
            return name
    return "localhost"


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=8)
    try:
        connection.request("GET", PATH, headers={"Host": probe_host()})
        status = connection.getresponse().status
    except OSError as exc:
        print(f"probe: {PATH} unreachable ({type(exc).__name__})", file=sys.stderr)
        return 1
    finally:
        connection.close()
    if status != 200:
        print(f"probe: {PATH} answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
