"""PIN pairing (docs/pairing.md): a VM asks for a PIN, a user pairs it with a profile, the VM collects the
user-data once.

A paired VM is a cluster of one, so its templates see these variables:

- `cluster.name` = "paired", `cluster.id` = 0, `cluster.secret` = a secret of this pairing,
- `role.name` = "node", `instance.index` = 0, `instance.name` = "paired-<pairing id>",
- `instance.token` = "" (a paired VM has no instance token, so no check-in or rendezvous),
- `roles.<any role the profile names>.address(es)` = the VM's own address,
- `portal.url` = the portal's URL.

The owner of the profile gets its secrets; anyone pairing someone else's public profile gets
the redacted user-data, as a download would give them.

Limits (counters in Redis, each lasting LIMIT_WINDOW from its first count):

- Wrong PINs. A user who typed MAX_WRONG_PINS wrong PINs, from any addresses, is refused, right
  PIN or not. An address that saw MAX_WRONG_PINS_PER_ADDRESS wrong PINs, from any users, refuses
  only the users who typed a wrong PIN there themselves: a lab behind one NAT shares an address,
  and one student's typos must not lock out the others. So a guesser gets MAX_WRONG_PINS guesses
  per account, and an address gets MAX_WRONG_PINS_PER_ADDRESS plus one per account that has not
  guessed there yet, against 31^8 (about 8.5e11) PINs of which only the few waiting ones match.
- New PINs. An address gets settings.PAIRING_PINS_PER_ADDRESS PINs per window (anonymous
  requests: this bounds the rows one address adds), and the window is a PIN's lifetime, so that
  many machines behind one address can wait to be paired at once.
- IPv6 addresses count per /64: one client usually holds a whole /64.

A refusal says how long to wait (and the API sends Retry-After). Without Redis, pairing answers
503 rather than going on unlimited. PIN requests that expired unpaired are deleted an hour later
(`purge_unpaired`, run hourly by Celery beat); paired machines are kept for their users.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import ipaddress
import math
import secrets
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
from portal.redis_keys import redis_key

# No 0/O, 1/I/L: a PIN is read off a console and typed into a browser.
PIN_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PIN_LENGTH = 8
PIN_LIFETIME = timedelta(minutes=15)
# Once paired, the VM has this long to collect its user-data, even past the PIN's expiry.
COLLECT_WINDOW = timedelta(minutes=15)
DEFAULT_FORMAT = "cloud-init"

# Unpaired requests are kept this long past their expiry, so a VM still polling hears "expired".
PURGE_AFTER_EXPIRY = timedelta(hours=1)

LIMIT_WINDOW = timedelta(minutes=15)
MAX_WRONG_PINS = 20
MAX_WRONG_PINS_PER_ADDRESS = 100


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


class TooManyRequests(PairingError):
    """A limit was reached; `retry_after` seconds from now it no longer applies."""

    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(f"{message}: try again in {_minutes(retry_after)}.")
        self.retry_after = retry_after


class TooManyWrongPins(TooManyRequests):
    pass


class TooManyPins(TooManyRequests):
    pass


class LimitsUnavailable(PairingError):
    status = 503


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
    _count_new_pin(address)
    token = secrets.token_urlsafe(32)
    for _ in range(10):  # PINs are unique among kept requests; a collision is rare, so try another
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

    A PIN that matches nothing is a wrong PIN; too many are refused (see the module's docstring).
    """
    wrong_pins = WrongPins(user, address)
    wrong_pins.check()
    pairing = PairingRequest.objects.filter(pin=normalize_pin(pin)).first()
    if pairing is None:
        wrong_pins.count()
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


def purge_unpaired() -> int:
    """Delete the PIN requests that expired unpaired more than PURGE_AFTER_EXPIRY ago: nobody can
    pair or collect them any more, and no page shows them. Returns how many."""
    deleted, _ = PairingRequest.objects.filter(
        paired_at__isnull=True, expires_at__lt=timezone.now() - PURGE_AFTER_EXPIRY
    ).delete()
    return deleted


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


