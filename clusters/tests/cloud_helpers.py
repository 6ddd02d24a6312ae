"""Helpers shared by the cloud tests: a cloud with recognisable credentials, a check that none of
them (nor their ciphertext) shows anywhere, and "Test connection" as the cloud's page does it."""

import base64
import time
import uuid
from contextlib import contextmanager

from clusters.models import Cloud
from portal.testing.waits import DEADLINE, wait_for

ACCESS_KEY = "AKIA-access-Qv93"
SECRET_KEY = "secret-key-Zt81xLm0"
HTMX = {"HTTP_HX_REQUEST": "true"}  # the header htmx sends with its requests (portal/htmx.py)


def polls(html: str) -> bool:
    """Whether a partial tells htmx to fetch it again (an `hx-trigger="every ..."`)."""
    return 'hx-trigger="every ' in html


def check_as_the_page_does(client, cloud, timeout: float = DEADLINE) -> tuple[str, float]:
    """POST "Test connection" as the page's htmx does, then fetch the status partial again while it
    polls, until the outcome shows: (the final partial, seconds from the click to the outcome)."""
    started = time.monotonic()
    html = client.post(f"/clouds/{cloud.pk}/check/", **HTMX).content.decode()

    def outcome_shown() -> bool:
        nonlocal html
        if polls(html):
            html = client.get(f"/clouds/{cloud.pk}/check/status/", **HTMX).content.decode()
        return not polls(html)

    wait_for(outcome_shown, timeout=timeout, every=0.1, message="the outcome of Test connection")
    return html, time.monotonic() - started


def make_cloud(owner, *, name="My EC2", credentials=None, **fields) -> Cloud:
    values = {"driver": "ec2", "host": "ec2.example.org", "region": "us-east-1", **fields}
    cloud = Cloud(owner=owner, name=name, **values)
    cloud.set_credentials(credentials or {"key": ACCESS_KEY, "secret": SECRET_KEY})
    cloud.save()
    return cloud


def ec2_data(**changes) -> dict:
    """What the EC2 cloud form posts, with `changes` (None removes a field)."""
    data = {
        "name": "My EC2",
        "param_key": ACCESS_KEY,
        "param_secret": SECRET_KEY,
        "param_image_owner": "self",
        "host": "ec2.example.org",
        "port": "8773",
        "path": "/",
        "secure": "on",
        "region": "us-east-1",
        "queue": "default",
        "api_concurrency": "10",
        "instance_quota": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def cloud_from_config(owner, config, *, name="moto", credentials=None, **fields) -> Cloud:
    """A Cloud row for a provider CloudConfig (what the moto fixture gives); `credentials`
    replaces the config's (moto takes any), so that tests can look for distinctive ones."""
    values = {
        "driver": config.driver,
        "host": config.host,
        "port": config.port,
        "path": config.path,
        "secure": config.secure,
        "region": config.region,
        "zone": config.zone,
        "options": dict(config.options),
        **fields,
    }
    cloud = Cloud(owner=owner, name=name, **values)
    cloud.set_credentials(credentials or dict(config.credentials))
    cloud.save()
    return cloud


def secret_texts(cloud: Cloud) -> list[str]:
    """Every form a credential of `cloud` could leak in: plaintext, base64, and the ciphertext."""
    cloud.refresh_from_db()
    plaintexts = [str(v) for v in cloud.config().credentials.values()]
    return [*plaintexts, *(base64.b64encode(p.encode()).decode() for p in plaintexts), cloud.credentials]


def assert_no_secret(text: str, cloud: Cloud) -> None:
    for secret in secret_texts(cloud):
        assert secret not in text


def staff_client(django_user_model, username="staffer"):
    from django.test import Client

    user = django_user_model.objects.create_user(username=username, password="pw", is_staff=True)
    client = Client()
    client.force_login(user)
    return client


def drop_queue(name: str) -> None:
    """Remove a queue a test sent tasks to that no worker serves, with what is still in it."""
    from portal.celery import app

    with app.connection_for_write() as connection:
        channel = connection.default_channel
        channel.queue_purge(name)
        channel.queue_delete(name)


@contextmanager
def idle_queue():
    """The name of a queue nobody serves, removed with whatever is left in it afterwards."""
    name = f"test-idle-{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        drop_queue(name)


@contextmanager
def published_tasks():
    """The task messages published meanwhile, as Celery hands them to the broker."""
    from celery.signals import before_task_publish

    messages = []

    def record(sender=None, body=None, headers=None, routing_key=None, **kwargs):
        messages.append({"task": sender, "body": body, "headers": headers, "queue": routing_key})

    before_task_publish.connect(record, weak=False)
    try:
        yield messages
    finally:
        before_task_publish.disconnect(record)
