"""Any other libcloud compute driver (OpenNebula, GCE, Azure, ...), with what libcloud's common API
offers and no special handling: user-data where the driver's create_node takes `ex_userdata` (an
error otherwise, never silently dropped), tags where it takes `ex_metadata`."""

from __future__ import annotations

import inspect
import json

from libcloud.compute.base import NodeImage, NodeSize
from libcloud.compute.providers import get_driver

from ._libcloud import LibcloudProvider, http_timeout
from .base import CloudError, Param


class GenericLibcloudProvider(LibcloudProvider):
    kind = "libcloud"
    label = "Other libcloud compute driver"
    parameters = (
        Param(
            "provider", "libcloud provider", help='a libcloud compute Provider name: "opennebula", "gce", ...'
        ),
        Param("key", "Key or user name", sensitive=True),
        Param("secret", "Secret or password", required=False, sensitive=True),
        Param(
            "driver_args",
            "Driver arguments",
            required=False,
            help='a JSON object passed to the driver, e.g. {"project": "my-project"}',
        ),
    )
    endpoint_fields = ("host", "port", "secure", "region")
    user_data_limit = None  # differs between drivers: not checked before the cloud is asked

    def driver_arguments(self) -> dict:
        value = self.config.options.get("driver_args") or {}
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as error:
                raise CloudError(f"driver arguments are not JSON: {error}", permanent=True)
        if not isinstance(value, dict):
            raise CloudError("driver arguments must be a JSON object", permanent=True)
        arguments = dict(value)
        for name in ("host", "port", "region"):
            if getattr(self.config, name):
                arguments.setdefault(name, getattr(self.config, name))
        if self.config.host:
            arguments.setdefault("secure", self.config.secure)
        return arguments

    def make_driver(self):
        name = str(self.config.options.get("provider") or "").strip().lower()
        try:
            driver_class = get_driver(name)
        except AttributeError:
            raise CloudError(f'libcloud has no compute driver "{name}"', permanent=True)
        credentials = [self.config.credentials.get("key", "")]
        if self.config.credentials.get("secret"):
            credentials.append(self.config.credentials["secret"])
        arguments = self.driver_arguments()
        accepts = inspect.signature(driver_class.__init__).parameters
        if "timeout" in accepts or any(p.kind is p.VAR_KEYWORD for p in accepts.values()):
            arguments.setdefault("timeout", http_timeout())
        try:
            return driver_class(*credentials, **arguments)
        except TypeError as error:
            raise CloudError(f"{driver_class.name}: {error}", permanent=True)

    def describe_endpoint(self) -> str:
        return self.config.host or str(self.config.options.get("provider") or "the cloud")

    def create(self, driver, spec):
        accepts = inspect.signature(driver.create_node).parameters
        extra = {}
        if spec.user_data:
            if "ex_userdata" not in accepts:
                raise CloudError(f"libcloud's {driver.name} driver cannot pass user-data", permanent=True)
            extra["ex_userdata"] = spec.user_data
        if spec.tags and "ex_metadata" in accepts:
            extra["ex_metadata"] = dict(spec.tags)
        return driver.create_node(
            name=spec.name,
            size=NodeSize(spec.size_id, spec.size_id, 0, 0, 0, 0, driver),
            image=NodeImage(id=spec.image_id, name=None, driver=driver),
            **extra,
        )
