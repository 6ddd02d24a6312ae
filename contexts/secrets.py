"""Secret fields of a profile document: encrypted at rest, never shown back, hashed on output.

A document exists in three forms:
- *plain*: secrets in clear text (what a user types, what the renderer needs);
- *sealed*: each secret replaced by `{"$secret": "<Fernet token>"}` (what the database holds);
- *redacted*: each secret that is set replaced by `REDACTED` (what pages and the YAML editor show).

Submitting `REDACTED` back for a secret keeps the stored value, so editing a profile never needs
its secrets to be shown.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
from collections.abc import Callable, Iterator
from typing import Any

from passlib.hash import sha512_crypt

from portal import crypto

SEALED = "$secret"
REDACTED = "********"

_CRYPT_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class SecretError(ValueError):
    pass


def secret_slots(document: dict) -> Iterator[tuple[dict, str, str]]:
    """(container, key, stable name) for every place a secret may live.

    The stable name identifies a secret across revisions (users by name, not by position), so a
    kept secret follows its user when the list is reordered.
    """
    if not isinstance(document, dict):
        return
    for user in document.get("users") or []:
        if isinstance(user, dict) and "password" in user:
            yield user, "password", f"users[{user.get('name')}].password"
    root = document.get("root")
    if isinstance(root, dict) and "password" in root:
        yield root, "password", "root.password"
    yield from _services().secret_slots(document)


def _services():
    # Imported when first used: the service modules import the forms, which import this module.
    from contexts import services

    return services


def encrypt(plaintext: str) -> str:
    return crypto.encrypt(plaintext)


def decrypt(token: str) -> str:
    try:
        return crypto.decrypt(token)
    except crypto.DecryptionError as exc:
        raise SecretError(str(exc)) from None


def _is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {SEALED}


def seal(document: dict, previous: dict | None = None) -> dict:
    """Encrypt the secrets of a plain document; `REDACTED` keeps the secret of `previous`."""
    sealed = copy.deepcopy(document)
    kept = {name: c[k] for c, k, name in secret_slots(previous or {}) if _is_sealed(c[k])}
    for container, key, name in secret_slots(sealed):
        value = container[key]
        if value == REDACTED:
            if name not in kept:
                raise SecretError(f"{name}: there is no stored secret to keep; type a new value")
            container[key] = kept[name]
        elif isinstance(value, str):
            container[key] = {SEALED: encrypt(value)}
        elif not (value is None or _is_sealed(value)):
            raise SecretError(f"{name}: a secret must be a string")
    return sealed


def unseal(sealed: dict) -> dict:
    plain = copy.deepcopy(sealed)
    for container, key, _name in secret_slots(plain):
        if _is_sealed(container[key]):
            container[key] = decrypt(container[key][SEALED])
    return plain


def redact(document: dict) -> dict:
    """Secrets that are set become `REDACTED`; works on plain and sealed documents."""
    out = copy.deepcopy(document)
    for container, key, _name in secret_slots(out):
        if container[key] not in (None, ""):
            container[key] = REDACTED
    return out


def without_secrets(document: dict, *, stand_in: Callable[[str], str] | None = None) -> dict:
    """A copy of a (sealed or plain) document for someone who may not have its secrets: every
    secret unset, but one all nodes of a cluster share (a pool password), which becomes
    `stand_in(derived_from)` when `stand_in` is given (see `services.base.Secret`)."""
    out = copy.deepcopy(document)
    for container, key, name in secret_slots(out):
        if container[key] not in (None, ""):
            shared = _services().secret(name)
            derived = stand_in and shared and shared.derived_from
            container[key] = stand_in(shared.derived_from) if derived else None
    return out


def stand_in_words(name: str) -> str:
    """What a launch without the owner's secrets gets instead of this one, in words ("a pool
    password"); "" when it goes without."""
    shared = _services().secret(name)
    return shared.stand_in if shared and shared.derived_from else ""


def describe(name: str) -> str:
    """A secret's stable name in words: "the password of the user alice", ..."""
    if name.startswith("users[") and name.endswith("].password"):
        return f"the password of the user {name[len('users[') : -len('].password')]}"
    if name == "root.password":
        return "root's password"
    service_secret = _services().secret(name)
    return service_secret.words if service_secret else name


def secrets_set(document: dict) -> set[str]:
    """Stable names of the secrets that hold a value (for "set" badges in forms)."""
    return {name for c, k, name in secret_slots(document) if c[k] not in (None, "")}


def password_hash(password: str, salt_seed: bytes, purpose: str) -> str:
    """SHA-512 crypt hash (`$6$`), with a salt derived from `salt_seed` and `purpose`.

    Deterministic for one revision, so the preview, the API and the command line emit the same
    bytes, and cacheable, so rendering a thousand instances hashes each password once.
    """
    digest = hmac.new(salt_seed, f"{purpose}\0{password}".encode(), hashlib.sha256).digest()
    salt = "".join(_CRYPT_ALPHABET[b % 64] for b in digest[:16])
    return _hash(password, salt)


@functools.lru_cache(maxsize=1024)
def _hash(password: str, salt: str) -> str:
    # 5000 rounds is the crypt(3) default: the hash carries no "rounds=" field, which every
    # libc and CernVM's amiconfig understand.
    return sha512_crypt.using(salt=salt, rounds=5000).hash(password)
