"""Which instance held which address when (docs/audit.md, "Address history").

An instance holds the addresses its node has while the node lives: from the record or node list
that first showed them until one shows them gone, or the instance ends. Each held address is one
InstanceAddress row, opened then and closed then; rows are never deleted, so an address seen at a
time is traced to one instance, its cluster and its owner after all of them have ended or changed.
An address given to another instance of the same cloud closes the last holder's row (its end was
missed, say, by a worker that died between a record and this step)."""

from __future__ import annotations

import ipaddress
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from audit.models import InstanceAddress
from clusters.models import Instance, InstanceState


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def held_addresses(instance: Instance) -> dict[tuple, str]:
    """(node id, address, mac) -> kind, for each address `instance` holds now."""
    if not instance.node_id or instance.state == InstanceState.TERMINATED or instance.terminated_at:
        return {}
    held = {}
    for kind, addresses in (("public", instance.public_ips), ("private", instance.private_ips)):
        for address in addresses or ():
            if _valid(str(address)):
                held.setdefault((instance.node_id, str(address), instance.mac), kind)
    return held


def sync(instance_ids: list[int]) -> None:
    """Open a row for each address the instances hold and have no open row for; close the open rows
    of addresses they no longer hold."""
    now = timezone.now()
    instances = Instance.objects.filter(pk__in=instance_ids).select_related("cluster__owner", "cloud")
    wanted = {}
    for instance in instances:
        for (node_id, address, mac), kind in held_addresses(instance).items():
            wanted[(instance.pk, node_id, address, mac)] = (instance, kind)
    with transaction.atomic():
        open_rows = InstanceAddress.objects.filter(instance_id__in=instance_ids, seen_until__isnull=True)
        opened = {(row.instance_id, row.node_id, row.address, row.mac): row.pk for row in open_rows}
        gone = [pk for key, pk in opened.items() if key not in wanted]
        new = [key for key in wanted if key not in opened]
        if gone:
            InstanceAddress.objects.filter(pk__in=gone).update(seen_until=now)
        by_cloud = defaultdict(set)
        for key in new:
            by_cloud[wanted[key][0].cloud_id].add(key[2])
        for cloud_id, addresses in by_cloud.items():
            InstanceAddress.objects.filter(
                cloud_id=cloud_id, address__in=addresses, seen_until__isnull=True
            ).exclude(instance_id__in=instance_ids).update(seen_until=now)
        InstanceAddress.objects.bulk_create(
            [_row(wanted[key][0], key, wanted[key][1], now) for key in new], ignore_conflicts=True
        )


def _row(instance: Instance, key: tuple, kind: str, now) -> InstanceAddress:
    _instance_id, node_id, address, mac = key
    cluster, cloud = instance.cluster, instance.cloud
    return InstanceAddress(
        instance=instance,
        instance_name=instance.name,
        cluster=cluster,
        cluster_name=cluster.name,
        owner=cluster.owner,
        owner_username=cluster.owner.get_username(),
        cloud=cloud,
        cloud_name=cloud.name,
        node_id=node_id,
        address=address,
        kind=kind,
        mac=mac,
        seen_from=now,
    )
