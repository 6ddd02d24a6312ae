"""The cluster page in a real browser updates itself while the cluster comes up: no reload. It holds
still while the user types a count, and Terminate asks first."""

import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from clusters import launcher
from clusters.tasks import monitor_clouds
from clusters.tests.launch_helpers import cloud_with_offering, condor_definition
from portal.testing.browser import until
from portal.testing.waits import DEADLINE

pytestmark = [pytest.mark.slow, pytest.mark.database_agnostic, pytest.mark.django_db(transaction=True)]


def _open_the_cluster_page(browser, live_server, alice, moto_ec2, name, workers):
    """Launch a cluster of alice's on moto's EC2 and open its page, logged in as alice."""
    cloud = cloud_with_offering(alice, moto_ec2.config())
    cluster = launcher.launch(
        condor_definition(alice, cloud, workers=workers), alice, name, {"master": cloud, "worker": cloud}
    )
    browser.delete_all_cookies()
    browser.get(live_server.url + "/accounts/login/")
    browser.find_element(By.NAME, "username").send_keys("alice")
    browser.find_element(By.NAME, "password").send_keys("correct horse battery staple")
    browser.find_element(By.XPATH, "//main//button[@type='submit']").click()
    WebDriverWait(browser, DEADLINE).until(lambda b: "/profiles/" in b.current_url)

    browser.get(live_server.url + f"/clusters/{cluster.pk}/")
    return cluster


def _swaps(browser) -> int:
    return browser.execute_script("return window.swaps;")


def test_the_cluster_page_shows_the_instances_coming_up_without_a_reload(
    browser, live_server, alice, moto_ec2, celery_worker_process
):
    _open_the_cluster_page(browser, live_server, alice, moto_ec2, "live", workers=3)
    browser.execute_script("window.notReloaded = true;")  # gone if the page reloads
    # Nodes count as running only once a monitoring cycle has seen them, and none has run yet.
    assert browser.find_element(By.ID, "progress-text").text.startswith("0 of 4 instances running")

    def all_running(driver):
        monitor_clouds.delay()
        text = driver.find_element(By.ID, "progress-text").text
        return text.startswith("4 of 4 instances running") and driver.execute_script(
            "return window.notReloaded;"
        )

    until(browser, all_running, timeout=120, every=1)
    until(browser, lambda b: "live-worker-2" in b.find_element(By.ID, "instances").text)


def test_the_live_part_waits_while_a_count_is_typed_and_terminate_asks_first(
    browser, live_server, alice, moto_ec2, celery_worker_process
):
    cluster = _open_the_cluster_page(browser, live_server, alice, moto_ec2, "typing", workers=1)
    browser.execute_script(
        "window.swaps = 0; document.addEventListener('htmx:afterSwap', function () { window.swaps += 1; });"
    )
    WebDriverWait(browser, 10).until(lambda b: _swaps(b) >= 1)  # refreshed every 2 s

    count = browser.find_element(By.CSS_SELECTOR, "tr[data-role='worker'] input[name='count']")
    count.clear()
    count.send_keys("3")
    held = _swaps(browser)
    time.sleep(5)  # two refreshes' worth
    assert _swaps(browser) == held and count.get_attribute("value") == "3", "the typed count was kept"
    browser.execute_script("document.activeElement.blur();")
    WebDriverWait(browser, 10).until(lambda b: _swaps(b) > held)  # and refreshed again once left

    browser.find_element(By.XPATH, "//button[contains(., 'Terminate')]").click()
    alert = WebDriverWait(browser, 5).until(seen.alert_is_present())
    assert alert.text == "Terminate every node of typing?"
    alert.dismiss()
    time.sleep(1)
    cluster.refresh_from_db()
    assert not cluster.is_ending and f"/clusters/{cluster.pk}/" in browser.current_url
