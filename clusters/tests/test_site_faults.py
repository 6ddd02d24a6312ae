"""A site survives the faults a real one has (docs/reliability.md): Redis restarted in the middle of a
launch, PostgreSQL restarted, the cloud API hanging, the beat down for a while.

Real processes throughout (clusters/tests/fault_site.py): a Redis and a PostgreSQL of the test's own,
restarted by the test; portal workers and beat; moto's EC2 server behind the fault proxy. Each run
appends its row to the results that scripts/reliability_table.py turns into docs/reliability.md's
table (`make reliability`).
"""

import json
import time
import urllib.error
import urllib.request

import pytest

from clusters.testing.fault_proxy import FaultProxy
from clusters.tests.conftest import LOCALHOST
from clusters.tests.fault_results import fault_row
from clusters.tests.fault_site import (
    PostgresServer,
    RedisServer,
    Site,
    cluster_nodes,
    migrated_template,
    outcome,
)
from portal.testing.waits import wait_for

# Each site has a PostgreSQL of its own: the suite's database is not their subject (scripts/test.sh).
pytestmark = [pytest.mark.slow, pytest.mark.database_agnostic]


@pytest.fixture(scope="session")
def site_postgres(tmp_path_factory):
    """The sites' PostgreSQL server, and a migrated database each site's is copied from."""
    server = PostgresServer().init()
    try:
        template = migrated_template(server, tmp_path_factory.mktemp("site-postgres") / "migrate.log")
        yield server, template
    finally:
        server.remove()


@pytest.fixture
def make_site(site_postgres, tmp_path):
    """make_site(persistent=True, **env): a site with a Redis of its own and a database of its own."""
    server, template = site_postgres
    made = []

    def make(*, persistent: bool = True, **env) -> Site:
        redis = RedisServer(tmp_path / "redis", persistent=persistent).start()
        site = Site(tmp_path, redis, server, template, **env)
        made.append(site)
        return site

    yield make
    for site in made:
        site.stop_all()
        site.redis.stop()
        server.start_if_stopped()
        server.execute(f'DROP DATABASE IF EXISTS "{site.database}" WITH (FORCE)')


@pytest.fixture
def proxy(moto_ec2):
    with FaultProxy(moto_ec2.url) as running:
        yield running


def database_status(url: str) -> str:
    """What the status page (portal/health.py) says of the database: "ok", or "down (why)". Its HTTP
    status also counts the workers, which may be too busy with creates to answer its ping in time."""
    try:
        with urllib.request.urlopen(f"{url}/health/?format=json", timeout=30) as answer:  # noqa: S310 - ours
            return json.loads(answer.read())["database"]
    except urllib.error.HTTPError as answer:
        return json.loads(answer.read())["database"]


def all_up(site, cluster_id, count):
    return lambda: site.states(cluster_id) == {"running": count}


@pytest.mark.parametrize(
    ("persistent", "fault"),
    [
        (True, "Redis restarted in the middle of a launch (append-only file, as deploy/ runs it)"),
        (False, "Redis restarted in the middle of a launch, its data lost (no persistence)"),
    ],  # fmt: skip
)
def test_redis_restarted_in_the_middle_of_a_launch_of_50_ends_with_50_nodes(make_site, moto_ec2, proxy, persistent,
                                                                           fault):  # fmt: skip
    ec2, site = moto_ec2.boto3_client(), make_site(persistent=persistent)
    site.worker()
    site.beat()
    proxy.slow_actions["RunInstances"] = 0.2  # so that the restart falls in the middle of the creates
    with fault_row(fault, 50) as row:
        cluster = site.launch(LOCALHOST, proxy.port, 50)
        row.measure = lambda: outcome(site, ec2, cluster)
        wait_for(lambda: len(cluster_nodes(ec2, cluster)) >= 10, timeout=90, message="10 nodes")
        site.redis.restart(down=3)
        made_before = len(cluster_nodes(ec2, cluster))
        assert made_before < 50, "the restart came after the last create"

        wait_for(all_up(site, cluster, 50), timeout=150, message="50 running")

        assert row.take() == {"found": 50, "duplicates": 0, "lost": 0, "states": {"running": 50}}
        assert site.cluster_state(cluster) == "running"
    resent = site.rows(
        "SELECT count(*) FROM clusters_instance WHERE cluster_id = %s AND attempts > 1", cluster
    )[0][0]
    print(
        f"\n{made_before} of 50 nodes made when Redis restarted; {resent} creates sent again by the monitor"
    )


def test_postgresql_restarted_in_the_middle_of_a_launch_the_portal_recovers_by_itself(
    make_site, moto_ec2, proxy
):
    ec2, site = moto_ec2.boto3_client(), make_site()
    site.worker()
    site.beat()
    web = site.web()
    assert database_status(web) == "ok"  # its processes hold database connections (a pool each)
    proxy.slow_actions["RunInstances"] = 0.2
    with fault_row("PostgreSQL restarted in the middle of a launch", 50) as row:
        cluster = site.launch(LOCALHOST, proxy.port, 50)
        row.measure = lambda: outcome(site, ec2, cluster)
        wait_for(lambda: len(cluster_nodes(ec2, cluster)) >= 10, timeout=90, message="10 nodes")
        site.postgres.restart(down=5)  # every session ended; records meet a database that is not there
        made_before = len(cluster_nodes(ec2, cluster))
        assert made_before < 50, "the restart came after the last create"
        # The pages too: the very first requests after the restart find the database, none a dead connection.
        assert [database_status(web) for _request in range(4)] == ["ok"] * 4

        wait_for(all_up(site, cluster, 50), timeout=150, message="50 running")

        assert row.take() == {"found": 50, "duplicates": 0, "lost": 0, "states": {"running": 50}}
        assert site.cluster_state(cluster) == "running"
    print(f"\n{made_before} of 50 nodes made when PostgreSQL restarted")


