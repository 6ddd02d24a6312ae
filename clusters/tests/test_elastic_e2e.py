"""An elastic HTCondor cluster end to end, every part a real process: the portal's web server
(gunicorn), a Celery worker, Celery's beat running the elastic task and the monitor, Redis, moto's
EC2 server reached through libcloud, and on the head's side the real `portal-instance report` with
the HTCondor collector — run here against a stand-in pool (clusters/tests/condor_pool.py), since
HTCondor cannot be installed here. A real browser watches the cluster page meanwhile.

The head reports 200 idle jobs → 20 workers (the max) in one decision; the jobs run, then end on
half the workers → those are drained and terminated, never one that is busy; the rest end → down to
the minimum; a budget then stops growth below the max. After every scale-down the cloud's own list
is checked: no node the portal considers gone is alive."""

import base64
import subprocess
import time
from decimal import Decimal

import pytest
import yaml
from django.utils import timezone
from selenium.webdriver.common.by import By

from clusters import costs, launcher
from clusters.models import ClusterEvent, Instance, InstanceState, QueueSample, Role, ServiceOffering
from clusters.models.launches import ENDING_STATES, LIVE_STATES
from clusters.tasks import monitor_clouds
from clusters.tests.condor_pool import FakePool
from clusters.tests.launch_helpers import cloud_with_offering, condor_definition, moto_nodes, user_data_of
from clusters.tests.process_helpers import beat, web_server
from clusters.tests.test_instance_helper import install_helper, sandbox
from contexts.render.checkin import TOKEN_PATH
from contexts.services.condor import COLLECTOR
from portal.testing.browser import carry_session, until
from portal.testing.waits import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
S = InstanceState
DECISION_PERIOD = 2  # seconds between the elastic task's runs (ELASTIC_INTERVAL)
IDLE_SECONDS = 4
MAX_WORKERS = 20


def workers(cluster, *states):
    found = Instance.objects.filter(cluster=cluster, role="worker")
    return found.filter(state__in=states) if states else found


def names(instances) -> set[str]:
    return {i.name for i in instances}


def head_token(ec2, head) -> str:
    """The instance token as the head finds it: in its user-data's root-only file."""
    files = yaml.safe_load(user_data_of(ec2, head.node_id).decode())["write_files"]
    entry = next(f for f in files if f["path"] == TOKEN_PATH)
    return base64.b64decode(entry["content"]).decode().strip()


def elastic_definition(owner, cloud):
    definition = condor_definition(owner, cloud, workers=0)
    Role.objects.filter(definition=definition, name="worker").update(
        elastic=True, min_count=0, max_count=MAX_WORKERS, jobs_per_worker=10, idle_seconds=IDLE_SECONDS,
        cooldown_seconds=0, drain_deadline_seconds=600,
    )  # fmt: skip
    return definition


