"""Sign in to a Streamlit app through ``st.login()`` against a real, local OpenID provider.

The provider is `oidc-provider-mock <https://pypi.org/project/oidc-provider-mock/>`_: a real
OpenID Connect server (discovery, authorization form, token endpoint, signed ID tokens) that
runs in a thread of the test process. Streamlit's built-in auth (Authlib) talks to it over
plain ``http://localhost`` (Authlib treats loopback http as secure: no HTTPS, no
``AUTHLIB_INSECURE_TRANSPORT``). Typical use, with :mod:`tests.support.browser`::

    with OidcProvider() as provider, tempfile.TemporaryDirectory() as tmp:
        provider.add_user("alice@example.com", email="alice@example.com", name="Alice")
        secrets = write_auth_secrets(Path(tmp), provider)          # redirect_uri uses {port}
        with run_streamlit(APP, env=env_for_secrets(secrets)) as url, sync_playwright() as pw:
            page = launch_chromium(pw).new_page()
            page.goto(url)                                     # http://127.0.0.1:<port>
            sign_in_with_oidc(page, provider, "alice@example.com")
            expect(page.get_by_text("Signed in as alice@example.com")).to_be_visible()

The app calls ``st.login("oidc")`` from a button labelled :data:`SIGN_IN_LABEL`; it reads
``st.user.is_logged_in``, ``st.user.email``, ``st.user.name``, ``st.user.sub`` (and ``iss``,
``aud``, ``exp``, ``iat``, ``nonce``, ``at_hash``, plus ``provider`` = ``"oidc"``).

Rules learnt the hard way (see each helper):

* The browser must open the app on exactly the scheme://host:port of ``redirect_uri``
  (``127.0.0.1`` and ``localhost`` are different origins): Streamlit keeps the OAuth state in
  a host-only session cookie and stores the redirect_uri's origin in the identity cookie,
  which the websocket only accepts from that same origin. :func:`write_auth_secrets` uses
  ``127.0.0.1`` like :func:`tests.support.browser.run_streamlit`.
* The identity cookie ``_streamlit_user`` (signed with ``cookie_secret``, HttpOnly,
  SameSite=Lax, Max-Age 30 days) is read only when a session's websocket connects: a page
  that is already open does not see a sign-in made in another tab until it reloads.
* ``st.logout()`` goes to the provider's ``end_session_endpoint``; the mock shows an
  "End session" page that must be submitted (:func:`sign_out_of_oidc`) before the browser
  comes back to the app (via ``/oauth2callback``, which redirects to ``/``).
* The provider's threads hit deprecated Authlib APIs on every sign-in and warn
  (``get_jwt_config ... is deprecated``); silence that in a test module with
  ``pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")``.
  Its werkzeug request log goes to stderr (pytest shows it only for failing tests).
"""

from __future__ import annotations

import json
import secrets
import urllib.parse
import urllib.request
import warnings
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
from playwright.sync_api import Page, expect

#: Text of the app's sign-in button (the app calls ``st.login(PROVIDER_NAME)`` from it).
SIGN_IN_LABEL = "Sign in with your council account"
#: Text of the app's sign-out button (the app calls ``st.logout()`` from it).
SIGN_OUT_LABEL = "Sign out"
#: Name of the ``[auth.<name>]`` section and the argument of ``st.login()``; no underscores.
PROVIDER_NAME = "oidc"
#: Client credentials: the mock accepts any client id/secret unless registration is required.
CLIENT_ID = "csp-hotspots-tests"
CLIENT_SECRET = "csp-hotspots-tests-secret"  # noqa: S105 - a test value, not a credential


