"""A person on a phone makes the worker role of a new definition elastic: ticking "Elastic" hides
the count and shows the policy's fields, on the role "Add another role" added too."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from clusters.models import Role
from clusters.tests.definition_helpers import WORKER_DOCUMENT, make_image, make_offering, make_profile
from conftest import PASSWORD
from portal.testing.browser import choose, click, fill, fits_the_screen, log_in
from portal.testing.waits import DEADLINE

pytestmark = [pytest.mark.slow, pytest.mark.database_agnostic, pytest.mark.django_db(transaction=True)]


def shown(browser, name) -> bool:
    return browser.find_element(By.NAME, name).is_displayed()


def test_ticking_elastic_shows_the_policy_instead_of_the_count_on_a_phone(browser, live_server, alice):
    make_profile(alice, "Condor master")
    make_profile(alice, "Condor worker", document=WORKER_DOCUMENT)
    make_image(alice)
    make_offering("medium")
    log_in(browser, live_server.url, "alice", PASSWORD)

    browser.get(live_server.url + "/definitions/new/")
    fill(browser, "name", "Elastic pool")
    fill(browser, "roles-0-name", "master")
    choose(browser, "roles-0-profile", "Condor master")
    choose(browser, "roles-0-offering", "medium")
    choose(browser, "roles-0-image", "CernVM 4 — My EC2")
    assert shown(browser, "roles-0-count") and not shown(browser, "roles-0-idle_seconds")

    click(browser, "//button[@data-formset-add='roles']")
    assert shown(browser, "roles-1-count") and not shown(browser, "roles-1-jobs_per_worker")
    fill(browser, "roles-1-name", "worker")
    choose(browser, "roles-1-profile", "Condor worker")
    choose(browser, "roles-1-offering", "medium")
    choose(browser, "roles-1-image", "CernVM 4 — My EC2")
    fill(browser, "roles-1-depends_on", "master")
    click(browser, "//input[@name='roles-1-elastic']")
    assert not shown(browser, "roles-1-count")
    fill(browser, "roles-1-max_count", "20")
    fill(browser, "roles-1-jobs_per_worker", "4")
    fill(browser, "roles-1-idle_seconds", "300")
    click(browser, "//input[@name='roles-1-spot']")
    assert fits_the_screen(browser)
    click(browser, "//main//button[@type='submit' and contains(., 'Save')]")

    WebDriverWait(browser, DEADLINE).until(seen.url_matches(r"/definitions/\d+/$"))
    assert "elastic 0–20 workers, 4 jobs per worker, drain after 5 min idle" in browser.page_source
    assert fits_the_screen(browser)
    worker = Role.objects.get(name="worker")
    assert (worker.elastic, worker.max_count, worker.jobs_per_worker, worker.idle_seconds, worker.spot) == (
        True, 20, 4, 300, True)  # fmt: skip
