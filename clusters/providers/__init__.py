"""Cloud drivers behind one registry (STYLE 1): kind -> (label, dotted path of the provider class).

This package is the only place that imports libcloud. To add a driver family, write a module with
a CloudProvider subclass (see `generic.py` for the smallest one) and add a line here.
"""

from __future__ import annotations

from importlib import import_module

from .base import (
    ERROR,
    PENDING,
    RUNNING,
    STOPPED,
    TERMINATED,
    UNKNOWN,
    CloudConfig,
    CloudError,
    CloudProvider,
    ImageInfo,
    NodeInfo,
    NodeSpec,
    Param,
    SizeInfo,
    has_tags,
)

PROVIDERS = {
    "ec2": ("Amazon EC2 or compatible", "clusters.providers.ec2.EC2Provider"),
    "cloudstack": ("Apache CloudStack", "clusters.providers.cloudstack.CloudStackProvider"),
    "openstack": ("OpenStack", "clusters.providers.openstack.OpenStackProvider"),
    "libcloud": ("Other libcloud compute driver", "clusters.providers.generic.GenericLibcloudProvider"),
    "qemu": ("Desktop cloud (QEMU on this machine)", "clusters.providers.qemu.QemuProvider"),
}

DRIVER_CHOICES = [(kind, label) for kind, (label, _path) in PROVIDERS.items()]


def provider_class(kind: str) -> type[CloudProvider]:
    try:
        _label, path = PROVIDERS[kind]
    except KeyError:
        raise CloudError(f'unknown cloud driver "{kind}"', permanent=True)
    module, _dot, name = path.rpartition(".")
    return getattr(import_module(module), name)  # not Django's import_string: agents run without Django


def get_provider(config: CloudConfig) -> CloudProvider:
    return provider_class(config.driver)(config)


__all__ = [
    "DRIVER_CHOICES",
    "ERROR",
    "PENDING",
    "PROVIDERS",
    "RUNNING",
    "STOPPED",
    "TERMINATED",
    "UNKNOWN",
    "CloudConfig",
    "CloudError",
    "CloudProvider",
    "ImageInfo",
    "NodeInfo",
    "NodeSpec",
    "Param",
    "SizeInfo",
    "get_provider",
    "has_tags",
    "provider_class",
]
