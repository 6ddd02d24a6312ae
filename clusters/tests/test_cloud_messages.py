"""Secrets on the wire (issue: create messages in the broker held the HTCondor pool password and the
instance tokens in clear, and the EC2 driver sent user-data in a GET URL that servers log).

A create message's user-data is sealed with the key of its cloud, which the portal's workers and the
cloud's gateway agent hold; a reader of the broker sees only ciphertext. EC2's RunInstances goes as
a POST with the user-data in the body."""

import base64
import binascii
import dataclasses
import gzip
import json

import pytest
import redis
from cryptography.fernet import Fernet
from django.conf import settings

from clusters import cloudside, launcher
from clusters.models import Cloud
from clusters.providers import NodeSpec, get_provider
from clusters.testing.fault_proxy import FaultProxy
from clusters.tests.fault_helpers import Queues, one_role_definition, reports_to, take_messages
from clusters.tests.launch_helpers import cloud_with_offering, user_data_of
from contexts.profiles import create_profile
from portal import crypto

pytestmark = pytest.mark.django_db
POOL_PASSWORD = "Pool-Pa55-on-the-wire"


def readable(value) -> str:
    """Everything a reader of the broker gets out of a message without a key: its texts, and what
    base64 and gzip hide in them."""
    if isinstance(value, dict):
        return "\n".join(readable(v) for v in value.values())
    if isinstance(value, list):
        return "\n".join(readable(v) for v in value)
    text = str(value)
    found = [text]
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text
    for data in (decoded, _gunzip(decoded)):
        found.append(data.decode("utf-8", "replace"))
    return "\n".join(found)


def _gunzip(data: bytes) -> bytes:
    try:
        return gzip.decompress(data)
    except OSError:
        return b""


def raw_broker_messages(queue: str) -> list[bytes]:
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    return redis.Redis.from_url(settings.CELERY_BROKER_URL).lrange(prefix + queue, 0, -1)


def launch_with_a_pool_password(alice, cloud, django_capture_on_commit_callbacks):
    profile = create_profile(alice, "worker", {"schema": 1, "services": {"condor": {"role": "worker",
                                                                                    "pool_password": POOL_PASSWORD}}})  # fmt: skip
    definition = one_role_definition(alice, cloud, 1)
    definition.roles.update(profile=profile)
    with django_capture_on_commit_callbacks(execute=True):
        return launcher.launch(definition, alice, "wire", {"node": cloud})


def test_a_create_message_in_the_broker_holds_no_secret_of_the_user_data(
    alice, moto_ec2, django_capture_on_commit_callbacks
):
    queues = Queues()
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=queues.cloud)
    launch_with_a_pool_password(alice, cloud, django_capture_on_commit_callbacks)

    [raw] = raw_broker_messages(queues.cloud)
    envelope = json.loads(raw)
    body = json.loads(base64.b64decode(envelope["body"]))
    seen = readable(raw.decode()) + readable(body)
    assert POOL_PASSWORD not in seen
    assert base64.b64encode(POOL_PASSWORD.encode()).decode() not in seen
    assert "#cloud-config" not in seen

    [(task, args)] = take_messages(queues.cloud, 1)
    with reports_to(queues.results):
        cloudside.cloud_create_nodes.apply(args=args).get()  # the worker opens it with the cloud's key
    [(_task, ([outcome],))] = take_messages(queues.results, 1)
    node = outcome["node"]
    data = user_data_of(moto_ec2.boto3_client(), node["id"]).decode()
    assert data.startswith("#cloud-config") and base64.b64encode(POOL_PASSWORD.encode()).decode() in data
    token = data.split("/etc/context-portal/instance.token\n  content: ")[1].split("\n")[0]
    assert token not in seen


def test_a_worker_without_the_clouds_key_fails_the_instance_in_plain_words(
    alice, moto_ec2, django_capture_on_commit_callbacks
):
    queues = Queues()
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=queues.cloud)
    launch_with_a_pool_password(alice, cloud, django_capture_on_commit_callbacks)
    [(task, args)] = take_messages(queues.cloud, 1)
    # The worker's key is not the one the message was sealed with (an agent.toml with another
    # cloud's key, say): here the cloud's stored key is replaced after sealing.
    Cloud.objects.filter(pk=cloud.pk).update(message_key=crypto.encrypt(Fernet.generate_key().decode()))

    with reports_to(queues.results):
        cloudside.cloud_create_nodes.apply(args=args).get()

    [(task, ([outcome],))] = take_messages(queues.results, 1)
    assert (task, outcome["permanent"]) == ("clusters.record_outcomes", True)
    assert outcome["failed"] == (f"this worker cannot open the create message: its message key for cloud {cloud.pk} "
                       "is not the portal's (see the cloud's page for the agent's message_key)")  # fmt: skip
    assert moto_ec2.boto3_client().describe_instances()["Reservations"] == []


def test_ec2_run_instances_goes_as_a_post_with_the_user_data_in_the_body(moto_ec2):
    with FaultProxy(moto_ec2.url) as proxy:
        provider = get_provider(dataclasses.replace(moto_ec2.config(), port=proxy.port))
        spec = NodeSpec(name="posted", size_id="t2.micro", image_id="ami-1e749f67",
                        user_data=f"#cloud-config\n# {POOL_PASSWORD}\n", tags={"a": "b"})  # fmt: skip
        node = provider.create_node(spec)

    [(method, url)] = [(m, u) for m, u, action in proxy.requests if action == "RunInstances"]
    assert method == "POST"
    assert "UserData" not in url and "RunInstances" not in url
    assert POOL_PASSWORD in user_data_of(moto_ec2.boto3_client(), node.id).decode()
    assert node.tags["a"] == "b"
