"""PIN pairing (SPEC §8): a VM asks for a PIN, a user pairs it with a profile, the VM collects the
user-data once.

A paired VM is a cluster of one, so its templates see these variables:

- `cluster.name` = "paired", `cluster.id` = 0, `cluster.secret` = a secret of this pairing,
- `role.name` = "node", `instance.index` = 0, `instance.name` = "paired-<pairing id>",
- `instance.token` = "" (a paired VM has no instance token, so no check-in or rendezvous),
- `roles.<any role the profile names>.address(es)` = the VM's own address,
- `portal.url` = the portal's URL.

The owner of the profile gets its secrets; anyone pairing someone else's public profile gets
the redacted user-data, as a download would give them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta

import redis
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from contexts.models import PairingRequest, Profile
from contexts.profiles import render_revision, shown_document
from contexts.render import FORMATS, RenderError
from contexts.secrets import SecretError
from contexts.templating import parse_variables, preview_variables

# No 0/O, 1/I/L: a PIN is read off a console and typed into a browser.
PIN_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PIN_LENGTH = 8
PIN_LIFETIME = timedelta(minutes=15)
# Once paired, the VM has this long to collect its user-data, even past the PIN's expiry.
COLLECT_WINDOW = timedelta(minutes=15)
DEFAULT_FORMAT = "cloud-init"

MAX_WRONG_PINS = 20
WRONG_PIN_WINDOW_SECONDS = 15 * 60


class PairingError(Exception):
    """A refusal with the HTTP status the API answers it with."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UnknownPin(PairingError):
    status = 404


class PinGone(PairingError):
    status = 410


class TooManyWrongPins(PairingError):
    status = 429


class Waiting(Exception):
    pass


def normalize_pin(text: str) -> str:
    """What a user typed, as stored: case, spaces and dashes do not matter."""
    return "".join(text.split()).replace("-", "").upper()


def new_pin() -> str:
    return "".join(secrets.choice(PIN_ALPHABET) for _ in range(PIN_LENGTH))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_request(address: str | None, requested_format: str = "") -> tuple[PairingRequest, str]:
    """A new PIN for the VM at `address`, and the poll token only the VM gets."""
    if requested_format and requested_format not in FORMATS:
        raise PairingError(f"unknown format {requested_format!r}; choose one of {', '.join(FORMATS)}")
    token = secrets.token_urlsafe(32)
    for _ in range(10):  # PINs are unique for ever; a collision is rare, so try another
        try:
            with transaction.atomic():
                pairing = PairingRequest.objects.create(
                    pin=new_pin(),
                    poll_token_hash=_hash(token),
                    address=address or None,
                    requested_format=requested_format,
                    expires_at=timezone.now() + PIN_LIFETIME,
                )
            return pairing, token
        except IntegrityError:
            continue
    raise PairingError("could not find a free PIN; try again")


