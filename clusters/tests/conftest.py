"""Real clouds for the provider tests, all on 127.0.0.1 (docs/testing.md): moto's EC2 server, our
CloudStack simulator and mimic's OpenStack. Each server starts once per session; each test gets a
clean state (moto is reset, the simulator is reset, mimic gives every test its own tenant)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from clusters.providers import CloudConfig
from portal.testing.waits import DEADLINE, serves, stop, wait_until_started

LOCALHOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOCALHOST, 0))
        return probe.getsockname()[1]


def _post(url: str, payload: dict | None = None) -> bytes:
    data = json.dumps(payload).encode() if payload is not None else b""
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=DEADLINE) as answer:
        return answer.read()


@dataclass
class MotoEC2:
    host: str
    port: int
    region: str = "us-east-1"
    key: str = "testing-access-key"
    secret: str = "testing-secret-key"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def boto3_client(self):
        import boto3

        return boto3.client("ec2", region_name=self.region, endpoint_url=self.url, aws_access_key_id=self.key,
                            aws_secret_access_key=self.secret)  # fmt: skip

    def config(self, **options) -> CloudConfig:
        return CloudConfig(driver="ec2", credentials={"key": self.key, "secret": self.secret}, host=self.host,
                           port=self.port, secure=False, region=self.region, options=options)  # fmt: skip


@pytest.fixture(scope="session")
def _moto_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=LOCALHOST, port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield MotoEC2(host=host, port=port)
    server.stop()


@pytest.fixture
def moto_ec2(_moto_server):
    """moto's EC2 server, emptied before the test."""
    _post(f"{_moto_server.url}/moto-api/reset")
    return _moto_server


@dataclass
class SimulatedCloudStack:
    simulator: object

    def config(self, **changes) -> CloudConfig:
        simulator = self.simulator
        fields = {"driver": "cloudstack", "credentials": {"key": simulator.api_key, "secret": simulator.secret_key},
                  "host": simulator.host, "port": simulator.port, "path": simulator.path, "secure": False}  # fmt: skip
        return CloudConfig(**{**fields, **changes})

    def __getattr__(self, name):  # the simulator's state and knobs: user_data, vms, fail_next_deploys, ...
        return getattr(self.simulator, name)


@pytest.fixture(scope="session")
def _cloudstack_simulator():
    from clusters.testing.cloudstack_simulator import CloudStackSimulator

    with CloudStackSimulator(host=LOCALHOST) as simulator:
        yield simulator


@pytest.fixture
def cloudstack_sim(_cloudstack_simulator):
    """The CloudStack simulator, emptied before the test."""
    _cloudstack_simulator.reset()
    _cloudstack_simulator.boot_seconds = 0.0
    return SimulatedCloudStack(_cloudstack_simulator)


# Mimic refuses these user names at authentication, as Keystone refuses a wrong password.
REJECTED_USER = "mallory"


@dataclass
class MimicOpenStack:
    port: int
    username: str
    tenant: str

    @property
    def auth_url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}/identity"

    def config(self, username: str | None = None, password: str | None = None, **options) -> CloudConfig:
        settings = {"tenant": self.tenant, "auth_url": self.auth_url, "auth_version": "2.0_password",
                    "service_name": "cloudServersOpenStack", **options}  # fmt: skip
        credentials = {"username": username or self.username, "password": password or "mimic takes any"}
        return CloudConfig(driver="openstack", credentials=credentials, region="ORD", options=settings)


@pytest.fixture(scope="session")
def _mimic_port(tmp_path_factory):
    """mimic (Rackspace's Keystone v2 + Nova emulator) in its own process, for the whole session."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("mimic") / "mimic.log"
    twistd = Path(sys.executable).with_name("twistd")
    command = [str(twistd), "--nodaemon", "--pidfile=", "mimic", "--listen", f"tcp:{port}:interface={LOCALHOST}",
               "--realtime"]  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=log_path.parent)
    try:
        wait_until_started(
            process, serves(f"http://{LOCALHOST}:{port}/identity/v2.0"), what="mimic", log=log_path
        )
        _post(f"http://{LOCALHOST}:{port}/mimic/v1.1/IdentityControlAPI/behaviors/auth",
              {"name": "fail", "criteria": [{"username": f"^{REJECTED_USER}$"}],
               "parameters": {"code": 401, "message": "Unable to authenticate user with credentials provided."}})  # fmt: skip
        yield port
    finally:
        stop(process, grace=10)


@pytest.fixture
def mimic_openstack(_mimic_port):
    """mimic's OpenStack with a tenant and user of the test's own (mimic cannot be reset)."""
    suffix = uuid.uuid4().hex[:10]
    return MimicOpenStack(port=_mimic_port, username=f"user-{suffix}", tenant=f"tenant-{suffix}")
