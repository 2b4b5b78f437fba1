"""A real OpenID Connect identity provider for the single sign-on tests.

tests/idp/server.mjs runs panva's node-oidc-provider (OpenID Certified) on a free port, with
the accounts and groups a test gives it. Its npm packages are installed once, with `npm ci`
from the committed lockfile, into .local/idp-node/<lockfile digest>/ (nothing lands in
tests/). Without Node.js the tests skip loudly, and fail in CI (tests/conftest.py).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
import requests
from django.conf import settings

SOURCE = Path(__file__).parent / "idp"
CLIENT_ID = "acs-case-management"
CLIENT_SECRET = "test-client-secret-of-the-city"
CALLBACK = "/accounts/oidc/sso/login/callback/"
PASSWORD = "city-password-1"


def _install() -> Path:
    from tests.conftest import service_missing

    for tool in ("node", "npm"):
        if not shutil.which(tool):
            service_missing("Node.js", f"`{tool}` is missing (apt-get install nodejs npm)")
    lock = (SOURCE / "package-lock.json").read_bytes()
    digest = hashlib.sha256(lock + (SOURCE / "package.json").read_bytes()).hexdigest()[:16]
    home = Path(settings.BASE_DIR) / ".local" / "idp-node" / digest
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)  # parallel workers install once
        if not (home / "node_modules" / "oidc-provider").is_dir():
            for name in ("package.json", "package-lock.json"):
                shutil.copy(SOURCE / name, home / name)
            result = subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                cwd=home,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if result.returncode != 0:
                service_missing("npm", f"`npm ci` failed: {result.stderr[-500:]}")
    # The server itself is copied at every start: node resolves its imports from where it is.
    shutil.copy(SOURCE / "server.mjs", home / "server.mjs")
    return home


def account(email: str, groups: list[str], *, mfa: bool = False) -> dict:
    return {
        "password": PASSWORD,
        "email": email,
        "name": email.split("@")[0].title(),
        "groups": groups,
        "amr": ["pwd", "mfa", "otp"] if mfa else ["pwd"],
    }


class Idp:
    """One running provider: `issuer`, and `stop()`."""

    def __init__(self, *, accounts: dict[str, dict], redirect_uris: list[str]) -> None:
        home = _install()
        self.accounts_file = home / f"accounts-{os.getpid()}-{id(self)}.json"
        self.set_accounts(accounts)
        config = {
            "clients": [
                {
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "redirect_uris": redirect_uris,
                    "token_endpoint_auth_method": "client_secret_basic",
                }
            ],
            "accounts_file": str(self.accounts_file),
        }
        self.log = home / f"server-{os.getpid()}.log"
        self._log_file = open(self.log, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            ["node", "server.mjs"],
            cwd=home,
            env={**os.environ, "IDP_CONFIG": json.dumps(config)},
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
        )
        ready, _, _ = select.select([self.process.stdout], [], [], 30)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            self.stop()
            raise RuntimeError(f"the test IdP did not start: {self.log.read_text()[-2000:]}")
        self.issuer = json.loads(line)["issuer"]

    def set_accounts(self, accounts: dict[str, dict]) -> None:
        """The IdP's directory, read at every sign-in (as the city's IT staff edit it)."""
        self.accounts = accounts
        self.accounts_file.write_text(json.dumps(accounts))

    def set_groups(self, login: str, groups: list[str]) -> None:
        self.set_accounts({**self.accounts, login: {**self.accounts[login], "groups": groups}})

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log_file.close()
        self.accounts_file.unlink(missing_ok=True)

    def provider_settings(self, *, name: str = "City of Albuquerque") -> dict:
        """SOCIALACCOUNT_PROVIDERS as acs/settings/auth.py builds it from SSO_OIDC_*."""
        return {
            "openid_connect": {
                "OAUTH_PKCE_ENABLED": True,
                "APPS": [
                    {
                        "provider_id": "sso",
                        "name": name,
                        "client_id": CLIENT_ID,
                        "secret": CLIENT_SECRET,
                        "settings": {
                            "server_url": self.issuer,
                            "scope": ["openid", "profile", "email", "groups"],
                        },
                    }
                ],
            }
        }

    def sign_in(self, authorize_url: str, login: str, password: str = PASSWORD) -> str:
        """At the IdP, as a browser would: open the authorize URL, fill in its sign-in form,
        follow its redirects; returns the URL it sends the browser back to (our callback)."""
        session = requests.Session()
        url = authorize_url
        for _ in range(10):
            response = session.get(url, allow_redirects=False, timeout=10)
            if response.status_code == 200 and "/interaction/" in url:
                response = session.post(
                    url,
                    data={"login": login, "password": password},
                    allow_redirects=False,
                    timeout=10,
                )
                if response.status_code == 200:
                    raise AssertionError(f"the IdP refused the sign-in: {response.text[:300]}")
            assert response.status_code in (302, 303), (response.status_code, response.text[:300])
            url = urljoin(url, response.headers["Location"])
            if not url.startswith(self.issuer):
                return url
        raise AssertionError("the IdP redirected too often")


def sso_sign_in(client, idp: Idp, login: str, *, password: str = PASSWORD, ip: str = ""):
    """The whole SSO sign-in with Django's test client: the button's POST, the IdP's pages,
    the callback. Returns the callback's response."""
    from tests.acs.test_lockout import fresh_ip

    ip = ip or fresh_ip()  # allauth also counts failures per address
    start = client.post("/accounts/oidc/sso/login/", REMOTE_ADDR=ip)
    assert start.status_code == 302, start.status_code
    back = idp.sign_in(start["Location"], login, password)
    parsed = urlparse(back)
    assert parsed.path == CALLBACK, back
    query = {key: values[0] for key, values in parse_qs(parsed.query).items()}
    return client.get(parsed.path, query, REMOTE_ADDR=ip)


def wait_for(predicate, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


GROUP_ROLES = {
    "acs-supervisors": "supervisor",
    "acs-case-managers": "case_manager",
    "acs-field": "responder",
}
ACCOUNTS = {
    "sofia": account("sofia@city.example", ["acs-supervisors", "city-all-staff"], mfa=True),
    "carl": account("carl@city.example", ["acs-case-managers"]),
    "nobody": account("nobody@city.example", ["city-all-staff", "parks"]),
    "both": account("both@city.example", ["acs-supervisors", "acs-case-managers"], mfa=True),
    "mover": account("mover@city.example", ["acs-supervisors"], mfa=True),
    "localsup": account("localsup@example.org", ["acs-supervisors"], mfa=True),
    "breakglass": account("breakglass@example.org", ["acs-supervisors"], mfa=True),
}


@pytest.fixture(scope="module")
def oidc_idp():
    """The IdP, for Django's test client (its host is `testserver`)."""
    running = Idp(accounts=ACCOUNTS, redirect_uris=[f"http://testserver{CALLBACK}"])
    yield running
    running.stop()


@pytest.fixture
def sso(oidc_idp, settings):
    """SSO configured against the running IdP, as acs/settings/auth.py does from SSO_OIDC_* and
    SSO_GROUP_ROLES; the IdP's directory as ACCOUNTS says."""
    configure(oidc_idp, settings)
    return oidc_idp


def configure(idp: Idp, settings) -> None:
    idp.set_accounts(ACCOUNTS)
    settings.SOCIALACCOUNT_PROVIDERS = idp.provider_settings()
    settings.SSO_GROUP_ROLES = GROUP_ROLES
