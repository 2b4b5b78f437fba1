"""One role's working day, walked in headless Chromium through the real pages of the demo.

Each journey starts from `seed_demo` (the data a newcomer sees after `python3 dev.py up`),
signs in through the one sign-in page with the printed demo password (desk roles set up their
authenticator the first time, as a new member of staff does), and walks the day screen by screen.

`Journey` collects every response answered 4xx/5xx that the step did not expect, every console
error and every uncaught page error; `finish()` fails the test on any of them. `shot(name)`
writes a screenshot of the screen at each of the journey's two sizes (a tablet or phone, and a
desktop) to .local/artifacts/journeys/<role>/.
"""

from __future__ import annotations

import io
import re
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from acs.management.commands.seed_demo import demo_password
from tests.totp import totp_now

ARTIFACTS = Path(settings.BASE_DIR) / ".local" / "artifacts" / "journeys"

DESKTOP = {"width": 1440, "height": 900}
DESK_TABLET = {"width": 1024, "height": 768}
FIELD_TABLET = {"width": 800, "height": 1280}
PHONE = {"width": 390, "height": 844}


# What the data migrations make (roles' permissions, the default follow-up rules, the ACS needs
# taxonomy): (module, function).
MIGRATION_DATA = [
    ("responders.migrations.0002_roles", "create_roles"),
    ("cases.migrations.0003_role_permissions", "grant"),
    ("cases.migrations.0006_default_follow_up_rules", "create"),
    ("cases.migrations.0007_follow_up_permissions", "grant"),
    ("cases.migrations.0010_default_referral_follow_up_rules", "create"),
    ("cases.migrations.0012_notification_permissions", "grant"),
    ("acs.migrations.0004_supervisor_sees_audit", "grant"),
    ("resources.migrations.0005_acs_needs_taxonomy", "forwards"),
    ("resources.migrations.0007_referral_permissions", "grant"),
    ("cases.migrations.0032_eligibility_permissions", "grant"),
    ("cases.migrations.0037_shipped_forms", "load"),
    ("cases.migrations.0038_form_permissions", "grant"),
]


# The part of it that gives the roles their permissions.
ROLE_DATA = [entry for entry in MIGRATION_DATA if entry[1] in ("create_roles", "grant")]


def replay_migration_data(entries=MIGRATION_DATA) -> None:
    """Run data migrations' functions again (each is idempotent) on the models as the
    migrations see them (their functions change what they are given)."""
    from importlib import import_module

    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from cases.models import FollowUpRule

    apps = MigrationExecutor(connection).loader.project_state().apps
    rules_made = FollowUpRule.objects.exists()
    with connection.schema_editor() as editor:
        for module, function in entries:
            if rules_made and "follow_up_rules" in module:
                continue  # made once, in that order only
            getattr(import_module(module), function)(apps, editor)


def seed_demo() -> None:
    """The demo as `dev.py up` loads it, on the database as migrations leave it. A transactional
    test may follow another one's flush, which empties what data migrations made: it is made
    again first (each of those functions is idempotent)."""
    replay_migration_data()
    call_command("seed_demo", "--quiet-logins", stdout=io.StringIO())


