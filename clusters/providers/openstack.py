"""OpenStack (Nova, through Keystone v3 or v2.0)."""

from __future__ import annotations

from libcloud.compute.base import NodeImage, NodeSize
from libcloud.compute.drivers.openstack import OpenStackNetwork
from libcloud.compute.providers import get_driver
from libcloud.compute.types import Provider

from ._libcloud import LibcloudProvider, http_timeout
from .base import CloudError, Param

AUTH_VERSIONS = ("3.x_password", "2.0_password")


class OpenStackProvider(LibcloudProvider):
    kind = "openstack"
    label = "OpenStack"
    parameters = (
        Param("username", "User name", sensitive=True),
        Param("password", "Password", sensitive=True),
        Param("tenant", "Project (tenant) name"),
        Param(
            "auth_url",
            "Identity (Keystone) URL",
            help="without the version, e.g. https://keystone.example.org:5000",
        ),
        Param(
            "auth_version",
            "Identity API version",
            required=False,
            default="3.x_password",
            help=" or ".join(AUTH_VERSIONS),
        ),
        Param("domain", "User domain", required=False, default="Default", help="Keystone v3 only"),
        Param(
            "service_name",
            "Compute service name",
            required=False,
            help="when the catalogue has more than one, e.g. cloudServersOpenStack",
        ),
        Param(
            "networks", "Network ids", required=False, help="comma-separated; the project's default if empty"
        ),
    )
    endpoint_fields = ("region",)  # the compute service's region in the catalogue
    user_data_limit = 65536  # 64 KiB

    def option(self, name: str) -> str:
        default = next(param.default for param in self.parameters if param.name == name)
        return str(self.config.options.get(name) or default).strip()

    def make_driver(self):
        auth_url, auth_version = self.option("auth_url"), self.option("auth_version")
        if not auth_url:
            raise CloudError("set the identity (Keystone) URL", permanent=True)
        if auth_version not in AUTH_VERSIONS:
            raise CloudError(f"unknown identity API version {auth_version!r}", permanent=True)
        driver_class = get_driver(Provider.OPENSTACK)
        return driver_class(
            self.config.credentials.get("username", ""),
            self.config.credentials.get("password", ""),
            ex_force_auth_url=auth_url,
            ex_force_auth_version=auth_version,
            ex_tenant_name=self.option("tenant"),
            ex_domain_name=self.option("domain"),
            ex_force_service_region=self.config.region or None,
            ex_force_service_name=self.option("service_name") or None,
            timeout=http_timeout(),
        )

    def describe_endpoint(self) -> str:
        return self.option("auth_url") or "OpenStack"

    def create(self, driver, spec):
        networks = [
            OpenStackNetwork(id=network_id, name=network_id, cidr=None, driver=driver)
            for network_id in self.option("networks").replace(" ", "").split(",")
            if network_id
        ]
        return driver.create_node(
            name=spec.name,
            size=NodeSize(spec.size_id, spec.size_id, 0, 0, 0, 0, driver),
            image=NodeImage(id=spec.image_id, name=None, driver=driver),
            ex_userdata=spec.user_data or None,  # plain text: libcloud base64s it
            ex_metadata={str(key): str(value) for key, value in spec.tags.items()},
            networks=networks or None,
        )

    def is_gone(self, error: CloudError) -> bool:
        return error.message.startswith("404")
