"""The benchmark's server and users: gunicorn on a free port with this database, and signed-in
HTTP sessions of bench users made on the server as a sign-in leaves them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection

from acs.embedded import database_url as embedded_database_url


def database_url() -> str:
    """This connection's database as a DATABASE_URL (the embedded server's socket too)."""
    return embedded_database_url(connection.settings_dict)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(workers: int = 2, root: str | os.PathLike[str] | None = None) -> Iterator[str]:
    """gunicorn with the project's settings (acs/gunicorn_conf.py) on a free port, on this
    database, DEBUG off; yields its base URL and stops it on the way out. `root`: the checkout
    whose code it runs (another one, to compare with: bench_interleaved); this one's by
    default."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url(), "DEBUG": "0", "WEB_CONCURRENCY": "2"}
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            *(sys.executable, "-m", "gunicorn", "-c", "python:acs.gunicorn_conf"),
            *("--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
            *("--access-logfile", "/dev/null", "acs.wsgi"),
        ],
        cwd=root or settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # two workers booting on a loaded machine
        while True:
            try:
                if requests.get(f"{base}/api/hsds/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:  # not listening or still booting
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                tail = log.read().decode(errors="replace")[-2000:]
                raise CommandError(f"gunicorn did not start:\n{tail}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def bench_session(role: str) -> requests.Session:
    """A signed-in HTTP session of a bench user of `role`, made on the server as a sign-in
    leaves it: django.contrib.auth's login, and allauth's records of the password and (for desk
    staff, acs/mfa.py) the second factor."""
    # allauth's own writer of those records (its sign-in flows call it; internal module).
    from allauth.account.internal.flows.login import record_authentication
    from django.contrib.auth import get_user_model, login
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    from acs.roles import STAFF_ROLES

    user, _ = get_user_model().objects.get_or_create(
        username=f"bench-{role}",
        defaults={"email": f"bench-{role}@example.org", "is_staff": role in STAFF_ROLES},
    )
    user.groups.add(Group.objects.get(name=role))
    request = RequestFactory().get("/")
    request.session = SessionStore()
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    record_authentication(request, user, method="password")
    if role in STAFF_ROLES:
        record_authentication(request, user, method="mfa", type="totp")
    request.session.save()
    http = requests.Session()
    http.cookies.set(settings.SESSION_COOKIE_NAME, request.session.session_key)
    return http


def get(http: requests.Session, url: str, params: dict | None = None) -> requests.Response:
    response = http.get(url, params=params, timeout=60, allow_redirects=False)
    if response.status_code != 200:
        raise CommandError(f"GET {response.url} answered {response.status_code}")
    return response
