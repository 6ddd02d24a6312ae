"""What every libcloud-backed provider shares: one HTTP timeout, libcloud objects turned into ours,
and every libcloud or network error turned into a CloudError with the provider's own words."""

from __future__ import annotations

import os
import socket
import ssl
from contextlib import contextmanager

import requests
from libcloud.common.exceptions import BaseHTTPError
from libcloud.common.types import InvalidCredsError, LibcloudError, MalformedResponseError, ProviderError
from libcloud.compute.base import Node
from libcloud.compute.types import NodeState

from .base import (
    ERROR,
    PENDING,
    RUNNING,
    STOPPED,
    TERMINATED,
    UNKNOWN,
    CloudError,
    CloudProvider,
    ImageInfo,
    NodeInfo,
    NodeSpec,
    SizeInfo,
)

# (connect, read) seconds for every HTTP call, so a dead endpoint fails fast and "Test connection"
# answers within 10 s. requests takes the pair as is; libcloud only passes it through.
HTTP_TIMEOUT = (3, 6)
# Reading a list of nodes may take ten times as long (60 s): a thousand nodes make a long answer on
# any cloud (moto takes 6 s), and a monitor cycle that times out sees nothing at all.
LIST_READ_FACTOR = 10


def http_timeout() -> tuple[float, float]:
    """HTTP_TIMEOUT, with the read part set by CLOUD_API_TIMEOUT (seconds) where the environment has
    it: for a slow cloud, or a machine so loaded that a local one answers late (the test suite's).
    The environment, not Django's settings: agents run without Django."""
    seconds = os.environ.get("CLOUD_API_TIMEOUT", "").strip()
    return (HTTP_TIMEOUT[0], float(seconds)) if seconds else HTTP_TIMEOUT


STATE_WORDS = {
    NodeState.RUNNING: RUNNING,
    NodeState.STARTING: PENDING,
    NodeState.PENDING: PENDING,
    NodeState.REBOOTING: PENDING,  # libcloud's CloudStack driver calls "Starting" rebooting
    NodeState.RECONFIGURING: RUNNING,
    NodeState.MIGRATING: RUNNING,
    NodeState.NORMAL: RUNNING,
    NodeState.UPDATING: RUNNING,
    NodeState.STOPPING: STOPPED,
    NodeState.STOPPED: STOPPED,
    NodeState.SUSPENDED: STOPPED,
    NodeState.PAUSED: STOPPED,
    NodeState.TERMINATED: TERMINATED,
    NodeState.ERROR: ERROR,
    NodeState.UNKNOWN: UNKNOWN,
}

# Error codes that mean "slow down" or "try again later" whatever HTTP status carried them.
TRANSIENT_CODES = {
    "RequestLimitExceeded",
    "Throttling",
    "ThrottlingException",
    "TooManyRequests",
    "RequestThrottled",
    "SlowDown",
    "ServiceUnavailable",
    "Unavailable",
    "InternalError",
    "InsufficientInstanceCapacity",
}
TRANSIENT_STATUSES = {408, 409, 425, 429}


def node_info(node: Node) -> NodeInfo:
    tags = node.extra.get("tags") or node.extra.get("metadata") or {}
    return NodeInfo(
        id=str(node.id),
        name=node.name or "",
        state=STATE_WORDS.get(node.state, UNKNOWN),
        public_ips=_unique(node.public_ips),
        private_ips=_unique(node.private_ips),
        tags={str(key): str(value) for key, value in tags.items() if value is not None},
        macs=node_macs(node),
    )


def node_macs(node: Node) -> list[str]:
    """The MACs the cloud reports for a node's interfaces, the primary first: EC2's network
    interfaces, CloudStack's nics (libcloud files them under "nics:"), OpenStack's addresses."""
    extra = node.extra or {}
    interfaces = sorted(  # EC2: the primary interface has device index 0
        (getattr(interface, "extra", None) or {} for interface in extra.get("network_interfaces") or []),
        key=lambda interface: str((interface.get("attachment") or {}).get("device_index") or 0),
    )
    found = [interface.get("mac_address") for interface in interfaces]
    nics = sorted(extra.get("nics:") or [], key=lambda nic: not nic.get("isdefault"))  # CloudStack
    found += [nic.get("macaddress") for nic in nics]
    for addresses in (extra.get("addresses") or {}).values():  # OpenStack
        found += [
            address.get("OS-EXT-IPS-MAC:mac_addr") for address in addresses if isinstance(address, dict)
        ]
    return _unique([str(mac).lower() for mac in found if mac and mac != "None"])


def size_info(size) -> SizeInfo:
    extra = size.extra or {}
    vcpus = getattr(size, "vcpus", None) or extra.get("vcpu") or extra.get("vcpus") or extra.get("cpu")
    return SizeInfo(
        id=str(size.id),
        name=size.name or str(size.id),
        vcpus=_int_or_none(vcpus),
        ram_mb=_int_or_none(size.ram),
        disk_gb=_int_or_none(size.disk),
    )


def image_info(image) -> ImageInfo:
    return ImageInfo(id=str(image.id), name=image.name or str(image.id))


def _unique(addresses) -> list:
    return list(dict.fromkeys(address for address in addresses or () if address))


def _int_or_none(value):
    try:
        return int(float(value)) or None
    except (TypeError, ValueError):
        return None


