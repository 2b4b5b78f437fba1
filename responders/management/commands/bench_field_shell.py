"""Benchmark the field app's shell: what a tablet downloads and how long it waits, on a slow
line (docs/benchmarks.md).

    python3 dev.py up            # once, for a database with the demo data (or any DATABASE_URL)
    .venv/bin/python manage.py bench_field_shell --username responder

Serves the project on a free local port in this process, signs the user in (a session made
here, no password needed), and drives Debian's Chromium (Playwright, never a browser
download) with the network throttled through the DevTools protocol:

- the shell's size: every response of a first visit to /field/, raw and gzip-compressed (as
  WhiteNoise serves static files and a proxy would compress pages);
- first visit with an empty cache, a repeat visit with the service worker in charge, and a
  reload with the network cut, each on the chosen profile (slow 3G by default);
- the floors, measured in the same run: the same files fetched by a plain HTTP client
  (urllib, unthrottled), and what the line allows (the bytes at its rate plus two round trips).

The test suite's smoke run: `--profile 4g --runs 1`.
"""

from __future__ import annotations

import gzip
import statistics
import threading
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application
from django.test import Client

# (download kbit/s, upload kbit/s, round trip ms): Chrome DevTools' presets.
PROFILES = {
    "slow-3g": (400, 400, 400),
    "fast-3g": (1600, 750, 150),
    "4g": (9000, 9000, 85),
}


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:  # the benchmark's output is the table
        pass


class Command(BaseCommand):
    help = "Measure the field app shell's size and load time on a throttled connection."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="responder")
        parser.add_argument("--profile", choices=sorted(PROFILES), default="slow-3g")
        parser.add_argument("--runs", type=int, default=3)
        parser.add_argument("--chromium", default="/usr/bin/chromium")

    def handle(self, *args, username, profile, runs, chromium, **options):
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as exc:
            raise CommandError(
                "playwright is a dev dependency: run `python3 dev.py setup`"
            ) from exc
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}: run seed_demo or pass --username.")
        client = Client()
        client.force_login(user)
        session_id = client.cookies[settings.SESSION_COOKIE_NAME].value

        server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
        server.set_app(get_wsgi_application())
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://localhost:{server.server_port}"
        down, up, rtt = PROFILES[profile]
        conditions = {
            "offline": False,
            "latency": rtt,
            "downloadThroughput": down * 1000 / 8,
            "uploadThroughput": up * 1000 / 8,
        }
        cold, warm, offline = [], [], []
        sizes: dict[str, tuple[int, int]] = {}
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium)
                for run in range(runs):
                    context = browser.new_context(viewport={"width": 1280, "height": 800})
                    context.add_cookies(
                        [{"name": settings.SESSION_COOKIE_NAME, "value": session_id, "url": base}]
                    )
                    page = context.new_page()
                    if run == 0:
                        page.on("response", lambda r: self._size(r, sizes))
                    cdp = context.new_cdp_session(page)
                    cdp.send("Network.enable")
                    cdp.send("Network.emulateNetworkConditions", conditions)
                    cold.append(self._visit(page, f"{base}/field/", reload=False))
                    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
                    page.wait_for_function(
                        "() => caches.open('acs-field-pages')"
                        ".then(c => c.match('/field/encounters/new')).then(Boolean)",
                        timeout=120_000,
                    )
                    warm.append(self._visit(page, f"{base}/field/", reload=True))
                    context.set_offline(True)
                    offline.append(self._visit(page, f"{base}/field/", reload=True))
                    context.close()
                browser.close()
            # The floor: the same resources fetched by a plain HTTP client, unthrottled, one
            # after another on a fresh connection each, with the same session.
            plain = [self._plain_fetch(list(sizes), session_id) for _ in range(runs)]
        finally:
            server.shutdown()

        raw = sum(r for r, _ in sizes.values())
        packed = sum(c for _, c in sizes.values())
        self.stdout.write(f"Field app shell, profile {profile} ({down}/{up} kbit/s, {rtt} ms)")
        self.stdout.write("| resource | bytes | gzip bytes |\n|---|---:|---:|")
        for url, (r, c) in sorted(sizes.items()):
            self.stdout.write(f"| {url.removeprefix(base)} | {r:,} | {c:,} |")
        self.stdout.write(f"| **total** | **{raw:,}** | **{packed:,}** |")
        for name, values in (
            ("first visit", cold),
            ("repeat visit", warm),
            ("offline", offline),
            (f"floor, plain HTTP client ({len(sizes)} requests, unthrottled)", plain),
        ):
            self.stdout.write(
                f"{name}: median {statistics.median(values):.0f} ms "
                f"(runs: {', '.join(f'{v:.0f}' for v in values)})"
            )
        # What the line itself allows a first visit: every byte at the download rate, plus
        # two round trips (the page, then the files it names).
        line = raw * 8 / down + 2 * rtt
        self.stdout.write(
            f"floor, the line: {line:.0f} ms ({raw:,} bytes at {down} kbit/s + 2 x {rtt} ms)"
        )

    @staticmethod
    def _size(response, sizes) -> None:
        if response.request.resource_type not in {"document", "stylesheet", "script", "image"}:
            return
        try:
            body = response.body()
        except Exception:
            return
        sizes[response.url] = (len(body), len(gzip.compress(body, compresslevel=6)))

    @staticmethod
    def _plain_fetch(urls: list[str], session_id: str) -> float:
        """Milliseconds for urllib to fetch every URL in turn (bodies read, status 200)."""
        import urllib.request

        cookie = f"{settings.SESSION_COOKIE_NAME}={session_id}"
        started = time.perf_counter()
        for url in urls:
            request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - local
                if response.status != 200:
                    raise CommandError(f"{url} answered {response.status}")
                response.read()
        return (time.perf_counter() - started) * 1000

    @staticmethod
    def _visit(page, url: str, *, reload: bool) -> float:
        """Milliseconds until the page is usable: loaded, and the script has drawn the sync
        line (it runs after the DOM is parsed)."""
        started = time.perf_counter()
        if reload:
            page.reload(wait_until="load")
        else:
            page.goto(url, wait_until="load")
        page.wait_for_selector("#sync:not([hidden])", timeout=120_000)
        return (time.perf_counter() - started) * 1000
