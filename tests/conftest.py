"""Personas and the rules for tests that need a real service.

Tests run against real PostgreSQL (the embedded one when DATABASE_URL is unset) and, where they
are marked `redis`, real Redis from REDIS_URL. Without Redis those tests are skipped and the run
says so loudly at the end; with CI=true a missing service fails the run instead.
"""

import asyncio
import os
import shutil
import time

import pytest
from django.core.cache.backends.redis import RedisCache
from django.db import connections
from django.test import Client
from django.utils import translation

from acs.roles import Role
from tests.database import django_db_setup  # noqa: F401 - the test database from a template
from tests.factories import OrganizationFactory, TeamFactory, UnitFactory, UserFactory
from tests.oidc_idp import oidc_idp, sso  # noqa: F401 - fixtures: a real OIDC IdP, SSO set up
from tests.saml_idp import saml, saml_idp_server  # noqa: F401 - the same with a SAML IdP

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
SKIP_PREFIX = "needs "  # the skip message of a test that wants a service
_missing_services: dict[str, str] = {}  # test id: "service: reason"


def service_missing(service: str, reason: str) -> None:
    """Skip the running test for want of a service, or fail it in CI."""
    if IN_CI:
        pytest.fail(f"CI needs {service} but {reason}", pytrace=False)
    pytest.skip(f"{SKIP_PREFIX}{service}: {reason}")


def pytest_runtest_logreport(report):
    """Note each test skipped for want of a service, from its report: under pytest-xdist the
    reports come from the workers to the controller, which prints the list at the end (so do
    the tests that a module-scoped fixture's skip skipped after the first)."""
    if report.skipped and isinstance(report.longrepr, tuple):
        message = str(report.longrepr[2])
        if message.startswith(f"Skipped: {SKIP_PREFIX}"):
            _missing_services[report.nodeid] = message.removeprefix(f"Skipped: {SKIP_PREFIX}")


