"""A real SAML 2.0 identity provider for the SAML single sign-on tests.

The IdP half of pysaml2 (IdentityPython's `saml2.server.Server`, which signs with Debian's
xmlsec1) behind a tiny WSGI app on a free port: it reads our AuthnRequest (HTTP-Redirect
binding), shows a sign-in form, and answers with a signed Response (HTTP-POST binding) carrying
the account's e-mail, groups and AuthnContextClassRef. Its key and certificate are made at
test time. `mode` makes it misbehave on purpose: "unsigned" (no signature at all) or
"wrong_key" (signed by a key our side was not told about).
Without xmlsec1 the tests skip loudly, and fail in CI (tests/conftest.py).
"""

from __future__ import annotations

import datetime
import html
import re
import shutil
import tempfile
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlparse
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import requests

ACS = "/accounts/saml/city/acs/"
PASSWORD = "city-password-1"
GROUPS = "groups"
EMAIL = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
PASSWORD_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
MFA_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"


ENTRA_METHODS = "http://schemas.microsoft.com/claims/authnmethodsreferences"


def account(email: str, groups: list[str], *, mfa: bool = False, entra_mfa: bool = False) -> dict:
    """`mfa`: a two-factor AuthnContextClassRef; `entra_mfa`: a password context, and MFA said
    in an attribute as Entra ID says it."""
    return {
        "password": PASSWORD,
        "email": email,
        "groups": groups,
        "context": MFA_CONTEXT if mfa else PASSWORD_CONTEXT,
        "methods": (
            ["http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password"]
            + (["http://schemas.microsoft.com/claims/multipleauthn"] if entra_mfa else [])
        ),
    }


GROUP_ROLES = {
    "acs-supervisors": "supervisor",
    "acs-case-managers": "case_manager",
    "acs-field": "responder",
}
ACCOUNTS = {
    "sofia": account("sofia@city.example", ["acs-supervisors", "city-all-staff"], mfa=True),
    "carl": account("carl@city.example", ["acs-case-managers"]),
    "erin": account("erin@city.example", ["acs-case-managers"], entra_mfa=True),
    "nobody": account("nobody@city.example", ["city-all-staff", "parks"]),
    "both": account("both@city.example", ["acs-supervisors", "acs-case-managers"], mfa=True),
    "mover": account("mover@city.example", ["acs-supervisors"], mfa=True),
    "localsup": account("localsup@example.org", ["acs-supervisors"], mfa=True),
    "breakglass": account("breakglass@example.org", ["acs-supervisors"], mfa=True),
}


