"""Instance tokens (docs/launches.md, docs/security.md): each instance gets its own token in its user-data and sends it
as `Authorization: Instance <token>` to the instance API; the portal keeps only its SHA-256.

A plain, unsalted SHA-256 is enough because the token is 256 random bits, not a password: there is
nothing to guess or to look up in a table. It also makes the check constant-time in the way that
matters: the database is searched by the hash of what the client sent, so no secret is compared
byte by byte in Python, and what a timing difference could reveal about the index search is a
prefix of a SHA-256 — which says nothing about any token, as the hash cannot be inverted.
"""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AnonymousUser
from rest_framework import authentication, exceptions, permissions

from clusters.models import Instance, InstanceState

KEYWORD = "Instance"
_MAX_TOKEN_LENGTH = 512


def new_instance_token() -> tuple[str, str]:
    """A new token and its hash: the token goes into the user-data, the hash into
    `Instance.checkin_token_hash` (a new token replaces the old one, which stops working)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def instance_for_token(token: str, *, with_cluster: bool = True) -> Instance | None:
    """The live instance holding this token; a terminated instance's token no longer works.
    `with_cluster`: its cluster comes in the same query."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    live = Instance.objects.exclude(state=InstanceState.TERMINATED)
    if with_cluster:
        live = live.select_related("cluster")
    found = live.filter(checkin_token_hash=token_hash(token)).order_by()[:1]  # no sorting: one row
    return next(iter(found), None)


class InstanceTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Instance <token>`: `request.auth` is the instance, `request.user` anonymous.

    `with_cluster=False` leaves the instance's cluster to be read when needed: check-ins, the call
    a thousand VMs make at once, mostly need only the instance, and reading the cluster as well
    made them a quarter slower. The rendezvous store always needs it."""

    def __init__(self, with_cluster: bool = True):
        self.with_cluster = with_cluster

    def authenticate(self, request):
        words = authentication.get_authorization_header(request).split()
        if not words or words[0].lower() != KEYWORD.lower().encode():
            return None
        if len(words) != 2:
            raise exceptions.AuthenticationFailed("the Authorization header must be: Instance <token>")
        try:
            token = words[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("invalid instance token")
        instance = instance_for_token(token, with_cluster=self.with_cluster)
        if instance is None:
            raise exceptions.AuthenticationFailed("invalid instance token")
        return AnonymousUser(), instance

    def authenticate_header(self, request):
        # Makes a missing token a 401 with a WWW-Authenticate challenge rather than a 403.
        return KEYWORD


class IsInstance(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, Instance)
