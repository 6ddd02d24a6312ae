"""The portal on PostgreSQL (DATABASE_URL): migrations, sealed secrets in jsonb, rendering a stored
profile through the command line. A throwaway database on the real server (scripts/test.sh starts
one when none runs and sets TEST_POSTGRES_URL)."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.database_agnostic]

CREATE = """
from django.contrib.auth.models import User
from contexts.profiles import create_profile
alice = User.objects.create_user("alice")
doc = {"schema": 1, "hostname": "{{ cluster.name }}-{{ instance.index }}",
       "users": [{"sudo": True, "password": "pg-secret", "name": "alice"}]}
print(create_profile(alice, "On PostgreSQL", doc).pk)
"""


@pytest.fixture
def postgres_url():
    admin_url = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    name = f"portal_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def manage(url, *args):
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "portal.settings"}
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=180)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_portal_migrates_stores_and_renders_on_postgresql(postgres_url):
    manage(postgres_url, "migrate", "--noinput")
    profile_id = manage(postgres_url, "shell", "-v", "0", "-c", CREATE).strip()
    out = manage(
        postgres_url, "render_profile", profile_id, "--var", "cluster.name=pg", "--var", "instance.index=1"
    )
    assert "pg-1" in out and "$6$" in out and "pg-secret" not in out
    with psycopg.connect(postgres_url) as conn:
        stored = conn.execute("SELECT document::text FROM contexts_profilerevision").fetchone()[0]
    assert "pg-secret" not in stored and "gAAAA" in stored
