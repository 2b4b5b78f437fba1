"""What both single sign-on browser tests (OpenID Connect and SAML) share: a page that records
console errors and our own 4xx/5xx answers, screenshots going to .local/artifacts/sso/."""

from tests.cases.test_admin_browser import ARTIFACTS

SHOTS = ARTIFACTS / "sso"


def watched_page(browser, live_server):
    """Yields a page whose `problems` lists console errors and our own failed answers."""
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.problems = []

    def console(message):
        # A failed load is reported with its address by the response handler below.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            page.problems.append(message.text)

    def response(answer):
        # Ours only: a test IdP without a favicon is not ours to fix.
        if answer.status >= 400 and answer.url.startswith(live_server.url):
            page.problems.append(f"{answer.status} {answer.url}")

    page.on("console", console)
    page.on("response", response)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield page
    context.close()