class BusyWatch:
    """What the pool says is busy, next to what the portal ends: no busy worker may end."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.busy: set[str] = set()

    def check(self) -> None:
        ended = names(workers(self.cluster, *ENDING_STATES))
        drained = names(workers(self.cluster).filter(drain_requested_at__isnull=False))
        assert not ended & self.busy, f"busy workers ended: {sorted(ended & self.busy)}"
        assert not drained & self.busy, f"busy workers drained: {sorted(drained & self.busy)}"


def settle_against_the_cloud(ec2, cluster) -> None:
    """Once every worker the portal ended is terminated (its node seen gone), the cloud's own list
    shows none of their nodes alive."""
    wait_for(lambda: not workers(cluster, S.TERMINATING).exists(), tick=monitor_clouds.delay,
             message="ended workers' nodes seen gone")  # fmt: skip
    alive = {node for node, state in moto_nodes(ec2, cluster).items() if state in ("pending", "running")}
    gone = set(workers(cluster, S.TERMINATED).exclude(node_id="").values_list("node_id", flat=True))
    assert not alive & gone, f"nodes alive on the cloud for ended workers: {sorted(alive & gone)}"


def test_an_elastic_condor_cluster_follows_its_queue(
    alice, moto_ec2, celery_worker_process, browser, tmp_path
):
    ec2 = moto_ec2.boto3_client()
    cloud = cloud_with_offering(alice, moto_ec2.config())
    ServiceOffering.objects.filter(name="small").update(price_per_hour=Decimal("1.00"))
    cluster = launcher.launch(
        elastic_definition(alice, cloud), alice, "demo", {"master": cloud, "worker": cloud}
    )
    with (
        web_server(tmp_path) as url,
        beat(tmp_path, ELASTIC_INTERVAL=str(DECISION_PERIOD), MONITOR_INTERVAL="2"),
    ):
        head = wait_for(lambda: Instance.objects.filter(cluster=cluster, role="master", state=S.RUNNING).first(),
                        message="the head running")  # fmt: skip
        pool = FakePool(tmp_path / "pool")
        root = sandbox(tmp_path, "head")
        helper = install_helper(root, f"{url}/api/v1/instance/", head_token(ec2, head))
        collector = tmp_path / "queue-report"
        collector.write_text(COLLECTOR)
        collector.chmod(0o755)
        env = {**pool.env(), "TMPDIR": str(root), "PORTAL_REPORT_SECONDS": "1"}
        env["PATH"] = f"{root}/fakebin:{env['PATH']}"
        with open(tmp_path / "reporter.log", "wb") as log:
            reporter = subprocess.Popen(
                ["sh", helper, "report", str(collector)], env=env, stdout=log, stderr=log
            )
        try:
            scenario(cluster, ec2, pool, browser, url, alice)
        finally:
            reporter.terminate()
            reporter.wait(timeout=10)


def scenario(cluster, ec2, pool, browser, url, alice):
    watch = BusyWatch(cluster)
    carry_session(browser, url, alice)
    browser.get(f"{url}/clusters/{cluster.pk}/")

    # 200 idle jobs, no worker yet: the head's next report makes the next decision add 20 (the max).
    pool.set(idle_jobs=200, running_jobs=0, workers={})
    first = wait_for(lambda: QueueSample.objects.filter(cluster=cluster, idle_jobs=200).order_by("created").first(),
                     message="the head's first report")  # fmt: skip
    wait_for(lambda: workers(cluster).count() >= MAX_WORKERS, message="20 workers requested")
    growth = ClusterEvent.objects.filter(cluster=cluster, message__startswith="+").order_by("created", "id")
    assert growth[0].message.startswith(f"+{MAX_WORKERS} workers"), [e.message for e in growth]
    took = (growth[0].created - first.created).total_seconds()
    assert took <= 2 * DECISION_PERIOD + 3, f"the decision came {took:.1f} s after the report"
    wait_for(lambda: workers(cluster, S.RUNNING).count() == MAX_WORKERS, message="20 workers running")
    assert workers(cluster).count() == MAX_WORKERS  # never above the max

    def page_shows(driver) -> bool:
        latest = driver.find_element(By.ID, "queue-latest").text
        return (
            f"{MAX_WORKERS} workers" in latest
            and f"+{MAX_WORKERS} workers" in driver.find_element(By.ID, "events").text
        )

    until(browser, page_shows)

    # The jobs start on every worker; then half the workers' jobs end.
    everyone = sorted(names(workers(cluster, S.RUNNING)), key=lambda n: int(n.rsplit("-", 1)[1]))
    pool.set(idle_jobs=0, running_jobs=200, workers=dict.fromkeys(everyone, "busy"))
    watch.busy = set(everyone)
    time.sleep(3 * DECISION_PERIOD)
    watch.check()
    idle, busy = everyone[:10], everyone[10:]
    pool.set(
        idle_jobs=0, running_jobs=10, workers={**dict.fromkeys(idle, "idle"), **dict.fromkeys(busy, "busy")}
    )
    watch.busy = set(busy)

    def half_ended():
        watch.check()
        return names(workers(cluster, *ENDING_STATES)) == set(idle)

    wait_for(half_ended, message="the 10 idle workers drained and ended")
    assert pool.drained() == set(idle)
    assert set(workers(cluster).filter(name__in=idle).values_list("end_reason", flat=True)) == {"drained"}
    settle_against_the_cloud(ec2, cluster)
    watch.check()

    # The last jobs end: every worker goes, down to the minimum (0).
    pool.set(idle_jobs=0, running_jobs=0, workers=dict.fromkeys(busy, "idle"))
    watch.busy = set()
    wait_for(lambda: not workers(cluster, *LIVE_STATES).exists(), message="down to the minimum")
    settle_against_the_cloud(ec2, cluster)

    # A budget: 1.00 an hour an instance, room for the head and 4 workers in the next hour.
    spent = costs.cluster_usage(cluster, timezone.now()).cost
    cluster.budget_total = spent + Decimal("5.50")
    cluster.save(update_fields=["budget_total"])
    pool.set(idle_jobs=200, running_jobs=0, workers={})
    wait_for(lambda: workers(cluster, *LIVE_STATES).count() >= 4, message="growth within the budget")
    time.sleep(4 * DECISION_PERIOD)
    assert workers(cluster, *LIVE_STATES).count() == 4  # below the max of 20

    launcher.terminate(cluster)
    wait_for(lambda: not Instance.objects.filter(cluster=cluster).exclude(state=S.TERMINATED).exists(),
             tick=monitor_clouds.delay, message="every instance terminated")  # fmt: skip
    assert not {s for s in moto_nodes(ec2, cluster).values() if s in ("pending", "running")}
