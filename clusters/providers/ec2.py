"""Amazon EC2 and EC2-compatible clouds (OpenNebula, Eucalyptus, OpenStack's EC2 API, moto).

libcloud's EC2 driver is written for AWS; two things make it fail *silently* elsewhere (docs/testing.md):
it looks elements up in exactly one XML namespace (`.../doc/2016-11-15/`, with the slash), so an
answer in any other namespace parses as empty lists and lost error messages; and it signs with
version 2 unless told otherwise. The driver below signs with version 4, reads any namespace and
reports errors as the provider's "Code: Message".
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

from libcloud.common.types import InvalidCredsError
from libcloud.compute.base import NodeImage, NodeSize
from libcloud.compute.drivers.ec2 import (
    NAMESPACE,
    VALID_EC2_REGIONS,
    EC2Connection,
    EC2NodeDriver,
    EC2Response,
)
from libcloud.compute.types import NodeState
from libcloud.utils.py3 import ET
from libcloud.utils.xml import findall, findtext

from ._libcloud import LibcloudProvider, endpoint_url, http_timeout, image_info, node_info
from .base import TERMINATED, CloudError, ImageInfo, NodeInfo, Param, SizeInfo

AUTH_ERROR_CODES = {"AuthFailure", "InvalidClientTokenId", "SignatureDoesNotMatch", "OptInRequired"}
GONE_ERROR_CODES = ("InvalidInstanceID.NotFound",)
DEFAULT_REGION = "us-east-1"
# EC2's largest page of DescribeInstances: a 1,000-node cloud is listed in one call (docs/performance.md).
PAGE_SIZE = 1000


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def use_canonical_namespace(root) -> None:
    """Rewrite every element into the namespace libcloud looks in, whatever the server used."""
    for element in root.iter():
        if isinstance(element.tag, str):  # lxml comments and processing instructions are not
            element.tag = f"{{{NAMESPACE}}}{_local_name(element.tag)}"


def readable_text(body) -> str:
    """An HTML (or plain) error page as one short line: tags dropped, spaces squeezed."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    text = html.unescape(re.sub(r"<(script|style)\b.*?</\1>|<[^>]+>", " ", text, flags=re.S | re.I))
    return " ".join(text.split())[:300]


def error_text(body: str) -> tuple[str, set]:
    """("Code: Message" lines, the codes) from an EC2 error document in any namespace."""
    try:
        root = ET.XML(body.encode("utf-8") if isinstance(body, str) else body)
    except Exception:  # not XML: a proxy's HTML page, an empty body
        return readable_text(body), set()
    lines, codes = [], set()
    for element in root.iter():
        if isinstance(element.tag, str) and _local_name(element.tag) == "Error":
            fields = {_local_name(child.tag): (child.text or "").strip() for child in element}
            codes.add(fields.get("Code", ""))
            lines.append(f"{fields.get('Code', 'Error')}: {fields.get('Message', '')}".strip())
    return "\n".join(lines), codes


class CompatibleEC2Response(EC2Response):
    def parse_body(self):
        root = super().parse_body()
        if len(self.body):
            use_canonical_namespace(root)
        return root

    def parse_error(self):
        text, codes = error_text(self.body)
        text = text or f"HTTP {self.status} {self.error or ''}".strip()
        if codes & AUTH_ERROR_CODES or (self.status in (401, 403) and not codes):
            raise InvalidCredsError(text)
        return text


# Calls whose parameters go in a POST body, not the URL: RunInstances carries the user-data, which
# holds passwords' hashes and the instance's token, and URLs end up in servers' and proxies' logs.
POSTED_ACTIONS = frozenset({"RunInstances"})


