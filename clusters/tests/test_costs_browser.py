"""On a phone: alice reads what her cluster cost, sets its budget from the usage card, and reads
her usage per month; both pages fit the screen."""

from datetime import UTC, datetime, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from clusters.tests.cost_helpers import add_known_usage, priced_cluster
from conftest import PASSWORD
from portal.testing.browser import click, fill, fits_the_screen
from portal.testing.waits import DEADLINE

pytestmark = [pytest.mark.slow, pytest.mark.database_agnostic, pytest.mark.django_db(transaction=True)]


def test_alice_sets_a_budget_and_reads_her_usage_on_a_phone(browser, live_server, alice):
    cluster = add_known_usage(priced_cluster(alice), datetime.now(UTC))
    browser.delete_all_cookies()
    browser.get(live_server.url + "/accounts/login/")
    fill(browser, "username", "alice")
    fill(browser, "password", PASSWORD)
    click(browser, "//main//button[@type='submit']")
    WebDriverWait(browser, DEADLINE).until(seen.url_matches(r"/profiles/$"))

    browser.get(live_server.url + f"/clusters/{cluster.pk}/")
    assert browser.find_element(By.ID, "usage-cost").text == "4.00"
    assert fits_the_screen(browser)
    fill(browser, "budget_total", "8")
    click(browser, "//button[contains(., 'Set budget')]")
    WebDriverWait(browser, DEADLINE).until(seen.presence_of_element_located((By.ID, "usage-budget-total")))
    assert "4.00 spent, 50%" in browser.find_element(By.ID, "usage-budget-total").text
    assert fits_the_screen(browser)

    browser.get(live_server.url + "/usage/")
    month = (datetime.now(UTC) - timedelta(hours=3)).strftime("%B %Y")  # when the known usage ran
    assert month in browser.find_element(By.TAG_NAME, "main").text
    assert fits_the_screen(browser)