# A cloud that hangs: reads time out after 3 s (lists after 30 s) and retries back off from 0.5 s,
# half the production unit, so that a hang of 20 s is well inside the retries.
HANGING = {"CLOUD_API_TIMEOUT": "3", "FAULT_CLOUD_RETRY_DELAY": "0.5"}


def test_a_cloud_that_hangs_for_a_while_then_answers_gets_its_launch_completed(make_site, moto_ec2, proxy):
    ec2, site = moto_ec2.boto3_client(), make_site(**HANGING)
    site.worker()
    site.beat()
    proxy.slow_actions["RunInstances"] = 0.2
    with fault_row("the cloud API hangs for 20 s in the middle of a launch", 20) as row:
        cluster = site.launch(LOCALHOST, proxy.port, 20)
        row.measure = lambda: outcome(site, ec2, cluster)
        wait_for(lambda: len(cluster_nodes(ec2, cluster)) >= 4, timeout=90, message="4 nodes")
        proxy.stall()
        wait_for(lambda: proxy.stalled >= 4, timeout=30, message="calls left without an answer")
        time.sleep(20)
        waiting = site.events(cluster)
        proxy.resume()

        wait_for(all_up(site, cluster, 20), timeout=150, message="20 running")

        assert row.take() == {"found": 20, "duplicates": 0, "lost": 0, "states": {"running": 20}}
        assert site.cluster_state(cluster) == "running"
    # While it hung, the cluster's events said so: its creates timed out and were being retried.
    assert any(level == "warning" and "did not answer in time" in message for level, message in waiting)


def test_a_cloud_that_never_answers_fails_its_launch_with_a_clear_message_in_bounded_time(
    make_site, moto_ec2, proxy
):
    give_up = 30
    site = make_site(**HANGING, LAUNCH_GIVE_UP_AFTER=str(give_up))
    site.worker()
    site.beat()
    proxy.stall()  # from the start: not one create, not one list is ever answered
    with fault_row("the cloud API never answers (watchdog: fails the launch)", 0) as row:
        started = time.monotonic()
        cluster = site.launch(LOCALHOST, proxy.port, 10)
        row.measure = lambda: outcome(site, moto_ec2.boto3_client(), cluster)

        wait_for(
            lambda: site.cluster_state(cluster) == "failed",
            timeout=give_up + 120,
            message="the launch failed",
        )
        took = time.monotonic() - started

        assert site.states(cluster) == {"failed": 10}
        reasons = {error for (error,) in site.rows("SELECT last_error FROM clusters_instance WHERE cluster_id = %s",
                                                    cluster)}  # fmt: skip
        assert reasons == {f"no node {give_up} s after its create was sent: the cloud did not answer"}
        assert row.take()["found"] == 0
    print(f"\nfailed {took:.0f} s after the launch (LAUNCH_GIVE_UP_AFTER = {give_up} s)")


def test_beat_down_for_a_while_the_next_cycle_catches_up(make_site, moto_ec2, proxy):
    ec2, site = moto_ec2.boto3_client(), make_site()
    worker = site.worker()
    beat = site.beat()
    wait_for(lambda: "Task clusters.elastic_tick[" in worker.log(), timeout=60, message="a first tick")
    with fault_row("beat down for 20 s while a launch of 30 runs", 30) as row:
        beat.kill()  # a crash, not a clean stop: its schedule file is left as it was
        down = time.monotonic()
        cycles = worker.log().count("Task clusters.monitor_clouds[")
        cluster = site.launch(LOCALHOST, proxy.port, 30)
        row.measure = lambda: outcome(site, ec2, cluster)
        wait_for(lambda: len(cluster_nodes(ec2, cluster)) == 30, timeout=90, message="30 nodes made")
        time.sleep(max(0.0, 20 - (time.monotonic() - down)))
        # Nobody lists the cloud: its nodes were made, and the portal still waits to see them run.
        assert worker.log().count("Task clusters.monitor_clouds[") == cycles
        assert site.states(cluster) == {"launching": 30}

        log_before = len(worker.log())
        site.beat()
        back = time.monotonic()
        wait_for(all_up(site, cluster, 30), timeout=60, message="30 running")
        caught_up = time.monotonic() - back

        assert row.take() == {"found": 30, "duplicates": 0, "lost": 0, "states": {"running": 30}}
    after, seconds = worker.log()[log_before:], time.monotonic() - back
    # The missed cycles are not run all at once: about one per MONITOR_INTERVAL (2 s) since it came back,
    # and the elastic tick runs again.
    assert after.count("Task clusters.monitor_clouds[") <= 2 * (seconds / 2 + 2)  # received, succeeded
    assert "Task clusters.elastic_tick[" in after
    print(f"\nall running {caught_up:.1f} s after the beat came back")
