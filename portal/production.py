"""What portal/settings.py checks before a real site starts (PORTAL_PRODUCTION=true, docs/deploy.md).

A missing key or password stops the process with one line saying what to set, instead of the
portal making a key of its own (as `make run` does) that the next container would not have: a
web server and its workers with different encryption keys could not read each other's secrets.
"""

import os
from urllib.parse import urlsplit

from cryptography.fernet import Fernet


def refuse(message: str):
    # SystemExit with a text prints that text alone (no traceback) and exits 1, from manage.py,
    # gunicorn and celery alike.
    raise SystemExit(f"Context Portal cannot start: {message}")


def required_in_production(name: str, what: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        refuse(f"PORTAL_PRODUCTION is on and {name} is not set ({what}). See docs/deploy.md.")
    return value


def check_fernet_keys(keys: list[str]) -> None:
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.strip().encode())
        except ValueError:
            refuse(
                f"key {position} of PORTAL_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64-encoded "
                "bytes; make one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`)"
            )


def check_production_database(database: dict) -> None:
    """A real site runs on PostgreSQL, with a password (given in DATABASE_URL, never in a file)."""
    if not database["ENGINE"].endswith("postgresql"):
        refuse("PORTAL_PRODUCTION is on and DATABASE_URL is not a PostgreSQL database (postgres://...).")
    if not database.get("PASSWORD"):
        refuse(
            "PORTAL_PRODUCTION is on and DATABASE_URL has no password (postgres://USER:PASSWORD@HOST/NAME)."
        )


def allowed_hosts_default(portal_url: str, production: bool) -> list[str]:
    if production:
        return [urlsplit(portal_url).hostname or "localhost"]
    # 10.0.2.2 is this machine as the desktop cloud's VMs see it (docs/desktop-cloud.md): their check-ins.
    return ["127.0.0.1", "localhost", "[::1]", "testserver", "10.0.2.2"]
