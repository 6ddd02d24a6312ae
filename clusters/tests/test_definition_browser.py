"""A person on a phone defines a cluster: one master, then "Add another role" for twenty workers
that need the master's address; she saves and sees the picture of it."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from clusters.models import ClusterDefinition
from clusters.tests.definition_helpers import WORKER_DOCUMENT, make_image, make_offering, make_profile
from conftest import PASSWORD
from portal.testing.browser import choose, click, fill, fits_the_screen, log_in
from portal.testing.waits import DEADLINE

pytestmark = [pytest.mark.slow, pytest.mark.database_agnostic, pytest.mark.django_db(transaction=True)]


def test_a_person_adds_a_role_with_add_another_and_saves_on_a_phone(browser, live_server, alice):
    make_profile(alice, "Condor master")
    make_profile(alice, "Condor worker", document=WORKER_DOCUMENT)
    make_image(alice)
    make_offering("medium")
    make_offering("large")
    log_in(browser, live_server.url, "alice", PASSWORD)

    browser.get(live_server.url + "/definitions/new/")
    assert fits_the_screen(browser)
    fill(browser, "name", "Phone pool")
    fill(browser, "roles-0-name", "master")
    choose(browser, "roles-0-profile", "Condor master")
    choose(browser, "roles-0-offering", "medium")
    choose(browser, "roles-0-image", "CernVM 4 — My EC2")

    click(browser, "//button[@data-formset-add='roles']")
    fill(browser, "roles-1-name", "worker")
    choose(browser, "roles-1-profile", "Condor worker")
    choose(browser, "roles-1-offering", "large")
    choose(browser, "roles-1-image", "CernVM 4 — My EC2")
    fill(browser, "roles-1-count", "20")
    fill(browser, "roles-1-depends_on", "master")
    assert fits_the_screen(browser)
    click(browser, "//main//button[@type='submit' and contains(., 'Save')]")

    WebDriverWait(browser, DEADLINE).until(seen.url_matches(r"/definitions/\d+/$"))
    assert "Created the definition Phone pool." in browser.page_source
    boxes = browser.find_elements(By.CSS_SELECTOR, "#topology svg g.role")
    assert sorted(box.get_attribute("data-role") for box in boxes) == ["master", "worker"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#topology svg line.dependency")) == 1
    assert fits_the_screen(browser)
    worker = ClusterDefinition.objects.get(name="Phone pool").roles.get(name="worker")
    assert (worker.count, worker.depends_on) == (20, ["master"])