def redis_url_or_skip() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        service_missing("Redis", "REDIS_URL is not set")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        service_missing("Redis", f"{type(exc).__name__} connecting to REDIS_URL")
    return url


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def chromium_or_skip() -> str:
    """The system Chromium (Debian's `chromium` package) and the playwright package that
    drives it; `playwright install` is never used."""
    if not shutil.which(CHROMIUM):
        service_missing("Chromium", f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        service_missing("Playwright", "the playwright package is not installed (uv sync)")
    return CHROMIUM


@pytest.fixture(autouse=True)
def _require_marked_services(request):
    if request.node.get_closest_marker("redis"):
        redis_url_or_skip()
    if request.node.get_closest_marker("browser"):
        chromium_or_skip()


@pytest.fixture(autouse=True)
def _no_tasks_left_by_earlier_tests(request):
    """A test that starts a worker finds its queues empty. Tests before it in this process
    may have queued tasks no worker ran (their queues are this process's, tests/environment.py);
    a worker started later ran those first, and a test that waited for "a batch task
    succeeded" saw the stale one, which had claimed nothing (CI, stop 36)."""
    if request.node.get_closest_marker("worker"):
        redis_url_or_skip()
        no_tasks_left_by_earlier_tests()


def no_tasks_left_by_earlier_tests() -> None:
    from acs.celery import app

    app.control.purge()  # the queues of CELERY_TASK_QUEUES: this process's only


def start_in_the_default_language() -> None:
    """Django's LocaleMiddleware activates a language for each request and never resets it, so
    a test-client request as a Spanish-speaking user left Spanish active in the test's thread,
    and a later test there read `get_kind_display()` in Spanish (CI, stop 36)."""
    translation.deactivate()


@pytest.fixture(autouse=True)
def _default_language():
    start_in_the_default_language()
    yield
    start_in_the_default_language()


@pytest.fixture(autouse=True)
def _role_groups_after_a_flush(request):
    """A transactional test may follow another one's flush, which empties the role groups and
    their permissions the data migrations made: put them back, so no such test depends on the
    order of the run (a supervisor signed in by SSO after another browser test was refused
    the admin's residents page)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    from django.contrib.auth.models import Group

    if Group.objects.filter(name=Role.SUPERVISOR.value, permissions__isnull=False).exists():
        return
    from tests.journeys.harness import ROLE_DATA, replay_migration_data

    replay_migration_data(ROLE_DATA)
    for role in Role:
        Group.objects.get_or_create(name=role.value)


@pytest.fixture(scope="session")
def _chromium_of_this_process():
    """One Playwright driver and one Chromium for each test process (each xdist worker),
    started when its first browser test asks for it: starting them took 6-8 s of a busy
    2-core machine, each test's context about 1 s (#19). The same connection does the
    downloads, so `download.path()` works (a `launch-server` browser is remote and does not).

    Between sync calls Playwright leaves its event loop marked as running in this thread (the
    user code marks it, see playwright/_impl/_greenlets.py): `browser` marks it only for the
    test that asks for it and clears it again after, so no later test runs under a loop."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=chromium_or_skip())
    except BaseException:
        playwright.stop()
        raise
    finally:
        loop = _running_loop_cleared()
    yield chromium, loop
    asyncio.events._set_running_loop(loop)
    try:
        chromium.close()
    finally:
        playwright.stop()
        asyncio.events._set_running_loop(None)


def _live_server_requests_finished(request, timeout: float = 10.0) -> None:
    """Wait for the requests the live server is still answering (a page the browser asked
    for just before it closed): a transactional test's flush after it TRUNCATEs every table,
    and a request reading them meanwhile deadlocked with it (CI, a field app test, once).
    The server's request threads are socketserver.ThreadingMixIn's, which tracks them to
    join on close (`_threads`, `block_on_close`); the live server stays up for the session."""
    if "live_server" not in request.fixturenames:
        return
    server = getattr(request.getfixturevalue("live_server").thread, "httpd", None)
    for thread in list(getattr(server, "_threads", ())):
        thread.join(timeout)


def _running_loop_cleared():
    loop = asyncio.events._get_running_loop()
    asyncio.events._set_running_loop(None)
    return loop


@pytest.fixture
def browser(monkeypatch, request):
    """Headless Chromium for tests marked `browser`. Playwright's sync API runs an event loop
    in the test's thread, so Django's guard against database calls from async code is lifted
    for the test (the calls are still synchronous).

    The Chromium is the test process's own (`_chromium_of_this_process`), shared by its
    browser tests one after the other; each test makes its own contexts (`new_context`,
    `new_page`), which share nothing, and whatever contexts it leaves open are closed after
    it, so the next test finds the browser as a fresh one."""
    chromium_or_skip()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    chromium, loop = request.getfixturevalue("_chromium_of_this_process")
    asyncio.events._set_running_loop(loop)
    try:
        yield chromium
        for context in chromium.contexts:
            context.close()
        _live_server_requests_finished(request)
    finally:
        # While Playwright's event loop runs in this thread, Django keeps database connections
        # per context (asgiref's Local), so the test's code opened connections of its own:
        # close them here, while the loop is still marked, or the test database cannot be
        # dropped at the end of the run.
        connections.close_all()
        _running_loop_cleared()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _missing_services:
        lines = sorted(set(_missing_services.values()))
        terminalreporter.section("SKIPPED FOR WANT OF A SERVICE", sep="!", red=True, bold=True)
        terminalreporter.write_line(
            f"{len(_missing_services)} test(s) did not run because a service is missing:",
            red=True,
            bold=True,
        )
        for line in lines:
            terminalreporter.write_line(f"  - {line}", red=True)
        terminalreporter.write_line(
            "Start the service and set its URL (see .env.example) to run them. "
            "In CI (CI=true) this is a failure.",
            red=True,
        )


# --- clearing the cache clears this process's keys only ----------------------------------------


def _clear_own_keys(self) -> bool:
    """`cache.clear()` on Redis is a FLUSHDB: it would empty the other xdist workers' cache
    and their Celery queues (and anyone else's on that Redis database). In tests it deletes the
    keys under this process's key prefix (tests/environment.py), which are all it ever wrote."""
    import re

    client = self._cache.get_client(write=True)
    pattern = re.sub(r"([*?\[\]\\])", r"\\\1", self.key_prefix) + ":*"
    keys = list(client.scan_iter(match=pattern, count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])
    return True


RedisCache.clear = _clear_own_keys


# --- force_login is a whole sign-in -----------------------------------------------------------

_django_force_login = Client.force_login


def _force_login_with_second_factor(self, user, backend=None):
    """`client.force_login(user)` stands for a whole sign-in, second factor included: for a user
    who has a TOTP or a passkey, the session records that it passed it, as allauth records it
    after its second-factor step (acs/mfa.py reads that record). Tests of the sign-in itself go
    through the real pages; `client.login()` stays a password-only sign-in."""
    from allauth.account.internal.flows.login import (
        _AUTHENTICATION_METHODS_USER_SESSION_KEY,
        AUTHENTICATION_METHODS_SESSION_KEY,
    )
    from allauth.account.internal.userkit import user_id_to_str
    from allauth.mfa.models import Authenticator

    _django_force_login(self, user, backend)
    factor = (
        Authenticator.objects.filter(user=user, type__in=["totp", "webauthn"]).first()
        if user.pk
        else None
    )
    if factor is not None:
        session = self.session
        now = time.time()
        session[AUTHENTICATION_METHODS_SESSION_KEY] = [
            {"method": "password", "at": now, "username": user.username},
            {"method": "mfa", "at": now, "id": factor.pk, "type": factor.type},
        ]
        session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = user_id_to_str(user)
        session.save()


Client.force_login = _force_login_with_second_factor


# --- personas -------------------------------------------------------------------------------


@pytest.fixture
def team(db):
    return TeamFactory(name="Behavioral Health Responders")


@pytest.fixture
def unit(team):
    return UnitFactory(call_sign="ACS-11", team=team)


@pytest.fixture
def responder(unit):
    user = UserFactory(username="responder", role=Role.RESPONDER, team=unit.team)
    unit.members.add(user)
    return user


@pytest.fixture
def case_manager(db):
    return UserFactory(username="casemanager", role=Role.CASE_MANAGER)


@pytest.fixture
def supervisor(team):
    return UserFactory(username="supervisor", role=Role.SUPERVISOR, team=team)


@pytest.fixture
def agency_a(db):
    return OrganizationFactory(name="Agency A")


@pytest.fixture
def agency_b(db):
    return OrganizationFactory(name="Agency B")


@pytest.fixture
def partner_a(agency_a):
    return UserFactory(username="partner-a", role=Role.PARTNER_USER, organization=agency_a)


@pytest.fixture
def partner_b(agency_b):
    return UserFactory(username="partner-b", role=Role.PARTNER_USER, organization=agency_b)


@pytest.fixture
def cad_client(db):
    return UserFactory(username="cad", role=Role.CAD_INTEGRATION)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role=Role.ADMIN)


@pytest.fixture
def outsider(db):
    """Signed in, but holds no role at all."""
    return UserFactory(username="outsider")
