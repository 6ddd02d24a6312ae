"""The EC2 provider through libcloud's real EC2 driver, over HTTP, against moto's EC2 server."""

from __future__ import annotations

import base64
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from clusters.providers import CloudConfig, CloudError, NodeSpec, get_provider
from clusters.tests.conftest import free_port

AMI = "ami-1e749f67"  # exists in moto's us-east-1
USER_DATA = '#!/bin/sh\necho "Grüße aus Genève ✓" > /etc/motd\nexit 0\n'


def spec(name="node-1", **changes):
    return NodeSpec(**{"name": name, "size_id": "t2.micro", "image_id": AMI, **changes})


def test_it_creates_a_node_that_receives_its_user_data_byte_for_byte(moto_ec2):
    node = get_provider(moto_ec2.config()).create_node(spec(user_data=USER_DATA))

    answer = moto_ec2.boto3_client().describe_instance_attribute(InstanceId=node.id, Attribute="userData")
    assert base64.b64decode(answer["UserData"]["Value"]) == USER_DATA.encode("utf-8")


def test_it_tags_the_node_at_creation(moto_ec2):
    tags = {"context-portal": "demo", "cluster": "12", "instance": "12-worker-3"}
    node = get_provider(moto_ec2.config()).create_node(spec(tags=tags))

    instance = moto_ec2.boto3_client().describe_instances(InstanceIds=[node.id])["Reservations"][0][
        "Instances"
    ][0]
    assert {tag["Key"]: tag["Value"] for tag in instance["Tags"]} == {"Name": "node-1", **tags}
    assert node.tags == {"Name": "node-1", **tags}


def test_it_sends_the_idempotency_token_as_client_token(moto_ec2):
    node = get_provider(moto_ec2.config()).create_node(spec(idempotency_token="cluster-12-worker-3"))

    instance = moto_ec2.boto3_client().describe_instances(InstanceIds=[node.id])["Reservations"][0][
        "Instances"
    ][0]
    assert instance["ClientToken"] == "cluster-12-worker-3"


def described(moto_ec2, node_id: str) -> dict:
    [reservation] = moto_ec2.boto3_client().describe_instances(InstanceIds=[node_id])["Reservations"]
    return reservation["Instances"][0]


def test_it_creates_a_spot_instance_when_asked_with_its_client_token(moto_ec2):
    """moto records the market RunInstances asked for (InstanceMarketOptions) as AWS does: the
    instance's lifecycle is "spot"; the ClientToken still goes with it."""
    provider = get_provider(moto_ec2.config())
    assert provider.supports_spot

    node = provider.create_node(spec(spot=True, idempotency_token="cluster-12-worker-3"))

    instance = described(moto_ec2, node.id)
    assert instance["InstanceLifecycle"] == "spot"
    assert instance["ClientToken"] == "cluster-12-worker-3"


def test_it_creates_an_on_demand_instance_by_default(moto_ec2):
    node = get_provider(moto_ec2.config()).create_node(spec())

    assert "InstanceLifecycle" not in described(moto_ec2, node.id)  # AWS says nothing for on-demand


def test_it_lists_the_node_with_a_state_and_addresses(moto_ec2):
    provider = get_provider(moto_ec2.config())
    created = provider.create_node(spec())

    [node] = provider.list_nodes()
    assert (node.id, node.name, node.state) == (created.id, "node-1", "running")
    assert node.public_ips and node.private_ips


def test_it_finds_live_nodes_by_tags(moto_ec2):
    provider = get_provider(moto_ec2.config())
    wanted = provider.create_node(spec("a", tags={"cluster": "1", "instance": "1-a"}))
    provider.create_node(spec("b", tags={"cluster": "1", "instance": "1-b"}))
    gone = provider.create_node(spec("c", tags={"cluster": "1", "instance": "1-a"}))
    provider.destroy_node(gone.id)

    assert [node.id for node in provider.find_nodes({"instance": "1-a"})] == [wanted.id]
    assert len(provider.find_nodes({"cluster": "1"})) == 2
    assert provider.find_nodes({"cluster": "2"}) == []


