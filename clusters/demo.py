"""The demo cloud `make run` registers: moto's EC2 server on this machine, site-wide, with two
images and the small/medium/large offerings mapped to real EC2 size ids (docs/architecture.md)."""

from django.db import transaction

from clusters.models import Cloud, Image, ServiceOffering, SizeMapping

DEMO_CLOUD_NAME = "Local demo cloud"
# moto accepts any credentials; they are stored encrypted like any other cloud's.
DEMO_CREDENTIALS = {"key": "demo-access-key", "secret": "demo-secret-key"}
OFFERINGS = [
    # name, vCPUs, RAM MB, disk GB, EC2 size id
    ("small", 1, 2048, 20, "t2.small"),
    ("medium", 2, 4096, 40, "t2.medium"),
    ("large", 4, 16384, 80, "m5.xlarge"),
]
IMAGES = [
    # logical name, AMI id (ami-1e749f67 is in moto's us-east-1 list), user-data format
    ("AlmaLinux 9", "ami-1e749f67", "cloud-init"),
    ("CernVM 4", "ami-785db401", "amiconfig"),
]


@transaction.atomic
def register_demo_cloud(host: str, port: int) -> Cloud:
    cloud, _ = Cloud.objects.update_or_create(
        owner=None,
        name=DEMO_CLOUD_NAME,
        defaults={
            "driver": "ec2",
            "host": host,
            "port": port,
            "path": "/",
            "secure": False,
            "region": "us-east-1",
            "queue": "default",
            # moto's public images, so "Test connection" and the image list show them.
            "options": {"image_owner": "all"},
        },
    )
    cloud.set_credentials(DEMO_CREDENTIALS)
    cloud.save()
    for name, vcpus, ram_mb, disk_gb, size_id in OFFERINGS:
        offering, _ = ServiceOffering.objects.get_or_create(
            name=name, defaults={"vcpus": vcpus, "ram_mb": ram_mb, "disk_gb": disk_gb}
        )
        SizeMapping.objects.update_or_create(offering=offering, cloud=cloud, defaults={"size_id": size_id})
    for name, ami, fmt in IMAGES:
        Image.objects.update_or_create(cloud=cloud, name=name, defaults={"provider_id": ami, "format": fmt})
    return cloud
