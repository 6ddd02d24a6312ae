"""The cluster page in a real browser follows its queue without a reload: a new report of the head
moves the chart's worker count, and the elastic policy's event shows in the event list."""

import pytest
from selenium.webdriver.common.by import By

from clusters.models import ClusterEvent
from clusters.tests.queue_sample_helpers import add_sample, elastic_cluster
from portal.testing.browser import carry_session, fits_the_screen, until

pytestmark = [pytest.mark.slow, pytest.mark.database_agnostic, pytest.mark.django_db(transaction=True)]
EVENT = "+5 workers: 212 idle jobs, 0 idle workers"


def _workers_drawn(browser) -> int:
    points = browser.find_element(By.CSS_SELECTOR, "svg.queue-chart polyline.chart-workers").get_attribute(
        "points"
    )
    return len(points.split())


def test_the_chart_and_the_events_follow_new_reports_without_a_reload(browser, live_server, alice):
    cluster = elastic_cluster(alice, "elastic")
    add_sample(cluster, idle_jobs=212, running_jobs=0, instances=0)
    carry_session(browser, live_server.url, alice)
    browser.get(live_server.url + f"/clusters/{cluster.pk}/")
    browser.execute_script("window.notReloaded = true;")  # gone if the page reloads
    latest = browser.find_element(By.ID, "queue-latest")
    assert latest.text.endswith(": 212 idle jobs, 0 running, 0 workers.") and _workers_drawn(browser) == 1
    assert EVENT not in browser.find_element(By.ID, "events").text
    assert fits_the_screen(browser)

    # What the elastic task does when the head reports 212 idle jobs: five more workers, and says so.
    add_sample(cluster, idle_jobs=212, running_jobs=0, instances=5)
    ClusterEvent.objects.create(cluster=cluster, message=EVENT)

    def updated(driver) -> bool:
        return (
            driver.find_element(By.ID, "queue-latest").text.endswith(": 212 idle jobs, 0 running, 5 workers.")
            and _workers_drawn(driver) == 2
            and EVENT in driver.find_element(By.ID, "events").text
        )

    until(browser, updated)
    assert browser.execute_script("return window.notReloaded;")
    chart = browser.find_element(By.CSS_SELECTOR, "svg.queue-chart")
    assert "workers between 0 and 5" in chart.find_element(By.TAG_NAME, "desc").get_attribute("textContent")
    assert fits_the_screen(browser)