class OidcProvider:
    """oidc-provider-mock serving on a free ``localhost`` port in a thread of this process.

    Use as a context manager (``with OidcProvider() as provider:``) or call :meth:`start` and
    :meth:`stop`. Each instance has its own users, clients and signing key. Any client id and
    secret are accepted and any redirect_uri is allowed; PKCE is not advertised (so Streamlit
    does not use it) and a nonce is optional unless ``require_nonce`` (Streamlit sends one).
    Users need not be registered: a ``sub`` typed into the form that is unknown becomes a user
    whose only claim is ``email = sub``; :meth:`add_user` sets a user's claims first.
    """

    def __init__(self, *, require_nonce: bool = False) -> None:
        self.require_nonce = require_nonce
        self._stack: ExitStack | None = None
        self.port = 0

    def start(self) -> OidcProvider:
        """Start serving (binds ``localhost`` on a port chosen by the OS: no race)."""
        if self._stack is not None:
            raise RuntimeError("the OIDC provider is already running")
        with warnings.catch_warnings():
            # Silence the Authlib deprecation notices raised by the package's imports. Importing
            # authlib.deprecate installs an "always" filter at the front, so import it first.
            import authlib.deprecate  # noqa: F401

            warnings.simplefilter("ignore", DeprecationWarning)
            from oidc_provider_mock import run_server_in_thread

        stack = ExitStack()
        server = stack.enter_context(run_server_in_thread(port=0, require_nonce=self.require_nonce))
        self._stack = stack
        self.port = int(server.server_port)
        return self

    def stop(self) -> None:
        """Stop serving (waits up to about 1.5 s for the server thread)."""
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()

    def __enter__(self) -> OidcProvider:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def issuer(self) -> str:
        """The issuer URL (``iss`` of its ID tokens), e.g. ``http://localhost:41234``.

        The mock derives it from the Host header of each request, so always reach it via
        this exact host (``localhost``), as :attr:`metadata_url` does.
        """
        if not self.port:
            raise RuntimeError("the OIDC provider is not running")
        return f"http://localhost:{self.port}"

    @property
    def metadata_url(self) -> str:
        """The discovery document URL, Streamlit's ``server_metadata_url``."""
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def authorize_url(self) -> str:
        """The authorization endpoint, where the browser is sent to sign in."""
        return f"{self.issuer}/oauth2/authorize"

    def add_user(
        self, sub: str, email: str | None = None, name: str | None = None, **claims: Any
    ) -> None:
        """Register (or replace) the user ``sub`` with these claims (``PUT /users/{sub}``).

        ``email`` and ``name`` become the ``email`` and ``name`` claims (Streamlit asks for
        the ``openid email profile`` scopes, so both reach ``st.user``); other keyword
        arguments are added as they are (non-standard claims are always released). ``sub``
        is percent-encoded in the URL, so ``"alice@example.com"`` is fine (no ``/``).
        """
        body: dict[str, Any] = dict(claims)
        if email is not None:
            body["email"] = email
        if name is not None:
            body["name"] = name
        request = urllib.request.Request(
            f"{self.issuer}/users/{urllib.parse.quote(sub, safe='')}",
            data=json.dumps(body).encode("utf-8"),
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status != 204:
                raise RuntimeError(f"PUT /users/{sub} answered {response.status}")


@pytest.fixture(scope="module")
def oidc_provider() -> Iterator[OidcProvider]:
    """A running :class:`OidcProvider` shared by a test module.

    Import it into a conftest.py (``from tests.support.oidc import oidc_provider  # noqa:
    F401``) or write the same three lines in the test module.
    """
    with OidcProvider() as provider:
        yield provider


def _toml_string(value: str) -> str:
    """A TOML basic string (JSON string escapes are valid TOML for these values)."""
    return json.dumps(value)


def write_auth_secrets(
    directory: Path | str,
    provider: OidcProvider,
    app_port: int | None = None,
    cookie_secret: str | None = None,
    *,
    app_host: str = "127.0.0.1",
    provider_name: str = PROVIDER_NAME,
    expose_tokens: list[str] | None = None,
) -> Path:
    """Write ``directory/secrets.toml`` with an ``[auth]`` section for ``provider``; return it.

    ``app_port=None`` writes ``{port}`` in ``redirect_uri``: Streamlit replaces it with its
    own ``server.port``, so the file also works with ``run_streamlit`` (which picks the port).
    ``app_host`` must be the host the browser uses to open the app (``run_streamlit`` serves
    and returns ``http://127.0.0.1:<port>``). ``cookie_secret`` defaults to a fresh random
    secret (Streamlit warns below 14 characters); it signs the identity and session cookies.
    ``expose_tokens`` (``["id"]``, ``["id", "access"]``) fills ``st.user.tokens``.
    """
    if "_" in provider_name:
        raise ValueError("Streamlit rejects provider names containing an underscore")
    port = "{port}" if app_port is None else str(int(app_port))
    secret = cookie_secret if cookie_secret is not None else secrets.token_hex(32)
    lines = [
        "[auth]",
        f"redirect_uri = {_toml_string(f'http://{app_host}:{port}/oauth2callback')}",
        f"cookie_secret = {_toml_string(secret)}",
    ]
    if expose_tokens:
        lines.append(f"expose_tokens = {json.dumps(list(expose_tokens))}")
    lines += [
        "",
        f"[auth.{provider_name}]",
        f"client_id = {_toml_string(CLIENT_ID)}",
        f"client_secret = {_toml_string(CLIENT_SECRET)}",
        f"server_metadata_url = {_toml_string(provider.metadata_url)}",
        "",
    ]
    path = Path(directory) / "secrets.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def env_for_secrets(path: Path | str) -> dict[str, str]:
    """Environment for ``streamlit run`` to read only the secrets file at ``path``.

    ``STREAMLIT_SECRETS_FILES`` sets the ``secrets.files`` option (the CLI flag
    ``--secrets.files PATH`` is equivalent); it replaces the default list
    (``~/.streamlit/secrets.toml`` and ``<cwd>/.streamlit/secrets.toml``). It is a
    multi-value option and click splits the variable on whitespace, so the path must not
    contain any.
    """
    resolved = str(Path(path).resolve())
    if any(ch.isspace() for ch in resolved):
        raise ValueError(f"secrets path must not contain whitespace: {resolved!r}")
    return {"STREAMLIT_SECRETS_FILES": resolved}


def _app_origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _is_app_page(url: str, origin: str) -> bool:
    """Whether ``url`` is a page of the app (not its /auth/ or /oauth2callback routes)."""
    path = urllib.parse.urlsplit(url).path
    return (
        _app_origin(url) == origin and not path.endswith("/oauth2callback") and "/auth/" not in path
    )


def sign_in_with_oidc(
    page: Page, provider: OidcProvider, sub: str, timeout: float = 30_000
) -> None:
    """Sign in as ``sub``: click the app's sign-in button, authorize, wait to be back.

    ``page`` shows the app with its :data:`SIGN_IN_LABEL` button. The click makes Streamlit
    navigate the whole tab to ``/auth/login`` and then to the provider's authorization form,
    where ``sub`` is typed and "Authorize" pressed; the provider redirects to
    ``/oauth2callback``, which sets the identity cookie and redirects to the app's ``/``.
    Returns once the app has loaded again and no longer shows the sign-in button. ``timeout``
    is in milliseconds, for each of the steps.
    """
    origin = _app_origin(page.url)
    page.get_by_role("button", name=SIGN_IN_LABEL).click(timeout=timeout)
    page.wait_for_url(lambda url: url.startswith(provider.authorize_url), timeout=timeout)
    page.locator('input[name="sub"]').fill(sub, timeout=timeout)
    page.get_by_role("button", name="Authorize", exact=True).click(timeout=timeout)
    page.wait_for_url(lambda url: _is_app_page(url, origin), timeout=timeout)
    _wait_for_app(page, timeout)
    expect(page.get_by_role("button", name=SIGN_IN_LABEL)).to_have_count(0, timeout=timeout)


def sign_out_of_oidc(page: Page, provider: OidcProvider, timeout: float = 30_000) -> None:
    """Sign out: click the app's :data:`SIGN_OUT_LABEL` button (``st.logout()``), confirm on
    the provider's "End session" page, and wait for the app to show its sign-in button."""
    origin = _app_origin(page.url)
    page.get_by_role("button", name=SIGN_OUT_LABEL).click(timeout=timeout)
    end_session = f"{provider.issuer}/oauth2/end_session"
    page.wait_for_url(lambda url: url.startswith(end_session), timeout=timeout)
    page.get_by_role("button", name="End session", exact=True).click(timeout=timeout)
    page.wait_for_url(lambda url: _is_app_page(url, origin), timeout=timeout)
    _wait_for_app(page, timeout)
    expect(page.get_by_role("button", name=SIGN_IN_LABEL)).to_be_visible(timeout=timeout)


def _wait_for_app(page: Page, timeout: float) -> None:
    """Wait for the Streamlit page to load and its script run to finish."""
    app = page.locator('[data-testid="stApp"]')
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout)
