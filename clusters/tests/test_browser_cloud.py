"""A person on a phone adds her EC2 cloud (moto) and tests the connection: the page says
"checking…" and then the outcome, in place, without a reload, from a real Celery worker."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from clusters.tests.cloud_helpers import ACCESS_KEY, SECRET_KEY
from portal.testing.browser import click, fill, fits_the_screen
from portal.testing.waits import DEADLINE

pytestmark = [pytest.mark.slow, pytest.mark.database_agnostic, pytest.mark.django_db(transaction=True)]


def test_a_person_adds_a_cloud_and_tests_it_in_place(browser, live_server, moto_ec2, celery_worker_process):
    browser.delete_all_cookies()
    browser.get(live_server.url + "/accounts/signup/")
    fill(browser, "username", "dana")
    fill(browser, "password1", "a long enough passphrase")
    fill(browser, "password2", "a long enough passphrase")
    click(browser, "//main//button[@type='submit']")
    WebDriverWait(browser, DEADLINE).until(seen.url_matches(r"/profiles/$"))

    browser.get(live_server.url + "/clouds/")
    click(browser, "//a[contains(., 'Add your first cloud')]")
    click(browser, "//a[contains(., 'Amazon EC2')]")
    assert fits_the_screen(browser)
    fill(browser, "name", "Phone EC2")
    fill(browser, "param_key", ACCESS_KEY)
    fill(browser, "param_secret", SECRET_KEY)
    fill(browser, "host", moto_ec2.host)
    fill(browser, "port", str(moto_ec2.port))
    click(browser, "//input[@name='secure']")  # moto speaks plain http
    fill(browser, "region", moto_ec2.region)
    click(browser, "//main//button[@type='submit' and contains(., 'Save')]")

    WebDriverWait(browser, DEADLINE).until(seen.url_matches(r"/clouds/\d+/$"))
    assert "Never tested." in browser.page_source
    # Who serves the cloud's queue is loaded after the page, in place.
    WebDriverWait(browser, 10).until(
        seen.text_to_be_present_in_element((By.ID, "queue-status"), "is served by")
    )
    assert fits_the_screen(browser)
    browser.execute_script("window.stillThePage = true")
    click(browser, "//button[contains(., 'Test connection')]")
    WebDriverWait(browser, DEADLINE).until(
        seen.text_to_be_present_in_element((By.ID, "check-status"), "checking…")
    )
    WebDriverWait(browser, DEADLINE).until(
        seen.text_to_be_present_in_element((By.ID, "check-status"), "connected: ")
    )
    status = browser.find_element(By.ID, "check-status").text
    assert "ok" in status and " sizes, " in status
    assert browser.execute_script("return window.stillThePage === true"), "the page was reloaded"
    assert ACCESS_KEY not in browser.page_source and SECRET_KEY not in browser.page_source

    # A post htmx gets an error for is made again the plain way, so the error shows instead of nothing.
    browser.delete_cookie("csrftoken")
    click(browser, "//button[contains(., 'Test connection')]")
    WebDriverWait(browser, 10).until(lambda b: "CSRF verification failed" in b.page_source)