def test_it_lists_every_node_when_the_server_answers_in_pages(moto_ec2):
    # One reservation per node, as the portal creates them; moto pages after 100 reservations.
    ec2 = moto_ec2.boto3_client()
    for _ in range(120):
        ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1,
                          TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "cluster", "Value": "1"}]}])  # fmt: skip
    provider = get_provider(moto_ec2.config())

    assert len(provider.find_nodes({"cluster": "1"})) == 120
    assert len(provider.list_nodes()) == 120


def test_destroying_a_node_terminates_it_and_destroying_again_is_fine(moto_ec2):
    provider = get_provider(moto_ec2.config())
    node = provider.create_node(spec())

    provider.destroy_node(node.id)
    provider.destroy_node(node.id)
    provider.destroy_node("i-0123456789abcdef0")  # never existed

    assert [n.state for n in provider.list_nodes()] == ["terminated"]


def test_it_lists_sizes_from_the_region_table(moto_ec2):
    sizes = {size.id: size for size in get_provider(moto_ec2.config()).list_sizes()}

    assert (sizes["t2.micro"].vcpus, sizes["t2.micro"].ram_mb) == (1, 1024)


def test_it_lists_images_of_the_chosen_owner(moto_ec2):
    canonical = "099720109477"
    images = get_provider(moto_ec2.config(image_owner=canonical)).list_images()

    assert AMI in {image.id for image in images}
    assert (
        get_provider(moto_ec2.config()).check() == "connected: 800 sizes, 0 images"
    )  # own images by default


def test_an_unknown_image_is_a_permanent_error_with_the_providers_message(moto_ec2, monkeypatch):
    import moto.settings

    monkeypatch.setattr(moto.settings, "ENABLE_AMI_VALIDATION", True)

    with pytest.raises(CloudError) as caught:
        get_provider(moto_ec2.config()).create_node(spec(image_id="ami-00000000deadbeef0"))

    assert caught.value.permanent
    assert caught.value.message.startswith("InvalidAMIID.NotFound: ")
    assert "ami-00000000deadbeef0" in caught.value.message


def test_a_dead_endpoint_is_a_transient_error_within_ten_seconds():
    config = CloudConfig(driver="ec2", credentials={"key": "k", "secret": "s"}, host="127.0.0.1", port=free_port(),
                         secure=False)  # fmt: skip
    started = time.monotonic()

    with pytest.raises(CloudError) as caught:
        get_provider(config).check()

    assert time.monotonic() - started < 10
    assert not caught.value.permanent
    assert "connection refused" in caught.value.message


def test_an_endpoint_that_never_answers_is_a_transient_timeout(monkeypatch):
    monkeypatch.setenv("CLOUD_API_TIMEOUT", "0.5")
    with socket.socket() as silent:  # accepts connections (the kernel does) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        config = CloudConfig(driver="ec2", credentials={"key": "k", "secret": "s"}, host="127.0.0.1",
                             port=silent.getsockname()[1], secure=False)  # fmt: skip

        with pytest.raises(CloudError, match="did not answer in time") as caught:
            get_provider(config).list_nodes()

    assert not caught.value.permanent


def test_an_unknown_region_needs_an_endpoint_host():
    config = CloudConfig(driver="ec2", credentials={"key": "k", "secret": "s"}, region="RegionOne")

    with pytest.raises(CloudError, match="not an AWS region") as caught:
        get_provider(config).list_nodes()

    assert caught.value.permanent