class WrongPins:
    """The wrong PINs counted for `user` typing at `address`: theirs anywhere, the address's, and
    theirs at the address (see the module's docstring for the rule)."""

    def __init__(self, user, address: str | None):
        where = limited_address(address)
        self.names = [f"user:{user.pk}", f"address:{where}", f"user:{user.pk}:address:{where}"]
        self.counters = Counters("wrong-pins", LIMIT_WINDOW)

    def check(self) -> None:
        mine, at_address, mine_here = self.counters.counts(self.names)
        blocked_everywhere = mine >= MAX_WRONG_PINS
        blocked_here = at_address >= MAX_WRONG_PINS_PER_ADDRESS and mine_here > 0
        if not (blocked_everywhere or blocked_here):
            return
        ttl_mine, ttl_address, ttl_mine_here = self.counters.seconds_left(self.names)
        waits = [ttl_mine] if blocked_everywhere else []
        if blocked_here:
            waits.append(min(ttl_address, ttl_mine_here))  # either one ending lifts this block
        raise TooManyWrongPins("Too many wrong PINs", max(waits))

    def count(self) -> None:
        self.counters.add(self.names)


def _count_new_pin(address: str | None) -> None:
    counters = Counters("new-pins", PIN_LIFETIME)
    name = f"address:{limited_address(address)}"
    (count,) = counters.add([name])
    if count > settings.PAIRING_PINS_PER_ADDRESS:
        (retry_after,) = counters.seconds_left([name])
        raise TooManyPins("Too many PIN requests from this address", retry_after)


def limited_address(address: str | None) -> str:
    """The address as the limits count it: IPv6 per /64 network, IPv4 as it is."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "unknown"
    ip = getattr(ip, "ipv4_mapped", None) or ip
    if ip.version == 6:
        return str(ipaddress.ip_network((ip, 64), strict=False))
    return str(ip)


class Counters:
    """Named counters in Redis, shared by every web process; each lasts `window` from its first
    count, so a refusal can say exactly when it ends."""

    # Atomic, so a counter never loses its expiry (which would refuse for ever).
    _ADD = """
    local counts = {}
    for i, key in ipairs(KEYS) do
        counts[i] = redis.call('INCR', key)
        if redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, ARGV[1]) end
    end
    return counts
    """

    def __init__(self, kind: str, window: timedelta):
        self.redis = _redis(settings.CELERY_BROKER_URL)
        self.prefix = f"{key_prefix()}{kind}:"
        self.seconds = int(window.total_seconds())

    def add(self, names: list[str]) -> list[int]:
        with _redis_errors():
            return self.redis.eval(self._ADD, len(names), *self._keys(names), self.seconds)

    def counts(self, names: list[str]) -> list[int]:
        with _redis_errors():
            return [int(c or 0) for c in self.redis.mget(self._keys(names))]

    def seconds_left(self, names: list[str]) -> list[int]:
        with _redis_errors(), self.redis.pipeline(transaction=False) as pipe:
            for key in self._keys(names):
                pipe.ttl(key)
            return [max(ttl, 1) for ttl in pipe.execute()]  # <= 0: gone or going this instant

    def _keys(self, names: list[str]) -> list[str]:
        return [f"{self.prefix}{name}" for name in names]


@functools.lru_cache(maxsize=4)
def _redis(url: str) -> redis.Redis:
    # One connection pool per process; short timeouts, so a Redis outage is a quick 503, not a hang.
    return redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)


@contextlib.contextmanager
def _redis_errors():
    try:
        yield
    except redis.RedisError as exc:
        raise LimitsUnavailable("Pairing is unavailable for a moment: try again in a minute.") from exc


def _minutes(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def key_prefix() -> str:
    """Redis keys of pairing's limits, under the run's prefix in tests."""
    return redis_key("pairing") + ":"