class Journey:
    def __init__(self, browser, base_url: str, role: str, sizes: tuple[dict, dict]):
        self.base_url = base_url
        self.role = role
        self.sizes = sizes
        self.context = browser.new_context(viewport=sizes[1])
        self.page = self.context.new_page()
        # Two shared cores: pages can be slow, not wrong.
        self.page.set_default_timeout(60_000)
        self.problems: list[str] = []
        self.expected: list[tuple[str, int]] = []
        self.shots: list[Path] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.page.on("response", self._response)
        self.folder = ARTIFACTS / role
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()

    def _console(self, message) -> None:
        # A failed load is reported by _response, with its address and whether it was expected.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.problems.append(f"{self.page.url}: console error: {message.text}")

    def _response(self, response) -> None:
        if response.status < 400:
            return
        for part, status in self.expected:
            if part in response.url and status == response.status:
                return
        self.problems.append(f"{response.request.method} {response.url}: {response.status}")

    @contextmanager
    def expecting(self, url_part: str, status: int):
        """A step whose point is a refusal (a 404 for another agency's record, say)."""
        self.expected.append((url_part, status))
        try:
            yield
        finally:
            self.expected.remove((url_part, status))

    def url(self, path: str) -> str:
        return self.base_url + path

    def goto(self, path: str):
        response = self.page.goto(self.url(path))
        self.page.wait_for_load_state("networkidle")
        return response

    def at(self, pattern: str) -> None:
        """Wait until the page is at `pattern` (a regular expression of the path)."""
        expected = re.compile(re.escape(self.base_url) + pattern + r"(\?[^#]*)?(#.*)?$")
        try:
            self.page.wait_for_url(expected, timeout=30_000)
        except Exception as error:
            raise AssertionError(f"expected {pattern}, at {self.page.url}") from error
        self.page.wait_for_load_state("networkidle")

    def shot(self, name: str) -> None:
        """The current screen at both sizes, the larger last (the journey carries on in it)."""
        number = len(self.shots) // 2 + 1
        for size, label in zip(self.sizes, ("small", "large"), strict=True):
            self.page.set_viewport_size(size)
            # Two animation frames: the page has laid itself out at the new size.
            self.page.evaluate(
                "() => new Promise((done) =>"
                " requestAnimationFrame(() => requestAnimationFrame(done)))"
            )
            # Nothing pushes the page sideways past the screen (a tablet scrolls one way).
            wider = self.page.evaluate(
                """() => [...document.querySelectorAll('body *')]
                    .filter((e) => e.getBoundingClientRect().right > innerWidth + 1)
                    .filter((e) => !e.closest('.results, pre, .opblock-body, table'))
                    // A map's panes are larger than its box by design, and clipped by it.
                    .filter((e) => !e.closest('.leaflet-pane'))
                    .slice(0, 3)
                    .map((e) => `${e.tagName}.${e.className}#${e.id}`)"""
            )
            if wider:
                self.problems.append(f"{self.page.url} at {size['width']} px: wider {wider}")
            path = self.folder / f"{number:02d}-{name}-{label}.png"
            self.page.screenshot(path=str(path), full_page=True)
            self.shots.append(path)

    def refer_picker(self, typed: str):
        """On a resident's page: open the Refer panel's service picker and type `typed`; its
        search field, to type again."""
        self.page.locator("#refer .select2-selection").click()
        search = self.page.locator(".select2-container--open .select2-search__field")
        search.fill(typed)
        return search

    def refer_hint(self) -> str:
        """What the picker says when nothing it offers matches (which services, and why)."""
        hint = self.page.locator(".select2-results__message.refer-hint")
        hint.wait_for()
        return hint.inner_text()

    def sign_in(self, username: str) -> None:
        self.goto("/accounts/login/")
        self.shot("sign-in")
        self.page.fill("input[name=login]", username)
        self.page.fill("input[name=password]", demo_password(username))
        self.page.locator("form button[type=submit]").first.click()
        self.page.wait_for_load_state("networkidle")

    def set_up_authenticator(self) -> str:
        """A desk role's first sign-in: allauth asks for an authenticator app; read the secret
        the page shows (as a person types it into their app) and enter the code. Returns the
        secret for later sign-ins."""
        self.at(r"/accounts/2fa/.*")
        if "/totp/activate" not in self.page.url:
            self.shot("two-factor-required")
            self.page.get_by_role("link", name="Activate").first.click()
            self.at(r"/accounts/2fa/totp/activate/.*")
        self.shot("set-up-authenticator")
        secret = self.page.locator("#authenticator_secret").input_value()
        self.page.fill("input[name=code]", totp_now(secret))
        self.page.locator("form:has(input[name=code]) button[type=submit]").click()
        self.page.wait_for_load_state("networkidle")
        # allauth shows the new recovery codes; the person keeps them and goes on to work.
        self.shot("recovery-codes")
        self.page.get_by_role("link", name=re.compile("continue to your work")).click()
        self.page.wait_for_load_state("networkidle")
        return secret

    def sign_out(self) -> None:
        self.goto("/accounts/logout/")
        self.page.locator("form button[type=submit]").first.click()
        self.at(r"/.*")

    def finish(self) -> None:
        assert self.problems == [], "\n".join(self.problems)
        missing = [path for path in self.shots if not path.exists() or path.stat().st_size == 0]
        assert missing == []
        self.context.close()