def key_and_cert(directory: Path, name: str) -> tuple[Path, Path, str]:
    """A throwaway RSA key and self-signed certificate: (key file, cert file, cert PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"test idp {name}")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = directory / f"{name}.key", directory / f"{name}.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    cert_file.write_text(pem)
    return key_file, cert_file, pem


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


class SamlIdp:
    """One running IdP: `base`, `entity_id`, `sso_url`, `cert_pem`; `trust_sp(metadata)`,
    `stop()`."""

    def __init__(self, *, accounts: dict[str, dict] = ACCOUNTS) -> None:
        from tests.conftest import service_missing

        self.xmlsec1 = shutil.which("xmlsec1")
        if not self.xmlsec1:
            service_missing("xmlsec1", "`xmlsec1` is missing (apt-get install xmlsec1)")
        self.accounts = dict(accounts)
        self.mode = "signed"
        self.sp_metadata = ""
        self._dir = tempfile.TemporaryDirectory(prefix="saml-idp-")
        home = Path(self._dir.name)
        self.key_file, self.cert_file, self.cert_pem = key_and_cert(home, "idp")
        self.other_key_file, self.other_cert_file, _ = key_and_cert(home, "impostor")
        self.httpd = make_server("127.0.0.1", 0, self.app, WSGIServer, handler_class=_Quiet)
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"
        self.entity_id = f"{self.base}/metadata"
        self.sso_url = f"{self.base}/sso"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._dir.cleanup()

    def trust_sp(self, metadata: str) -> None:
        """Our SP metadata (allauth serves it at /accounts/saml/city/metadata/), as the city's
        IT staff upload it to their IdP."""
        self.sp_metadata = metadata

    def set_groups(self, login: str, groups: list[str]) -> None:
        self.accounts[login] = {**self.accounts[login], "groups": groups}

    def provider_settings(self, *, name: str = "City of Albuquerque SAML") -> dict:
        """SOCIALACCOUNT_PROVIDERS["saml"] as acs/settings/auth.py builds it from SSO_SAML_*."""
        from acs.settings.auth import saml_app

        app = saml_app(
            name=name,
            idp={"entity_id": self.entity_id, "sso_url": self.sso_url, "x509cert": self.cert_pem},
        )
        return {"provider_class": "responders.sso.StaffSamlProvider", "APPS": [app]}

    # --- the IdP's pages ---------------------------------------------------------------
    def _server(self, *, impostor: bool = False):
        from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
        from saml2.config import IdPConfig
        from saml2.saml import NAMEID_FORMAT_PERSISTENT
        from saml2.server import Server

        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "xmlsec_binary": self.xmlsec1,
                "key_file": str(self.other_key_file if impostor else self.key_file),
                "cert_file": str(self.other_cert_file if impostor else self.cert_file),
                "metadata": {"inline": [self.sp_metadata]} if self.sp_metadata else {},
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [
                                (self.sso_url, BINDING_HTTP_REDIRECT),
                                (self.sso_url, BINDING_HTTP_POST),
                            ]
                        },
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                        "want_authn_requests_signed": False,
                        "policy": {"default": {"lifetime": {"minutes": 5}}},
                    }
                },
            }
        )
        return Server(config=config)

    def app(self, environ, start_response):
        from saml2 import BINDING_HTTP_REDIRECT

        path = environ.get("PATH_INFO", "")
        if path != "/sso":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not here"]
        if environ["REQUEST_METHOD"] == "GET":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            fields = {
                "SAMLRequest": query.get("SAMLRequest", [""])[0],
                "RelayState": query.get("RelayState", [""])[0],
            }
            return self._page(start_response, self._login_form(fields, error=""))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = {k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(length).decode()).items()}
        person = self.accounts.get(form.get("login", ""))
        if person is None or form.get("password") != person["password"]:
            return self._page(start_response, self._login_form(form, error="Wrong password."))
        server = self._server()
        request = server.parse_authn_request(form["SAMLRequest"], BINDING_HTTP_REDIRECT)
        message = request.message
        response = self._response(server, message, form["login"], person)
        fields = {"SAMLResponse": response, "RelayState": form.get("RelayState", "")}
        inputs = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in fields.items()
        )
        body = (
            "<!doctype html><html lang=en><head><title>Back to ACS</title></head>"
            '<body onload="document.forms[0].submit()">'
            f'<form method="post" action="{html.escape(message.assertion_consumer_service_url)}">'
            f"{inputs}<button>Continue</button></form></body></html>"
        )
        return self._page(start_response, body)

    def _response(self, server, message, login: str, person: dict) -> str:
        import base64

        from saml2 import xmldsig
        from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID

        sign = self.mode != "unsigned"
        if self.mode == "wrong_key":
            server = self._server(impostor=True)
        identity = {
            EMAIL: [person["email"]],
            GROUPS: list(person["groups"]),
            ENTRA_METHODS: list(person["methods"]),
        }
        response = server.create_authn_response(
            identity,
            in_response_to=message.id,
            destination=message.assertion_consumer_service_url,
            sp_entity_id=message.issuer.text,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=f"city-{login}"),
            authn={"class_ref": person["context"], "authn_auth": self.entity_id},
            sign_assertion=sign,
            sign_response=sign,
            sign_alg=xmldsig.SIG_RSA_SHA256,
            digest_alg=xmldsig.DIGEST_SHA256,
        )
        return base64.b64encode(str(response).encode()).decode()

    def _login_form(self, fields: dict, *, error: str) -> str:
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(fields.get(k, ""))}">'
            for k in ("SAMLRequest", "RelayState")
        )
        return (
            "<!doctype html><html lang=en><head><title>City of Albuquerque sign-in (SAML)"
            "</title></head><body><h1>City of Albuquerque</h1>"
            f"<p>{html.escape(error)}</p>"
            '<form method="post" action="/sso">'
            f"{hidden}"
            '<label>User name <input name="login" autocomplete="username"></label>'
            '<label>Password <input name="password" type="password"></label>'
            "<button>Sign in at the city</button></form></body></html>"
        )

    def _page(self, start_response, body: str):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body.encode()]

    # --- as a browser would, for Django's test client -----------------------------------
    def sign_in(self, sso_url: str, login: str, password: str = PASSWORD) -> dict:
        """Open the IdP's sign-in page at the URL our login view redirected to, fill in its
        form; returns the fields it posts back to our ACS URL (SAMLResponse, RelayState) and
        where ("action")."""
        session = requests.Session()
        page = session.get(sso_url, timeout=10)
        assert page.status_code == 200, page.text[:300]
        fields = dict(re.findall(r'name="(SAMLRequest|RelayState)" value="([^"]*)"', page.text))
        fields = {k: html.unescape(v) for k, v in fields.items()}
        answer = session.post(
            self.sso_url, data={**fields, "login": login, "password": password}, timeout=10
        )
        assert answer.status_code == 200, answer.text[:300]
        back = dict(re.findall(r'name="(SAMLResponse|RelayState)" value="([^"]*)"', answer.text))
        if "SAMLResponse" not in back:
            raise AssertionError(f"the IdP refused the sign-in: {answer.text[:300]}")
        action = re.search(r'<form method="post" action="([^"]*)"', answer.text).group(1)
        return {**{k: html.unescape(v) for k, v in back.items()}, "action": html.unescape(action)}


def saml_sign_in(client, idp: SamlIdp, login: str, *, password: str = PASSWORD, ip: str = ""):
    """The whole SAML sign-in with Django's test client (as host `localhost`: python3-saml
    refuses single-label host names): the button's POST, the IdP's pages, the POST back to
    our ACS URL, and allauth's finishing redirect. Returns the finishing response."""
    from tests.acs.test_lockout import fresh_ip

    ip = ip or fresh_ip()
    host = {"REMOTE_ADDR": ip, "HTTP_HOST": "localhost"}
    start = client.post("/accounts/saml/city/login/", **host)
    assert start.status_code == 302, start.status_code
    assert start["Location"].startswith(idp.sso_url), start["Location"]
    back = idp.sign_in(start["Location"], login, password)
    action = urlparse(back.pop("action"))
    assert action.path == ACS, action
    posted = client.post(action.path, back, **host)
    assert posted.status_code == 302, posted.status_code
    return client.get(posted["Location"], **host)