# EC2-compatible servers answer in various XML namespaces (moto: no trailing slash; Eucalyptus and
# OpenStack: their own). A recorded moto answer, served in each of them, must list the node.
DESCRIBE_INSTANCES = """<?xml version="1.0" encoding="utf-8"?>
<DescribeInstancesResponse{xmlns}><reservationSet><item><reservationId>r-fe5f01582c8b3740e</reservationId>
<ownerId>123456789012</ownerId><groupSet/><instancesSet><item><clientToken>tok-123</clientToken>
<tagSet><item><key>Name</key><value>n1</value></item><item><key>instance</key><value>7</value></item></tagSet>
<instanceId>i-d25efa24a1ce4324a</instanceId><imageId>ami-1e749f67</imageId>
<instanceState><code>16</code><name>running</name></instanceState><instanceType>t2.micro</instanceType>
<launchTime>2026-11-25T00:11:46.000Z</launchTime><privateIpAddress>10.12.139.210</privateIpAddress>
<ipAddress>54.214.243.165</ipAddress></item></instancesSet></item></reservationSet>
<requestId>request-id</requestId></DescribeInstancesResponse>"""
DESCRIBE_ADDRESSES = """<?xml version="1.0" encoding="utf-8"?>
<DescribeAddressesResponse{xmlns}><addressesSet/><requestId>request-id</requestId></DescribeAddressesResponse>"""
ERROR = """<?xml version="1.0" encoding="utf-8"?>
<Response{xmlns}><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>
<RequestID>request-id</RequestID></Response>"""
NAMESPACES = [
    ' xmlns="http://ec2.amazonaws.com/doc/2016-11-15"',  # moto
    ' xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"',  # AWS
    ' xmlns="http://ec2.amazonaws.com/doc/2013-10-15/"',  # an older API version
    ' xmlns="http://msgs.eucalyptus.com/3.3.0"',  # Eucalyptus
    "",  # none at all
]


@contextmanager
def recorded_ec2(answers: dict, status: int = 200):
    """A tiny HTTP server answering each EC2 Action (in the query or a form body) with a recorded body."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = self.rfile.read(length).decode() if length else urlsplit(self.path).query
            action = parse_qs(form).get("Action", [""])[0]
            body = answers[action].encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET  # RunInstances is posted

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield CloudConfig(driver="ec2", credentials={"key": "k", "secret": "s"}, host="127.0.0.1",
                          port=server.server_address[1], secure=False)  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("xmlns", NAMESPACES)
def test_it_reads_answers_in_any_xml_namespace(xmlns):
    answers = {"DescribeInstances": DESCRIBE_INSTANCES.format(xmlns=xmlns),
               "DescribeAddresses": DESCRIBE_ADDRESSES.format(xmlns=xmlns)}  # fmt: skip

    with recorded_ec2(answers) as config:
        [node] = get_provider(config).list_nodes()

    assert (node.id, node.state, node.tags["instance"]) == ("i-d25efa24a1ce4324a", "running", "7")
    assert (node.public_ips, node.private_ips) == (["54.214.243.165"], ["10.12.139.210"])


@pytest.mark.parametrize("xmlns", NAMESPACES)
def test_it_reports_the_providers_error_code_and_message_in_any_namespace(xmlns):
    body = ERROR.format(
        xmlns=xmlns, code="InstanceLimitExceeded", message="You have requested more instances (21)"
    )

    with recorded_ec2({"RunInstances": body}, status=400) as config, pytest.raises(CloudError) as caught:
        get_provider(config).create_node(spec())

    assert caught.value.message == "InstanceLimitExceeded: You have requested more instances (21)"
    assert caught.value.permanent


def test_throttling_is_a_transient_error():
    body = ERROR.format(xmlns=NAMESPACES[0], code="RequestLimitExceeded", message="Request limit exceeded.")

    with recorded_ec2({"DescribeInstances": body}, status=503) as config, pytest.raises(CloudError) as caught:
        get_provider(config).list_nodes()

    assert caught.value.message == "RequestLimitExceeded: Request limit exceeded."
    assert not caught.value.permanent


def test_wrong_credentials_are_a_permanent_error_with_the_providers_message():
    body = ERROR.format(xmlns=NAMESPACES[0], code="AuthFailure", message="AWS was not able to validate the "
                        "provided access credentials")  # fmt: skip

    with recorded_ec2({"DescribeInstances": body}, status=401) as config, pytest.raises(CloudError) as caught:
        get_provider(config).list_nodes()

    assert caught.value.permanent
    assert "AuthFailure: AWS was not able to validate the provided access credentials" in caught.value.message