def claim(user, pin: str, profile: Profile, fmt: str = "", *, address: str | None) -> PairingRequest:
    """Pair the PIN's VM with `profile` (which `user` may read) in format `fmt`.

    A PIN that matches nothing counts against the user and the address; after MAX_WRONG_PINS
    in a window every try is refused, right PIN or not.
    """
    limiter = WrongPinLimiter()
    keys = [f"user:{user.pk}", f"address:{address or 'unknown'}"]
    if limiter.blocked(keys):
        raise TooManyWrongPins(
            f"Too many wrong PINs: wait up to {WRONG_PIN_WINDOW_SECONDS // 60} minutes and try again."
        )
    pairing = PairingRequest.objects.filter(pin=normalize_pin(pin)).first()
    if pairing is None:
        limiter.count_wrong(keys)
        raise UnknownPin("No machine is waiting with this PIN: check the PIN the machine shows.")
    now = timezone.now()
    if pairing.paired_at is not None:
        raise PinGone("This PIN was already used: run the pairing script again for a new one.")
    if pairing.expires_at <= now:
        raise PinGone("This PIN has expired: run the pairing script again for a new one.")
    fmt = fmt or pairing.requested_format or DEFAULT_FORMAT
    if fmt not in FORMATS:
        raise PairingError(f"Unknown format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    revision = profile.latest
    redact = profile.owner_id != user.pk
    pairing.profile, pairing.revision, pairing.format, pairing.redact = profile, revision, fmt, redact
    _render(pairing)  # a profile that cannot render is refused now, not when the VM collects
    updated = PairingRequest.objects.filter(pk=pairing.pk, paired_at__isnull=True, expires_at__gt=now).update(
        user=user, profile=profile, revision=revision, format=fmt, redact=redact, paired_at=now
    )
    if not updated:  # paired by someone else a moment ago
        raise PinGone("This PIN was already used: run the pairing script again for a new one.")
    pairing.user, pairing.paired_at = user, now
    return pairing


def collect(poll_token: str) -> tuple[PairingRequest, bytes]:
    """The user-data for the VM holding `poll_token`, once: a second collection is refused."""
    pairing = PairingRequest.objects.filter(poll_token_hash=_hash(poll_token)).first()
    if pairing is None:
        raise UnknownPin("No such pairing request.")
    now = timezone.now()
    if pairing.collected_at is not None:
        raise PinGone("This machine's user-data was already collected: ask for a new PIN.")
    if pairing.paired_at is None:
        if pairing.expires_at <= now:
            raise PinGone("The PIN expired before anyone paired it: ask for a new PIN.")
        raise Waiting()
    if pairing.paired_at + COLLECT_WINDOW <= now:
        raise PinGone("The pairing expired before the user-data was collected: ask for a new PIN.")
    if pairing.revision_id is None:
        raise PinGone("The profile was deleted after pairing: ask for a new PIN.")
    try:
        data = _render(pairing)
    except PairingError as exc:
        raise PinGone(exc.message) from None
    if not PairingRequest.objects.filter(pk=pairing.pk, collected_at__isnull=True).update(collected_at=now):
        raise PinGone("This machine's user-data was already collected: ask for a new PIN.")
    return pairing, data


def paired_variables(pairing: PairingRequest) -> dict:
    """The launch variables of a paired VM (see the module's docstring)."""
    dotted = preview_variables(shown_document(pairing.revision), settings.PORTAL_URL)
    own_address = pairing.address or "127.0.0.1"
    for key in dotted:
        if key.startswith("roles."):
            dotted[key] = own_address
    dotted.update(
        {
            "cluster.name": "paired",
            "cluster.id": "0",
            "cluster.secret": _cluster_secret(pairing),
            "role.name": "node",
            "instance.index": "0",
            "instance.name": pairing.machine_name,
            "instance.token": "",
        }
    )
    return parse_variables(dotted)


def _cluster_secret(pairing: PairingRequest) -> str:
    # Derived rather than stored: the same on every rendering of this pairing, unknown to others.
    message = f"pairing-cluster-secret:{pairing.pk}:{pairing.poll_token_hash}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:32]


def _render(pairing: PairingRequest) -> bytes:
    try:
        return render_revision(
            pairing.revision, paired_variables(pairing), pairing.format, redact=pairing.redact
        )
    except (RenderError, SecretError) as exc:
        raise PairingError(f"Cannot render {pairing.format}: {exc}") from None


class WrongPinLimiter:
    """Fixed-window counters of wrong PINs in Redis, shared by every web process."""

    def __init__(self, client: redis.Redis | None = None):
        self.redis = client or redis.Redis.from_url(settings.CELERY_BROKER_URL)
        self.prefix = key_prefix()

    def _key(self, name: str) -> str:
        return f"{self.prefix}{name}:{int(time.time() // WRONG_PIN_WINDOW_SECONDS)}"

    def blocked(self, names: list[str]) -> bool:
        counts = self.redis.mget([self._key(n) for n in names])
        return any(int(c or 0) >= MAX_WRONG_PINS for c in counts)

    def count_wrong(self, names: list[str]) -> None:
        with self.redis.pipeline() as pipe:
            for name in names:
                key = self._key(name)
                pipe.incr(key)
                pipe.expire(key, WRONG_PIN_WINDOW_SECONDS + 60)
            pipe.execute()


def key_prefix() -> str:
    """Redis keys of the wrong-PIN counters, under the run's prefix in tests."""
    run = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    return f"{run}context-portal:pairing:wrong-pins:"