class CompatibleEC2Connection(EC2Connection):
    responseCls = CompatibleEC2Response

    def request(self, action, params=None, data=None, headers=None, method="GET", **kwargs):
        if method == "GET" and data is None and (params or {}).get("Action") in POSTED_ACTIONS:
            # The EC2 query API takes the same parameters form-encoded in a POST body (what the AWS
            # SDKs send); signature version 4 then signs the body's hash.
            body = urlencode({**params, "Version": self.version})
            headers = {**(headers or {}), "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
            return super().request(action, params={}, data=body, headers=headers, method="POST", **kwargs)
        return super().request(action, params=params, data=data, headers=headers, method=method, **kwargs)


class CompatibleEC2NodeDriver(EC2NodeDriver):
    """EC2NodeDriver for any EC2 API: signature version 4, any namespace, any region name, any path."""

    connectionCls = CompatibleEC2Connection
    NODE_STATE_MAP = {
        **EC2NodeDriver.NODE_STATE_MAP,
        "shutting-down": NodeState.TERMINATED,  # on its way to terminated, no way back
        "stopping": NodeState.STOPPING,
    }

    def __init__(self, key, secret, *, region, host, port, secure, path, timeout):
        known_region = region if region in VALID_EC2_REGIONS else DEFAULT_REGION
        super().__init__(
            key,
            secret,
            secure=secure,
            host=host,
            port=port,
            region=known_region,
            signature_version="4",
            timeout=timeout,
        )
        # Requests are signed for the region the cloud calls itself, AWS's list or not.
        self.region_name = region
        self.path = path or "/"

    def list_nodes(self, ex_node_ids=None, ex_filters=None):
        """Every node, page after page: libcloud reads only the first page of DescribeInstances,
        and servers page (moto after 100 reservations, AWS when asked to), so the monitor would
        miss the rest and take running nodes for vanished ones."""
        if ex_node_ids:  # EC2 refuses MaxResults with instance ids, and answers them in one page
            return super().list_nodes(ex_node_ids=ex_node_ids, ex_filters=ex_filters)
        params = {"Action": "DescribeInstances", "MaxResults": str(PAGE_SIZE)}
        params.update(self._build_filters(ex_filters or {}))
        nodes = []
        while True:
            answer = self.connection.request(self.path, params=params).object
            for reservation in findall(element=answer, xpath="reservationSet/item", namespace=NAMESPACE):
                nodes += self._to_nodes(reservation, "instancesSet/item")
            token = findtext(element=answer, xpath="nextToken", namespace=NAMESPACE)
            if not token:
                break
            params["NextToken"] = token
        elastic_ips = self.ex_describe_addresses(nodes)
        for node in nodes:
            node.public_ips.extend(elastic_ips[node.id])
        return nodes


class EC2Provider(LibcloudProvider):
    kind = "ec2"
    label = "Amazon EC2 or compatible"
    parameters = (
        Param("key", "Access key ID", sensitive=True),
        Param("secret", "Secret access key", sensitive=True),
        Param(
            "image_owner",
            "List images owned by",
            required=False,
            default="self",
            help='"self", "amazon", an account id, or "all" (every public image: slow on AWS)',
        ),
    )
    endpoint_fields = ("host", "port", "path", "secure", "region")
    idempotent_creates = True  # the instance's token goes as ClientToken
    supports_spot = True  # RunInstances' InstanceMarketOptions.MarketType=spot
    user_data_limit = 16384  # 16 KiB

    @property
    def region(self) -> str:
        return self.config.region or DEFAULT_REGION

    def make_driver(self):
        if not self.config.host and self.region not in VALID_EC2_REGIONS:
            raise CloudError(f'"{self.region}" is not an AWS region: set the endpoint host', permanent=True)
        credentials = self.config.credentials
        return CompatibleEC2NodeDriver(
            credentials.get("key", ""),
            credentials.get("secret", ""),
            region=self.region,
            host=self.config.host or None,
            port=self.config.port,
            secure=self.config.secure,
            path=self.config.path,
            timeout=http_timeout(),
        )

    def describe_endpoint(self) -> str:
        if not self.config.host:
            return f"EC2 {self.region}"
        return endpoint_url(self.config.secure, self.config.host, self.config.port, self.config.path)

    def create(self, driver, spec):
        size = NodeSize(
            id=spec.size_id, name=spec.size_id, ram=0, disk=0, bandwidth=None, price=None, driver=driver
        )
        return driver.create_node(
            name=spec.name,
            size=size,
            image=NodeImage(id=spec.image_id, name=None, driver=driver),
            ex_userdata=spec.user_data or None,  # plain text: libcloud base64s it
            ex_metadata=dict(spec.tags),  # sent as TagSpecification with the create call
            ex_clienttoken=spec.idempotency_token or None,
            # A one-time spot request made by RunInstances itself, so the ClientToken still makes the
            # create exactly-once; no max price: AWS caps it at the on-demand price.
            ex_spot=spec.spot,
        )

    def is_gone(self, error: CloudError) -> bool:
        return error.message.startswith(GONE_ERROR_CODES)

    def find_nodes(self, tags: dict) -> list[NodeInfo]:
        # Filtered by the server: one call whatever the number of nodes.
        filters = {
            f"tag:{key}": value if isinstance(value, list) else str(value) for key, value in tags.items()
        }
        driver = self.driver
        with self.errors(), self.listing():
            nodes = [node_info(node) for node in driver.list_nodes(ex_filters=filters)]
        return [node for node in nodes if node.state != TERMINATED]

    def find_tagged(self, tag: str, values) -> list[NodeInfo]:
        return self.find_nodes({tag: sorted({str(value) for value in values})})

    def list_sizes(self) -> list[SizeInfo]:
        # libcloud's static table of AWS instance types (the API has no call for it), without the
        # price lookup list_sizes() would do for each of them.
        from libcloud.compute.constants.ec2_instance_types import INSTANCE_TYPES
        from libcloud.compute.constants.ec2_region_details_complete import REGION_DETAILS

        region = self.region if self.region in REGION_DETAILS else DEFAULT_REGION
        sizes = []
        for type_id in REGION_DETAILS[region]["instance_types"]:
            attributes = INSTANCE_TYPES[type_id]
            sizes.append(
                SizeInfo(
                    id=type_id,
                    name=attributes.get("name") or type_id,
                    vcpus=_int(attributes.get("extra", {}).get("vcpu")),
                    ram_mb=attributes.get("ram") or None,
                    disk_gb=attributes.get("disk") or None,
                )
            )
        return sorted(sizes, key=lambda size: size.id)

    def list_images(self) -> list[ImageInfo]:
        owner = self.config.options.get("image_owner") or "self"
        driver = self.driver
        with self.errors():
            images = driver.list_images(ex_owner=None if owner == "all" else owner)
        return [image_info(image) for image in images]


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
