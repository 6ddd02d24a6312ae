""" "Test connection" end to end: the page's POST, a real Celery worker on the real broker, the
EC2 provider against a real EC2 API (moto), and the partial the page polls until the outcome."""

import socket

import pytest

from clusters.models import CheckState
from clusters.tests.cloud_helpers import (
    ACCESS_KEY,
    SECRET_KEY,
    check_as_the_page_does,
    cloud_from_config,
    secret_texts,
)
from clusters.tests.fault_helpers import Queues, Workers

pytestmark = pytest.mark.django_db(transaction=True)

CREDENTIALS = {"key": ACCESS_KEY, "secret": SECRET_KEY}  # moto takes any; these are easy to look for


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _assert_worker_log_clean(tmp_path_factory, cloud):
    logs = list(tmp_path_factory.getbasetemp().glob("worker*/worker.log"))
    assert logs, "the worker's log was not found"
    text = "".join(log.read_text(errors="replace") for log in logs)
    assert "check_cloud_task[" in text  # the worker did log about the task: the grep means something
    for secret in secret_texts(cloud):
        assert secret not in text


def test_a_working_cloud_becomes_ok_with_the_summary(
    alice_client, alice, moto_ec2, celery_worker_process, tmp_path_factory
):
    cloud = cloud_from_config(alice, moto_ec2.config(), credentials=CREDENTIALS)
    html, _elapsed = check_as_the_page_does(alice_client, cloud)
    cloud.refresh_from_db()
    assert cloud.check_state == CheckState.OK
    assert cloud.check_message.startswith("connected: ") and " sizes, " in cloud.check_message
    assert cloud.check_message in html
    _assert_worker_log_clean(tmp_path_factory, cloud)


def test_a_dead_endpoint_fails_readably_within_10_seconds(
    alice_client, alice, moto_ec2, celery_worker_process
):
    cloud = cloud_from_config(alice, moto_ec2.config(), credentials=CREDENTIALS, port=_free_port())
    html, elapsed = check_as_the_page_does(alice_client, cloud)
    cloud.refresh_from_db()
    assert cloud.check_state == CheckState.FAILED
    assert "cannot reach" in cloud.check_message and f":{cloud.port}" in cloud.check_message
    assert cloud.check_message in html
    assert elapsed < 10, f"the outcome took {elapsed:.1f} s"


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"path": "/no/such/api/"}, "404 Not Found"),  # moto's own answer to a wrong endpoint path
        ({"region": "mars-north-1"}, "500 Internal Server Error"),  # moto has no such region
    ],
)
def test_a_request_the_cloud_refuses_shows_the_providers_message(
    alice_client, alice, moto_ec2, celery_worker_process, change, said
):
    cloud = cloud_from_config(alice, moto_ec2.config(), credentials=CREDENTIALS, **change)
    html, _elapsed = check_as_the_page_does(alice_client, cloud)
    cloud.refresh_from_db()
    assert cloud.check_state == CheckState.FAILED
    assert said in cloud.check_message
    assert said in html


@pytest.fixture
def production_timeouts(transactional_db, tmp_path):
    """The queue of a worker with the portal's own cloud API timeouts: the test settings give the
    session's worker longer ones (CLOUD_API_TIMEOUT), for a loaded machine. The test settings, not
    the fault tests' (their 5 s visibility timeout would deliver a 6 s check a second time)."""
    workers, queues = Workers(tmp_path), Queues()
    workers.start(queues, env={"CLOUD_API_TIMEOUT": "", "DJANGO_SETTINGS_MODULE": "portal.testing.settings"})
    yield queues.cloud
    workers.stop_all()  # before the test database is emptied


def test_an_endpoint_that_never_answers_fails_within_10_seconds(
    alice_client, alice, moto_ec2, production_timeouts
):
    # A socket that accepts connections (the kernel's backlog) and never says a word.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        cloud = cloud_from_config(alice, moto_ec2.config(), credentials=CREDENTIALS, port=port,
                                  queue=production_timeouts)  # fmt: skip
        html, elapsed = check_as_the_page_does(alice_client, cloud)
    cloud.refresh_from_db()
    assert cloud.check_state == CheckState.FAILED
    assert "did not answer in time" in cloud.check_message
    assert elapsed < 10, f"the outcome took {elapsed:.1f} s"


def test_wrong_credentials_show_the_providers_message_within_10_seconds(
    alice_client, alice, cloudstack_sim, celery_worker_process
):
    # The CloudStack simulator checks request signatures, so a wrong secret is refused for real.
    config = cloudstack_sim.config()
    cloud = cloud_from_config(
        alice, config, credentials={"key": config.credentials["key"], "secret": "wrong"}
    )
    html, elapsed = check_as_the_page_does(alice_client, cloud)
    cloud.refresh_from_db()
    assert cloud.check_state == CheckState.FAILED
    assert "signature" in cloud.check_message.lower() or "credentials" in cloud.check_message.lower()
    assert cloud.check_message in html
    assert elapsed < 10, f"the outcome took {elapsed:.1f} s"
