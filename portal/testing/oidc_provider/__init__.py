"""Start the test OpenID Connect provider (django-oauth-toolkit) as a process of its own.

    with running_provider(tmp_path, redirect_uris=[...]) as provider:
        provider.issuer, provider.client_id, provider.users["olivia"] ...

See settings.py for what the provider is, and docs/login.md for how the tests use it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from portal.testing.waits import serves, stop, wait_until_started

ROOT = Path(__file__).resolve().parents[3]
PEOPLE = {
    "olivia": {"password": "provider-Passw0rd", "email": "olivia@example.org",
               "first_name": "Olivia", "last_name": "Okafor"},
    "admin": {"password": "provider-Passw0rd", "email": "root@example.org",
              "first_name": "Not", "last_name": "The Portal's Admin"},
}  # fmt: skip


@dataclass
class Provider:
    url: str
    client_id: str = "context-portal"
    client_secret: str = "provider-client-secret-0123456789"  # noqa: S105 - a test client's
    users: dict = field(default_factory=lambda: PEOPLE)

    @property
    def issuer(self) -> str:
        return self.url + "/o"

    def portal_settings(self) -> dict:
        """The portal's OIDC settings for this provider, as a site would set them."""
        return {
            "OIDC_RP_CLIENT_ID": self.client_id,
            "OIDC_RP_CLIENT_SECRET": self.client_secret,
            "OIDC_OP_ISSUER": self.issuer,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": self.issuer + "/authorize/",
            "OIDC_OP_TOKEN_ENDPOINT": self.issuer + "/token/",
            "OIDC_OP_USER_ENDPOINT": self.issuer + "/userinfo/",
            "OIDC_OP_JWKS_ENDPOINT": self.issuer + "/.well-known/jwks.json",
            "OIDC_OP_LOGOUT_ENDPOINT": self.issuer + "/logout/",
        }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_provider(workdir: Path, redirect_uris: list[str], post_logout_redirect_uris: list[str] = ()):
    port = _free_port()
    provider = Provider(url=f"http://127.0.0.1:{port}")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.testing.oidc_provider.settings",
        "PROVIDER_DATABASE": str(workdir / "provider.sqlite3"),
        "PROVIDER_PORT": str(port),
        "PROVIDER_CLIENT_ID": provider.client_id,
        "PROVIDER_CLIENT_SECRET": provider.client_secret,
        "PROVIDER_REDIRECT_URIS": " ".join(redirect_uris),
        "PROVIDER_POST_LOGOUT_REDIRECT_URIS": " ".join(post_logout_redirect_uris),
        "PROVIDER_USERS": json.dumps([{"username": name, **person} for name, person in PEOPLE.items()]),
    }
    log_path = workdir / "provider.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "portal.testing.oidc_provider.serve"],
                                   stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)  # fmt: skip
    try:
        discovery = provider.issuer + "/.well-known/openid-configuration"
        wait_until_started(process, serves(discovery), what="the test OIDC provider", log=log_path)
        yield provider
    finally:
        stop(process)
