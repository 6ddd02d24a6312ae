"""The desktop cloud `make run` registers when a base image exists (docs/desktop-cloud.md): QEMU on
this machine, site-wide, with the image booted with cloud-init and without it (the shell format),
and the small/medium/large offerings mapped to its presets."""

from django.db import transaction

from clusters.models import Cloud, Image, ServiceOffering, SizeMapping
from clusters.providers import CloudConfig, get_provider
from clusters.providers.qemu import SHELL_SUFFIX

DESKTOP_CLOUD_NAME = "Desktop cloud (QEMU)"
DESKTOP_OPTIONS = {"directory": "qemu/desktop"}
OFFERINGS = [
    # name, vCPUs, RAM MB, disk GB, qemu size id (the demo cloud's offerings, where they exist)
    ("small", 1, 2048, 20, "q1.small"),
    ("medium", 2, 4096, 40, "q1.medium"),
    ("large", 4, 16384, 80, "q1.large"),
]
FORMATS = {False: ("cloud-init", ""), True: ("shell", " (shell, no cloud-init)")}


def desktop_images(options: dict | None = None) -> list[str]:
    """The base images the desktop cloud would offer (names, without the shell variants)."""
    provider = get_provider(CloudConfig(driver="qemu", options=dict(options or DESKTOP_OPTIONS)))
    return list(provider.base_images())


@transaction.atomic
def register_desktop_cloud(options: dict | None = None) -> Cloud | None:
    """The site-wide desktop cloud, or None (and nothing registered) when there is no image."""
    options = dict(options or DESKTOP_OPTIONS)
    images = desktop_images(options)
    if not images:
        return None
    cloud, _ = Cloud.objects.update_or_create(
        owner=None,
        name=DESKTOP_CLOUD_NAME,
        defaults={"driver": "qemu", "queue": "default", "options": options},
    )
    for name, vcpus, ram_mb, disk_gb, size_id in OFFERINGS:
        offering, _ = ServiceOffering.objects.get_or_create(
            name=name, defaults={"vcpus": vcpus, "ram_mb": ram_mb, "disk_gb": disk_gb}
        )
        SizeMapping.objects.update_or_create(offering=offering, cloud=cloud, defaults={"size_id": size_id})
    for image in images:
        for shell, (fmt, label) in FORMATS.items():
            Image.objects.update_or_create(
                cloud=cloud,
                name=image + label,
                defaults={"provider_id": image + (SHELL_SUFFIX if shell else ""), "format": fmt},
            )
    return cloud
