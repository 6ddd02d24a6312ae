"""Apache CloudStack.

Where libcloud's CloudStack driver needs help:
- its connection's `timeout` is both the HTTP timeout and the wait for async jobs (600 s), so the
  HTTP one is set on the session instead;
- a 401 loses CloudStack's own text, and a failed async job raises a bare Exception: both become
  errors that keep the provider's message and error code;
- `create_node` sends `startvm=False` unless told otherwise, and maps "Starting" to rebooting and
  "Error" to terminated;
- `list_nodes` makes four calls and reads only the first page (CloudStack's default page size is
  500): listing here pages through VMs and public addresses, two calls per 500 VMs;
- tags cannot be given at deploy time: they are added right after with createTags.
User-data goes in the query string (an HTTP GET), where CloudStack allows 32 KiB of base64; the
renderer keeps user-data under that, and a bigger one comes back as CloudStack's own error.
"""

from __future__ import annotations

import json
import logging

from libcloud.common.cloudstack import CloudStackConnection, CloudStackResponse
from libcloud.common.types import InvalidCredsError, ProviderError
from libcloud.compute.base import NodeImage, NodeSize
from libcloud.compute.drivers.cloudstack import CloudStackNodeDriver
from libcloud.compute.types import NodeState

from ._libcloud import LibcloudProvider, endpoint_url, http_timeout, node_info
from .base import CloudError, NodeInfo, Param

log = logging.getLogger(__name__)

PAGE_SIZE = 500
GONE_WORDS = ("entity does not exist", "unable to find", "already destroyed", "is destroyed")


def _error_text(body: str) -> str:
    """CloudStack's `{"<command>response": {"errortext": ...}}`, or the body as it came."""
    try:
        answer = json.loads(body)
        return next(iter(answer.values()))["errortext"]
    except (ValueError, TypeError, KeyError, StopIteration, AttributeError):
        return (body or "").strip()[:300]


class PortalCloudStackResponse(CloudStackResponse):
    def parse_error(self):
        text = _error_text(self.body) or f"HTTP {self.status}"
        if self.status == 401:
            raise InvalidCredsError(text)
        raise ProviderError(value=text, http_code=self.status, driver=self.connection.driver)


class PortalCloudStackConnection(CloudStackConnection):
    responseCls = PortalCloudStackResponse

    def connect(self, *args, **kwargs):
        super().connect(*args, **kwargs)
        # `self.timeout` stays the async job wait; each HTTP call gets the short one.
        self.connection.session.timeout = http_timeout()

    def has_completed(self, response):
        if response.get("jobstatus") == self.ASYNC_FAILURE:
            result = response.get("jobresult") or {}
            raise ProviderError(
                value=result.get("errortext") or "the job failed",
                http_code=result.get("errorcode", 530),
                driver=self.driver,
            )
        return super().has_completed(response)


class PortalCloudStackNodeDriver(CloudStackNodeDriver):
    connectionCls = PortalCloudStackConnection
    NODE_STATE_MAP = {
        **CloudStackNodeDriver.NODE_STATE_MAP,
        "Starting": NodeState.STARTING,
        "Stopping": NodeState.STOPPING,
        "Expunging": NodeState.TERMINATED,
        "Error": NodeState.ERROR,
    }

    def list_all_nodes(self):
        """Every VM with its public addresses, page after page: two calls per 500 VMs."""
        public_ips: dict[str, list] = {}
        for address in self._all_pages("listPublicIpAddresses", "publicipaddress"):
            if "virtualmachineid" in address:
                public_ips.setdefault(str(address["virtualmachineid"]), []).append(address["ipaddress"])
        return [
            self._to_node(data=vm, public_ips=list(public_ips.get(str(vm["id"]), [])))
            for vm in self._all_pages("listVirtualMachines", "virtualmachine")
        ]

    def _all_pages(self, command: str, key: str) -> list:
        items, page = [], 1
        while True:
            answer = self._sync_request(command, params={"page": page, "pagesize": PAGE_SIZE})
            batch = answer.get(key, [])
            items += batch
            if len(batch) < PAGE_SIZE or len(items) >= int(answer.get("count", 0)):
                return items
            page += 1


class CloudStackProvider(LibcloudProvider):
    kind = "cloudstack"
    label = "Apache CloudStack"
    parameters = (
        Param("key", "API key", sensitive=True),
        Param("secret", "Secret key", sensitive=True),
    )
    endpoint_fields = ("host", "port", "path", "secure", "zone")
    default_path = "/client/api"
    user_data_limit = 32768  # 32 KiB

    def make_driver(self):
        if not self.config.host:
            raise CloudError("set the CloudStack API host", permanent=True)
        return PortalCloudStackNodeDriver(
            self.config.credentials.get("key", ""),
            self.config.credentials.get("secret", ""),
            secure=self.config.secure,
            host=self.config.host,
            path=self.config.path or self.default_path,
            port=self.config.port,
        )

    def describe_endpoint(self) -> str:
        return endpoint_url(
            self.config.secure, self.config.host, self.config.port, self.config.path or self.default_path
        )

    def _zone(self, driver):
        """The configured zone (by id or name), or None for CloudStack's first zone."""
        wanted = self.config.zone
        if not wanted:
            return None
        for location in driver.list_locations():
            if wanted in (location.id, location.name):
                return location
        raise CloudError(f'no zone "{wanted}" in this CloudStack', permanent=True)

    def create(self, driver, spec):
        node = driver.create_node(
            name=spec.name,
            size=NodeSize(spec.size_id, spec.size_id, 0, 0, 0, 0, driver),
            image=NodeImage(id=spec.image_id, name=None, driver=driver),
            location=self._zone(driver),
            ex_displayname=spec.name,
            ex_userdata=spec.user_data or None,  # plain text: libcloud base64s it
            ex_start_vm=True,
        )
        if spec.tags:
            try:
                with self.errors():
                    driver.ex_create_tags([node.id], "UserVm", dict(spec.tags))
                node.extra["tags"] = dict(spec.tags)
            except CloudError as error:
                # The VM exists: its id matters more than its tags (it is still found by its
                # unique name), so it is returned rather than lost.
                log.warning("VM %s created but not tagged: %s", node.id, error.message)
        return node

    def is_gone(self, error: CloudError) -> bool:
        return any(words in error.message.lower() for words in GONE_WORDS)

    def list_nodes(self) -> list[NodeInfo]:
        driver = self.driver
        with self.errors():
            return [node_info(node) for node in driver.list_all_nodes()]
