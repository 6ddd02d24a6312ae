"""The cluster page in a real browser updates itself while the cluster comes up: no reload."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from clusters import launcher
from clusters.tasks import monitor_clouds
from clusters.tests.launch_helpers import cloud_with_offering, condor_definition
from portal.testing.waits import DEADLINE

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_cluster_page_shows_the_instances_coming_up_without_a_reload(
    browser, live_server, alice, moto_ec2, celery_worker_process
):
    cloud = cloud_with_offering(alice, moto_ec2.config())
    cluster = launcher.launch(
        condor_definition(alice, cloud, workers=3), alice, "live", {"master": cloud, "worker": cloud}
    )
    browser.get(live_server.url + "/accounts/login/")
    browser.find_element(By.NAME, "username").send_keys("alice")
    browser.find_element(By.NAME, "password").send_keys("correct horse battery staple")
    browser.find_element(By.XPATH, "//main//button[@type='submit']").click()
    WebDriverWait(browser, DEADLINE).until(lambda b: "/profiles/" in b.current_url)

    browser.get(live_server.url + f"/clusters/{cluster.pk}/")
    browser.execute_script("window.notReloaded = true;")  # gone if the page reloads
    # Nodes count as running only once a monitoring cycle has seen them, and none has run yet.
    assert browser.find_element(By.ID, "progress-text").text.startswith("0 of 4 instances running")

    def all_running(driver):
        monitor_clouds.delay()
        text = driver.find_element(By.ID, "progress-text").text
        return text.startswith("4 of 4 instances running") and driver.execute_script(
            "return window.notReloaded;"
        )

    WebDriverWait(browser, 120, poll_frequency=1).until(all_running)
    assert "live-worker-2" in browser.find_element(By.ID, "instances").text
