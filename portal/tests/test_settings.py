"""Settings come from the environment; the keys the portal needs are generated once into var/."""

import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOW = "from django.conf import settings as s; print(s.PORTAL_ENCRYPTION_KEYS[0], s.DEBUG, s.DATABASES['default']['ENGINE'])"


def settings_in(var_dir, **env):
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PORTAL_ENCRYPTION_KEY", "SECRET_KEY", "DEBUG", "DATABASE_URL")
    }
    environment.update(PORTAL_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="portal.settings", **env)
    code = "import django; django.setup(); " + SHOW
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_keys_are_generated_once_into_var_and_kept_private(tmp_path):
    key, debug, engine = settings_in(tmp_path)
    key_file = tmp_path / "encryption.key"
    assert key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert settings_in(tmp_path)[0] == key  # reused, not regenerated
    assert debug == "False"
    assert engine == "django.db.backends.sqlite3"


def test_environment_variables_override_the_defaults(tmp_path):
    key, debug, engine = settings_in(
        tmp_path,
        PORTAL_ENCRYPTION_KEY="k" * 43 + "=",
        DEBUG="true",
        DATABASE_URL="postgres://u@127.0.0.1:5432/portal",
    )
    assert key == "k" * 43 + "="
    assert debug == "True"
    assert engine == "django.db.backends.postgresql"
    assert not (tmp_path / "encryption.key").exists()


def test_no_key_is_committed():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert not [p for p in tracked if p.startswith("var/") or p.endswith(".key") or p == ".env"]
