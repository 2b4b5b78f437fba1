"""The container's health check for the web process: `python -m acs.probe [PATH]`.

Asks this container's gunicorn for PATH (default /healthz/live, acs/health.py) and exits 0
when it answers 200, 1 otherwise. Standard library only and no Django set-up, so a check every
15 seconds costs a few milliseconds. The Host header is the first name in ALLOWED_HOSTS (a
production deployment allows only its own names, and Django would answer 400 to 127.0.0.1).

The image's HEALTHCHECK asks /healthz/live (the process answers; an orchestrator that restarts
unhealthy containers must not restart web for a database outage); docker-compose.yml's web
service asks /healthz/ready (database, cache and a worker on each queue), which is what
"ready for traffic" means there.
"""

from __future__ import annotations

import http.client
import os
import sys

PATH = "/healthz/live"
PATHS = {"/healthz", "/healthz/live", "/healthz/ready"}


def probe_host() -> str:
    for name in os.environ.get("ALLOWED_HOSTS", "").split(","):
        name = name.strip()
        if name and "*" not in name and not name.startswith("."):
            return name
    return "localhost"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = args[0] if args else PATH
    if path not in PATHS:
        print(f"probe: {path} is not a health path ({', '.join(sorted(PATHS))})", file=sys.stderr)
        return 2
    port = int(os.environ.get("PORT", "8000"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=8)
    try:
        connection.request("GET", path, headers={"Host": probe_host()})
        status = connection.getresponse().status
    except OSError as exc:
        print(f"probe: {path} unreachable ({type(exc).__name__})", file=sys.stderr)
        return 1
    finally:
        connection.close()
    if status != 200:
        print(f"probe: {path} answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
