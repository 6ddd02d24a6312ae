"""A launch request answers at once; a portal worker renders and sends the instances (issue: the
launch request dispatched every instance inside the HTTP request). Real processes: the session's
Celery worker (it serves the portal's records queue too), Redis, moto's EC2 server."""

import pytest
from rest_framework.test import APIClient

from clusters.tasks import monitor_clouds
from clusters.tests.fault_helpers import one_role_definition
from clusters.tests.launch_helpers import cloud_with_offering, states
from portal.testing.waits import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_launch_request_answers_before_any_instance_is_sent_and_a_worker_sends_them(
    alice, moto_ec2, celery_worker_process, settings
):
    settings.LAUNCH_DISPATCH_INLINE = False  # as in production
    cloud = cloud_with_offering(alice, moto_ec2.config())
    definition = one_role_definition(alice, cloud, 30)
    client = APIClient()
    client.force_authenticate(alice)

    answer = client.post("/api/v1/clusters/", {"definition": definition.pk, "name": "later", "cloud": cloud.pk},
                         format="json")  # fmt: skip

    assert answer.status_code == 201
    assert {i["state"] for i in answer.json()["instances"]} == {"requested"}  # nothing sent by the request
    cluster_id = answer.json()["id"]
    wait_for(lambda: states(cluster_id) == {"running": 30}, timeout=90, tick=monitor_clouds.delay,
             message="30 running")  # fmt: skip
