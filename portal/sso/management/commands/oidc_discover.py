"""Print a provider's OIDC settings from its discovery document, ready for the portal's .env.

    manage.py oidc_discover https://auth.cern.ch/auth/realms/cern >> .env

The client id and secret come from registering the portal at the provider (docs/login.md).
"""

import requests
from django.core.management.base import BaseCommand, CommandError

SETTINGS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "OIDC_OP_LOGOUT_ENDPOINT": "end_session_endpoint",
}


class Command(BaseCommand):
    help = "Print the OIDC_OP_* settings of an OpenID Connect provider, read from its discovery document."

    def add_arguments(self, parser):
        parser.add_argument(
            "issuer", help="the provider's issuer URL, e.g. https://aai.egi.eu/auth/realms/egi"
        )

    def handle(self, issuer, **options):
        issuer = issuer.rstrip("/")
        url = issuer + "/.well-known/openid-configuration"
        try:
            response = requests.get(url, timeout=10)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as error:
            raise CommandError(f"no discovery document at {url}: {error}")
        if document.get("issuer") != issuer:
            raise CommandError(f"{url} names the issuer {document.get('issuer')!r}, not {issuer!r}")
        algorithms = document.get("id_token_signing_alg_values_supported") or ["RS256"]
        lines = [f"OIDC_OP_ISSUER={issuer}"]
        lines += [f"{name}={document[key]}" for name, key in SETTINGS.items() if document.get(key)]
        lines.append(f"OIDC_RP_SIGN_ALGO={'RS256' if 'RS256' in algorithms else algorithms[0]}")
        self.stdout.write("\n".join(lines))