@contextmanager
def cloud_errors(endpoint: str):
    """Turn whatever libcloud or the network raises into a CloudError saying what the provider said.

    4xx answers (bad credentials, unknown image, quota) are permanent; timeouts, refused
    connections, 5xx and throttling are transient."""
    try:
        yield
    except CloudError:
        raise
    except InvalidCredsError as error:
        raise CloudError(f"authentication failed: {_text(error)}", permanent=True) from error
    except requests.exceptions.SSLError as error:
        raise CloudError(f"TLS error talking to {endpoint}: {_reason(error)}", permanent=True) from error
    except (requests.exceptions.Timeout, TimeoutError) as error:
        raise CloudError(f"{endpoint} did not answer in time ({_reason(error)})", permanent=False) from error
    except (requests.exceptions.ConnectionError, OSError) as error:
        raise CloudError(f"cannot reach {endpoint}: {_reason(error)}", permanent=False) from error
    except BaseHTTPError as error:
        raise _http_error(error.code, _text(error)) from error
    except ProviderError as error:
        raise _http_error(error.http_code, _text(error)) from error
    except MalformedResponseError as error:
        body = (error.body or "")[:200] if isinstance(error.body, str) else ""
        raise CloudError(
            f"unexpected answer from {endpoint}: {error.value} {body}".strip(), permanent=False
        ) from error
    except (LibcloudError, ValueError) as error:
        raise CloudError(_text(error), permanent=isinstance(error, ValueError)) from error
    except Exception as error:  # libcloud raises bare Exceptions too; callers only ever see CloudError
        raise CloudError(
            f"unexpected error from the cloud driver: {type(error).__name__}: {error}", permanent=False
        ) from error


def _http_error(status, message: str) -> CloudError:
    try:
        status = int(status)
    except (TypeError, ValueError):
        status = 500
    codes = {line.split(":", 1)[0].strip() for line in message.splitlines()}
    permanent = 400 <= status < 500 and status not in TRANSIENT_STATUSES and not codes & TRANSIENT_CODES
    return CloudError(message or f"HTTP {status}", permanent=permanent)


def _text(error: Exception) -> str:
    value = getattr(error, "value", None) or getattr(error, "message", None) or str(error)
    return str(value).strip() or type(error).__name__


def _reason(error: BaseException) -> str:
    """The innermost cause, in a few words: "connection refused", "timed out", ..."""
    seen = error
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, socket.gaierror):
            return f"host name not resolved ({seen.strerror or seen})"
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"certificate not trusted ({seen.verify_message})"
        if isinstance(seen, (socket.timeout, TimeoutError, requests.exceptions.Timeout)):
            return "timed out"
        inner = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = inner or getattr(seen, "reason", None) or seen.__cause__ or seen.__context__
        if not isinstance(seen, BaseException):
            seen = None
    return str(error)


def endpoint_url(secure: bool, host: str, port: int | None, path: str = "") -> str:
    scheme = "https" if secure else "http"
    port_part = f":{port}" if port and port != (443 if secure else 80) else ""
    return f"{scheme}://{host}{port_part}{path}"


class LibcloudProvider(CloudProvider):
    """A provider over one libcloud NodeDriver. Subclasses build the driver (`make_driver`) and
    say how to create a node (`create`); listing, destroying and error handling are shared.

    Not thread-safe: a libcloud connection keeps per-request state, so use one provider per thread
    (building one is cheap; the driver connects, and OpenStack authenticates, on first use)."""

    def __init__(self, config):
        super().__init__(config)
        self._driver = None

    # What subclasses provide.
    def make_driver(self):
        raise NotImplementedError

    def create(self, driver, spec: NodeSpec) -> Node:
        raise NotImplementedError

    def describe_endpoint(self) -> str:
        return endpoint_url(self.config.secure, self.config.host, self.config.port, self.config.path)

    def is_gone(self, error: CloudError) -> bool:
        """Whether a failed destroy means the node no longer exists."""
        return False

    # The shared part.
    @property
    def driver(self):
        if self._driver is None:
            with self.errors():
                self._driver = self.make_driver()
        return self._driver

    def errors(self):
        return cloud_errors(self.describe_endpoint())

    @contextmanager
    def listing(self):
        """Calls in the block may read for LIST_READ_FACTOR times as long as others."""
        connection = self.driver.connection
        before = connection.timeout
        connect, read = http_timeout()
        connection.timeout = (connect, read * LIST_READ_FACTOR)
        if getattr(connection, "connection", None) is not None:  # already connected
            connection.connection.session.timeout = connection.timeout
        try:
            yield
        finally:
            connection.timeout = before
            if getattr(connection, "connection", None) is not None:
                connection.connection.session.timeout = before

    def create_node(self, spec: NodeSpec) -> NodeInfo:
        driver = self.driver
        with self.errors():
            return node_info(self.create(driver, spec))

    def destroy_node(self, node_id: str) -> None:
        driver = self.driver
        node = Node(
            id=node_id, name=None, state=NodeState.UNKNOWN, public_ips=[], private_ips=[], driver=driver
        )
        try:
            with self.errors():
                driver.destroy_node(node)
        except CloudError as error:
            if not self.is_gone(error):
                raise

    def list_nodes(self) -> list[NodeInfo]:
        driver = self.driver
        with self.errors(), self.listing():
            return [node_info(node) for node in driver.list_nodes()]

    def list_sizes(self) -> list[SizeInfo]:
        driver = self.driver
        with self.errors():
            return [size_info(size) for size in driver.list_sizes()]

    def list_images(self) -> list[ImageInfo]:
        driver = self.driver
        with self.errors():
            return [image_info(image) for image in driver.list_images()]
