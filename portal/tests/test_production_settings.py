"""PORTAL_PRODUCTION=true (docs/deploy.md): keys and the database password from the environment
only, a clear one-line refusal when one is missing, and `manage.py check --deploy` with nothing to
say; `make run`'s embedded default is unchanged."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-" + "x7Yq" * 13  # 59 characters, many distinct: Django's check accepts it
DATABASE = "postgres://portal:a-password@127.0.0.1:5432/portal"


def manage(tmp_path, *args, **env):
    environment = {k: v for k, v in os.environ.items() if k not in ("PORTAL_ENCRYPTION_KEY", "SECRET_KEY",
                   "DATABASE_URL", "DEBUG", "DJANGO_SETTINGS_MODULE", "ALLOWED_HOSTS")}  # fmt: skip
    environment.update(PORTAL_VAR_DIR=str(tmp_path), **env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def production(**changes):
    values = {"PORTAL_PRODUCTION": "true", "SECRET_KEY": SECRET, "DATABASE_URL": DATABASE,
              "PORTAL_ENCRYPTION_KEY": Fernet.generate_key().decode(), "PORTAL_URL": "https://portal.example.org"}  # fmt: skip
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def test_production_settings_pass_check_deploy(tmp_path):
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **production())
    assert result.returncode == 0, result.stderr
    # HSTS for subdomains and for the browsers' preload list stay the site's choice (docs/deploy.md).
    assert "no issues (2 silenced)" in result.stdout
    assert not (tmp_path / "secret_key").exists() and not (tmp_path / "encryption.key").exists()


def test_production_turns_on_secure_cookies_hsts_and_the_https_redirect(tmp_path):
    show = ("from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
            "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.ALLOWED_HOSTS, s.SECURE_PROXY_SSL_HEADER)")  # fmt: skip
    result = manage(tmp_path, "shell", "--no-imports", "-c", show, **production())
    assert result.stdout.split(None, 4) == [
        "True",
        "True",
        "True",
        "31536000",
        "['portal.example.org'] None\n",
    ]
    proxied = manage(
        tmp_path, "shell", "--no-imports", "-c", show, **production(SECURE_PROXY_SSL_HEADER="true")
    )
    assert proxied.stdout.strip().endswith("('HTTP_X_FORWARDED_PROTO', 'https')")


def test_make_runs_default_has_none_of_it(tmp_path):
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W012" in result.stderr and "security.W004" in result.stderr


@pytest.mark.parametrize(
    "missing, said",
    [
        ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
        ({"PORTAL_ENCRYPTION_KEY": None}, "PORTAL_ENCRYPTION_KEY is not set"),
        ({"PORTAL_ENCRYPTION_KEY": "not-a-key"}, "key 1 of PORTAL_ENCRYPTION_KEY is not a Fernet key"),
        ({"DATABASE_URL": None}, "DATABASE_URL is not set"),
        ({"DATABASE_URL": "sqlite:////tmp/portal.sqlite3"}, "DATABASE_URL is not a PostgreSQL database"),
        ({"DATABASE_URL": "postgres://portal@127.0.0.1/portal"}, "DATABASE_URL has no password"),
    ],
)
def test_production_refuses_to_start_without_its_keys_in_one_line(tmp_path, missing, said):
    result = manage(tmp_path, "check", **production(**missing))
    assert result.returncode == 1
    assert result.stderr.startswith("Context Portal cannot start: ") and said in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "secret_key").exists() and not (tmp_path / "encryption.key").exists()


def test_the_profile_editor_with_full_lists_fits_the_form_field_limit():
    """The editor posts every section at once; at its lists' maximum that is over Django's 1,000."""
    from django.conf import settings

    from contexts.forms import EDITOR_FORMS

    fields = 0
    for form in EDITOR_FORMS.values():
        if hasattr(form, "max_num"):  # a formset: each item's fields and its Remove box, 4 management fields
            fields += (len(form.form.base_fields) + 1) * form.max_num + 4
        else:
            fields += len(form.base_fields)
    assert 1000 < fields <= settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
