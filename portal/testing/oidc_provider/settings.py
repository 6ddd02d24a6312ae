"""A tiny OpenID Connect provider for the tests (django-oauth-toolkit), in a process of its own.

It is a separate Django project: its own settings, its own SQLite database (PROVIDER_DATABASE),
its own session cookie names (it runs on 127.0.0.1 beside the portal, and browsers share cookies
across ports), and an RSA signing key generated when the process starts.
"""

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

HERE = Path(__file__).resolve().parent

SECRET_KEY = os.urandom(32).hex()
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "portal.testing.oidc_provider.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [HERE / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["PROVIDER_DATABASE"]}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # a test user, quickly

# Not the portal's cookie names: the portal's session must survive a visit to the provider.
SESSION_COOKIE_NAME = "provider_sessionid"
CSRF_COOKIE_NAME = "provider_csrftoken"
LOGIN_URL = "/accounts/login/"

_signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    # One issuer whatever host name a request used, as a real provider has.
    "OIDC_ISS_ENDPOINT": f"http://127.0.0.1:{os.environ['PROVIDER_PORT']}/o",
    "OIDC_RSA_PRIVATE_KEY": _signing_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode(),
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OAUTH2_VALIDATOR_CLASS": "portal.testing.oidc_provider.claims.ClaimsValidator",
    "SCOPES": {"openid": "Your identity", "profile": "Your name", "email": "Your e-mail address"},
    "DEFAULT_SCOPES": ["openid"],
    # Ask for consent every time, as a federation's first login does: the tests click through it.
    "REQUEST_APPROVAL_PROMPT": "force",
    # The live test server is http://localhost:<any port>: treat it as a loopback redirect (RFC 8252 7.3).
    "ALLOW_LOCALHOST_LOOPBACK": True,
}
