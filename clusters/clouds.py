"""What the portal does with a Cloud beyond storing it: test the connection, sync its sizes, and
suggest which of its sizes serves each service offering (docs/clouds.md).

Provider errors are recorded with the provider's own message, so the user reads what the cloud
said; any credential value that might appear in a message is masked first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from clusters.cloudside_check import masked
from clusters.models import CheckState, Cloud, CloudSize, ServiceOffering, SizeMapping
from clusters.providers import get_provider
from clusters.providers.base import CloudError
from portal.crypto import DecryptionError

logger = logging.getLogger(__name__)


@sensitive_variables()
def _masked(message: str, cloud: Cloud) -> str:
    """`message` with every stored credential value of `cloud` masked: error texts can quote
    request URLs, and CloudStack signs its requests with the API key in the query string."""
    try:
        return masked(message, cloud.config().credentials)
    except DecryptionError:
        return message


def record_check(cloud: Cloud, state: str, message: str = "") -> None:
    cloud.check_state, cloud.check_message, cloud.checked_at = state, message, timezone.now()
    Cloud.objects.filter(pk=cloud.pk).update(
        check_state=state, check_message=message, checked_at=cloud.checked_at
    )


@sensitive_variables()
def _call(cloud: Cloud, method: str):
    """(result, None) from the provider's `method`, or (None, a readable message)."""
    try:
        provider = get_provider(cloud.config())
        return getattr(provider, method)(), None
    except CloudError as exc:
        return None, _masked(exc.message, cloud)
    except DecryptionError as exc:
        return None, f"The stored credentials cannot be read: {exc}. Enter them again."
    except Exception as exc:  # a driver bug must not leave the cloud "checking…" for ever
        logger.error("cloud %s: %s failed with %s", cloud.pk, method, exc.__class__.__name__)
        return None, f"Unexpected error in the {cloud.driver} driver ({exc.__class__.__name__})."


def check_cloud(cloud: Cloud) -> str:
    """Ask the provider to list sizes and images; store and return the outcome's state."""
    summary, error = _call(cloud, "check")
    if error is None:
        record_check(cloud, CheckState.OK, summary)
    else:
        record_check(cloud, CheckState.FAILED, error)
    return cloud.check_state


@dataclass
class SyncResult:
    ok: bool
    sizes: int = 0
    images: int = 0
    message: str = ""


def sync_cloud(cloud: Cloud) -> SyncResult:
    """Replace the cloud's CloudSize rows with what the provider lists now.

    Images are counted, not stored: users name the images they want (Image) themselves, and a
    public cloud lists thousands. The outcome is also recorded as the cloud's last check.
    """
    sizes, error = _call(cloud, "list_sizes")
    images, images_error = _call(cloud, "list_images") if error is None else (None, None)
    error = error or images_error
    if error is not None:
        record_check(cloud, CheckState.FAILED, error)
        return SyncResult(ok=False, message=error)
    with transaction.atomic():
        cloud.sizes.all().delete()
        CloudSize.objects.bulk_create(
            CloudSize(
                cloud=cloud,
                size_id=size.id,
                name=size.name[:200],
                vcpus=size.vcpus,
                ram_mb=size.ram_mb,
                disk_gb=size.disk_gb,
            )
            for size in {size.id: size for size in sizes}.values()
        )
    result = SyncResult(ok=True, sizes=cloud.sizes.count(), images=len(images))
    result.message = f"synced: {result.sizes} sizes stored, {result.images} images listed"
    record_check(cloud, CheckState.OK, result.message)
    return result


def closest_size(offering: ServiceOffering, sizes) -> CloudSize | None:
    """The size in `sizes` closest to the offering, or None when none is usable.

    The rule: only sizes with a known vCPU count and RAM are considered. Among those at least as
    big as the offering in both vCPUs and RAM, the one with the fewest vCPUs wins, then the least
    RAM (then the most disk, then the id, so the answer is stable). Only when no size is big
    enough does the biggest one (most vCPUs, then most RAM) stand in. Disk does not decide: clouds
    size root disks apart from the flavor (EBS volumes, volume-backed instances).
    """
    known = [s for s in sizes if s.vcpus and s.ram_mb]
    big_enough = [s for s in known if s.vcpus >= offering.vcpus and s.ram_mb >= offering.ram_mb]
    if big_enough:
        return min(big_enough, key=lambda s: (s.vcpus, s.ram_mb, -(s.disk_gb or 0), s.size_id))
    return max(known, key=lambda s: (s.vcpus, s.ram_mb, s.disk_gb or 0, s.size_id), default=None)


@dataclass
class Suggestion:
    offering: ServiceOffering
    cloud: Cloud
    size: CloudSize


def suggest_mappings(offerings) -> list[Suggestion]:
    """A suggested size for every (offering, cloud) pair without a mapping, on the clouds with
    synced sizes."""
    offerings = list(offerings)
    mapped = set(SizeMapping.objects.filter(offering__in=offerings).values_list("offering_id", "cloud_id"))
    sizes_by_cloud: dict[int, list[CloudSize]] = {}
    for size in CloudSize.objects.select_related("cloud"):
        sizes_by_cloud.setdefault(size.cloud_id, []).append(size)
    suggestions = []
    for offering in offerings:
        for cloud_id, sizes in sizes_by_cloud.items():
            if (offering.pk, cloud_id) in mapped:
                continue
            size = closest_size(offering, sizes)
            if size is not None:
                suggestions.append(Suggestion(offering, size.cloud, size))
    return suggestions


def fill_missing_mappings(offerings) -> int:
    """Store every suggestion as a SizeMapping; how many were made."""
    suggestions = suggest_mappings(offerings)
    SizeMapping.objects.bulk_create(
        [SizeMapping(offering=s.offering, cloud=s.cloud, size_id=s.size.size_id) for s in suggestions],
        ignore_conflicts=True,  # a mapping someone saved meanwhile wins
    )
    return len(suggestions)
