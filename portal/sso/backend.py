"""Logging in through the site's OpenID Connect provider (mozilla-django-oidc's code flow).

The library does the protocol: state, nonce and PKCE in the session, the code exchanged at the
token endpoint, the ID token's signature checked against the provider's JWKS. This backend adds
what it leaves to the site: the ID token must come from the configured issuer for this client
(it checks neither), and the account is found by (issuer, sub), never by e-mail.
"""

from __future__ import annotations

import hashlib
import logging
import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError, transaction
from django.utils import timezone
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from portal.sso.models import FederatedIdentity

logger = logging.getLogger(__name__)
_NOT_IN_A_USERNAME = re.compile(r"[^\w.@+-]")


def configured() -> bool:
    return bool(settings.OIDC_RP_CLIENT_ID)


class LoginRefused(SuspiciousOperation):
    """The provider's answer is not one the portal accepts; the message is shown to the person."""


class FederatedLoginBackend(OIDCAuthenticationBackend):
    def __init__(self, *args, **kwargs):
        # Listed in AUTHENTICATION_BACKENDS always, so a site turns the login on by settings alone;
        # unconfigured, it has nothing to check and refuses every login.
        if configured():
            super().__init__(*args, **kwargs)

    def authenticate(self, request, **kwargs):
        # Only the callback view passes a nonce: a password login never reaches the provider.
        if not configured() or "nonce" not in kwargs:
            return None
        return super().authenticate(request, **kwargs)

    def get_userinfo(self, access_token, id_token, payload):
        if not settings.OIDC_OP_USER_ENDPOINT:  # some providers put every claim in the ID token
            return {}
        return super().get_userinfo(access_token, id_token, payload)

    def get_or_create_user(self, access_token, id_token, payload):
        try:
            check_id_token(payload)
            claims = {**payload, **self.get_userinfo(access_token, id_token, payload)}
            if claims["sub"] != payload["sub"]:  # OIDC Core 5.3.2: userinfo must be about the same person
                raise LoginRefused("The provider's user information is about someone else.")
        except LoginRefused as refusal:
            self.request.sso_refusal = str(refusal)
            raise
        return account_for(claims)

    def filter_users_by_claims(self, claims):
        raise NotImplementedError("accounts are found by issuer and subject: account_for()")


def check_id_token(payload: dict) -> None:
    """What OIDC Core 3.1.3.7 asks of the client beyond the signature, which the library checked."""
    if payload.get("iss") != settings.OIDC_OP_ISSUER:
        raise LoginRefused(f"The ID token comes from {payload.get('iss')!r}, not from the configured issuer.")
    audience = payload.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if settings.OIDC_RP_CLIENT_ID not in audiences:
        raise LoginRefused("The ID token was issued for another application.")
    if not payload.get("sub"):
        raise LoginRefused("The ID token names nobody (no 'sub' claim).")


def account_for(claims: dict):
    """The account of the person the claims name: found by (issuer, sub), made on the first login,
    its e-mail and names refreshed from the claims each time."""
    issuer, subject = settings.OIDC_OP_ISSUER, str(claims["sub"])
    identity = FederatedIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
    if identity is None:
        try:
            with transaction.atomic():
                user = get_user_model().objects.create_user(new_username(claims, issuer, subject))
                identity = FederatedIdentity.objects.create(user=user, issuer=issuer, subject=subject)
            logger.info("made account %s for %s at %s", user.username, subject, issuer)
        except IntegrityError:  # the same person's first login in another tab won the race
            identity = FederatedIdentity.objects.select_related("user").get(issuer=issuer, subject=subject)
    user = identity.user
    update_from_claims(user, claims)
    identity.last_login = timezone.now()
    identity.save(update_fields=["last_login"])
    return user


def new_username(claims: dict, issuer: str, subject: str) -> str:
    """A free user name: the OIDC_USERNAME_CLAIM's value when it has one (with -2, -3... when
    taken: a provider's "admin" never becomes the portal's admin), else one derived from issuer
    and subject. Only a display name: the account is found by (issuer, sub)."""
    User = get_user_model()
    wanted = str(claims.get(settings.OIDC_USERNAME_CLAIM) or "") if settings.OIDC_USERNAME_CLAIM else ""
    base = _NOT_IN_A_USERNAME.sub("", wanted)[:140]
    if not base:
        base = "sso-" + hashlib.sha256(f"{issuer} {subject}".encode()).hexdigest()[:12]
    candidate, suffix = base, 2
    while User.objects.filter(username__iexact=candidate).exists():
        candidate, suffix = f"{base}-{suffix}", suffix + 1
    return candidate


def update_from_claims(user, claims: dict) -> None:
    first, last = claims.get("given_name"), claims.get("family_name")
    if not (first or last) and claims.get("name"):
        first, _, last = str(claims["name"]).partition(" ")
    values = {
        "email": str(claims.get("email") or user.email)[:254],
        "first_name": str(first or user.first_name)[:150],
        "last_name": str(last or user.last_name)[:150],
    }
    changed = [name for name, value in values.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, values[name])
    if changed:
        user.save(update_fields=changed)
