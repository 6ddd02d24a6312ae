"""Shared test fixtures: named users as in the feature list (alice owns, bob is another
user, charlie is a stranger), and a client logged in as each."""

import pytest

PASSWORD = "correct horse battery staple"


def pytest_addoption(parser):
    parser.addoption(
        "--skip-database-agnostic",
        action="store_true",
        help="leave out the tests marked database_agnostic (scripts/test.sh's run on PostgreSQL)",
    )


def pytest_collection_modifyitems(config, items):
    """The run on PostgreSQL leaves out the tests whose subject is not the database: they ran on SQLite.
    The fast suite runs whole on both databases, so only a slow test may be marked so."""
    left_out = [item for item in items if item.get_closest_marker("database_agnostic")]
    fast = [item.nodeid for item in left_out if not item.get_closest_marker("slow")]
    if fast:
        raise pytest.UsageError(f"database_agnostic marks slow tests only, not {', '.join(fast)}")
    if not config.getoption("--skip-database-agnostic"):
        return
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("database_agnostic")]


def _user(django_user_model, username):
    return django_user_model.objects.create_user(username=username, password=PASSWORD)


@pytest.fixture
def alice(django_user_model):
    return _user(django_user_model, "alice")


@pytest.fixture
def bob(django_user_model):
    return _user(django_user_model, "bob")


@pytest.fixture
def charlie(django_user_model):
    return _user(django_user_model, "charlie")


def _client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice):
    return _client_for(alice)


@pytest.fixture
def bob_client(bob):
    return _client_for(bob)


@pytest.fixture
def root_client(django_user_model):
    """A superuser's client: the admin pages."""
    return _client_for(django_user_model.objects.create_superuser("root", "root@example.org", "pw"))


@pytest.fixture
def charlie_client(charlie):
    return _client_for(charlie)


@pytest.fixture(scope="session")
def celery_worker_process(tmp_path_factory, django_db_setup):
    """A real Celery worker process on the test Redis and the test database, for the session.

    Tests that need the worker to see their rows use `@pytest.mark.django_db(transaction=True)`,
    so what they write is committed."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from portal.testing.waits import stop, wait_until_worker_answers

    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    name = f"test-worker-{os.getpid()}@localhost"
    from django.conf import settings

    database = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.testing.settings",
        "DATABASE_URL": _database_url(database),
    }
    command = [sys.executable, "-m", "celery", "-A", "portal", "worker", "--loglevel", "INFO",
               "--pool", "solo", "--queues", "default,records", "--hostname", name, "--without-mingle",
               "--without-gossip"]  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   cwd=Path(__file__).parent)  # fmt: skip
    try:
        wait_until_worker_answers(process, name, log=log_path)
        yield process
    finally:
        stop(process)


def _database_url(database: dict) -> str:
    """The URL of the database the tests use (pytest-django renamed it to the test database)."""
    if database["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{database['NAME']}"
    user = database["USER"] + (f":{database['PASSWORD']}" if database.get("PASSWORD") else "")
    return f"postgres://{user}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}"


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium at a phone's width, driven by Selenium (no browser download)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--no-first-run"):  # fmt: skip
        options.add_argument(argument)
    # A phone's screen: headless windows cannot be narrower than 500 px, an emulated device can.
    options.add_experimental_option(
        "mobileEmulation", {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 3}}
    )
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(2)
    yield driver
    driver.quit()
