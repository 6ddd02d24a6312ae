"""What every cloud driver offers the portal (docs/clouds.md, STYLE 1): create a node with user-data and
tags, destroy, list nodes, sizes and images, check the connection; errors as CloudError.

Providers are plain classes built from a CloudConfig: no database, no Django, so the same code
runs in a portal worker and in a gateway agent that has only its local config (docs/gateway-agents.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field


class CloudError(Exception):
    """A cloud call that failed, with the provider's own message.

    `permanent` errors (bad credentials, unknown image, quota) will fail again if retried;
    transient ones (timeouts, 5xx, throttling) may succeed later.
    """

    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass(frozen=True)
class Param:
    """A setting a driver needs; `sensitive` ones are credentials: stored encrypted, never shown."""

    name: str
    label: str
    required: bool = True
    sensitive: bool = False
    help: str = ""
    default: str = ""


@dataclass(frozen=True)
class CloudConfig:
    driver: str
    credentials: dict = field(default_factory=dict, repr=False)  # never printed, never logged
    host: str = ""
    port: int | None = None
    path: str = ""
    secure: bool = True
    region: str = ""
    zone: str = ""
    options: dict = field(default_factory=dict)  # the driver's other, non-secret parameters
    # Opens the user-data in this cloud's create messages (clusters.cloudside.open_user_data).
    message_key: str = field(default="", repr=False)


@dataclass(frozen=True)
class NodeSpec:
    name: str
    size_id: str
    image_id: str
    user_data: str | bytes = ""  # bytes when gzip-compressed; libcloud base64s either
    tags: dict = field(default_factory=dict)
    idempotency_token: str = ""  # EC2 ClientToken; other drivers look nodes up by name/tag
    # Ask for spot (preemptible) capacity: honoured by providers whose `supports_spot` is True,
    # ignored by the others (the launch said so: clusters.spot.notice).
    spot: bool = False


# Node states, the same words whatever the provider says.
PENDING, RUNNING, STOPPED, TERMINATED, ERROR, UNKNOWN = (
    "pending",
    "running",
    "stopped",
    "terminated",
    "error",
    "unknown",
)


@dataclass
class NodeInfo:
    id: str
    name: str
    state: str
    public_ips: list = field(default_factory=list)
    private_ips: list = field(default_factory=list)
    tags: dict = field(default_factory=dict)
    # The MAC addresses of its network interfaces, the primary first, where the cloud reports them
    # (EC2, CloudStack, OpenStack): the audit trail ties an address to a machine (docs/audit.md).
    macs: list = field(default_factory=list)


def has_tags(node: NodeInfo, tags: dict) -> bool:
    return all(key in node.tags and str(node.tags[key]) == str(value) for key, value in tags.items())


@dataclass
class SizeInfo:
    id: str
    name: str
    vcpus: int | None = None
    ram_mb: int | None = None
    disk_gb: int | None = None


@dataclass
class ImageInfo:
    id: str
    name: str


class CloudProvider:
    """Base of every driver. Subclasses declare `kind`, `label`, `parameters` (and `user_data_limit`
    when the cloud has one) and implement the methods below; every libcloud or network error leaves as a CloudError."""

    kind = ""
    label = ""
    # True when a repeated create with the same idempotency token gives back the node made before
    # (EC2's ClientToken): then a first attempt needs no look-up before creating.
    idempotent_creates = False
    # True when create_node can ask for spot capacity (NodeSpec.spot): capacity the cloud may take
    # back at any time, for a lower price (docs/elastic.md "Spot capacity").
    supports_spot = False
    parameters: tuple[Param, ...] = ()  # sensitive ones live in CloudConfig.credentials, others in options
    # The most bytes of user-data the cloud takes (docs/user-data.md); None when it is not known.
    user_data_limit: int | None = None
    # Which CloudConfig fields (host, port, path, ...) the driver reads: () for none (a cloud on this
    # machine), None for all of them (a driver that does not say).
    endpoint_fields: tuple[str, ...] | None = None

    def __init__(self, config: CloudConfig):
        self.config = config

    @classmethod
    def guest_portal_url(cls, options: dict, portal_url: str) -> str:
        """The portal's URL as this cloud's VMs reach it (check-in, `{{ portal.url }}`): the
        portal's own, except where the VMs see the portal's machine under another address."""
        return portal_url

    def create_node(self, spec: NodeSpec) -> NodeInfo:
        raise NotImplementedError

    def destroy_node(self, node_id: str) -> None:
        """Destroy a node; a node that is already gone is not an error."""
        raise NotImplementedError

    def list_nodes(self) -> list[NodeInfo]:
        raise NotImplementedError

    def find_nodes(self, tags: dict) -> list[NodeInfo]:
        """Nodes not yet terminated that carry all these tags: how a retried launch finds the node
        an earlier attempt created, and how the reconciler finds orphans."""
        return [node for node in self.list_nodes() if node.state != TERMINATED and has_tags(node, tags)]

    def find_tagged(self, tag: str, values) -> list[NodeInfo]:
        """Nodes not yet terminated whose `tag` is one of `values`: the nodes of a batch of
        instances, found with one call (drivers that filter on the server do it there)."""
        wanted = {str(value) for value in values}
        return [
            node for node in self.list_nodes() if node.state != TERMINATED and node.tags.get(tag) in wanted
        ]

    def list_sizes(self) -> list[SizeInfo]:
        raise NotImplementedError

    def list_images(self) -> list[ImageInfo]:
        raise NotImplementedError

    def check(self) -> str:
        """One line saying what the connection found, e.g. "12 sizes, 3 images"; CloudError if none."""
        sizes, images = self.list_sizes(), self.list_images()
        return f"connected: {len(sizes)} sizes, {len(images)} images"
