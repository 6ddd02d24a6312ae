"""Encryption at rest for everything secret the portal stores (profile secrets, cloud
credentials): Fernet with the keys of settings.PORTAL_ENCRYPTION_KEYS (the first encrypts, all
decrypt, so keys can be rotated)."""

import functools
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class DecryptionError(ValueError):
    pass


def _fernet() -> MultiFernet:
    from django.conf import settings

    return _fernet_for(tuple(settings.PORTAL_ENCRYPTION_KEYS))


@functools.lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("a stored secret cannot be decrypted with the configured keys") from None


def encrypt_json(value) -> str:
    return encrypt(json.dumps(value, sort_keys=True))


def decrypt_json(token: str):
    return json.loads(decrypt(token)) if token else {}


def rotate(token: str) -> str:
    """The same secret encrypted with the first key (portal.key_rotation)."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("a stored secret cannot be decrypted with the configured keys") from None
