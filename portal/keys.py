"""Keys the portal generates for itself on first run, kept in var/ (never committed)."""

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

_MAKERS = {
    "django": lambda: secrets.token_urlsafe(50),
    "fernet": lambda: Fernet.generate_key().decode(),
    "password": lambda: secrets.token_urlsafe(12),
}


def ensure_key_file(path: Path, kind: str) -> str:
    """Return the key stored in `path`, creating it (mode 0600) the first time."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = _MAKERS[kind]()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key