def trust_our_metadata(client, idp: SamlIdp, host: str = "localhost") -> None:
    metadata = client.get("/accounts/saml/city/metadata/", HTTP_HOST=host)
    assert metadata.status_code == 200, metadata.content[:300]
    idp.trust_sp(metadata.content.decode())


@pytest.fixture(scope="module")
def saml_idp_server():
    """The IdP, started once per test module."""
    running = SamlIdp()
    yield running
    running.stop()


@pytest.fixture
def saml(saml_idp_server, settings, client):
    """SAML sign-on configured against the running IdP, as acs/settings/auth.py does from
    SSO_SAML_* and SSO_GROUP_ROLES; the IdP's directory as ACCOUNTS says, and our SP metadata
    uploaded to it."""
    configure_saml(saml_idp_server, settings, client)
    return saml_idp_server


def configure_saml(idp: SamlIdp, settings, client, host: str = "localhost") -> None:
    idp.accounts = dict(ACCOUNTS)
    idp.mode = "signed"
    settings.SOCIALACCOUNT_PROVIDERS = {
        **settings.SOCIALACCOUNT_PROVIDERS,
        "saml": idp.provider_settings(),
    }
    settings.SSO_GROUP_ROLES = GROUP_ROLES
    trust_our_metadata(client, idp, host)
