"""Sending a role's waiting instances to their cloud: claim them, render each one's user-data, and
send them in batches (one create message per batch, clusters.cloudside.cloud_create_nodes).

The claim is one statement for the role under row locks, so concurrent advances (records arriving
together) never send an instance twice; rendering and the tokens' hashes are written in the same
transaction, and the messages leave once it commits.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from clusters import cloudside, launcher, spot, userdata
from clusters.instance_auth import new_instance_token
from clusters.models import Cloud, Cluster, Instance, InstanceState
from contexts.models import ProfileRevision
from contexts.render import RenderError
from portal import crypto

S = InstanceState


def batch_size(count: int) -> int:
    """Instances per create message: spread over at least 8 messages, so that several workers share
    a role's creates, and at most CREATE_BATCH_SIZE (one look-up covers a batch when one is needed)."""
    return max(1, min(settings.CREATE_BATCH_SIZE, math.ceil(count / 8)))


def dispatch_role(
    cluster: Cluster, role: dict, waiting: list[Instance], cloud: Cloud, addresses: dict, documents: dict
) -> None:
    """Send `waiting` (requested instances of `role`) to `cloud`; the caller runs in a transaction
    and holds the waiting instances' row locks (launcher.advance)."""
    claimed_ids = list(
        Instance.objects.select_for_update()  # held already, but for instances added since
        .filter(pk__in=[i.pk for i in waiting], state=S.REQUESTED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not claimed_ids:
        return  # another advance sent them
    Instance.objects.filter(pk__in=claimed_ids).update(
        state=S.LAUNCHING, launched_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
    )
    claimed_set = set(claimed_ids)
    claimed = [i for i in waiting if i.pk in claimed_set]
    key, secret = cloud.message_key_value(), crypto.decrypt(cluster.secret)
    # Said only when asked for, so that a create message of an on-demand role is what a gateway
    # agent that knows no spot expects.
    market = {"spot": True} if spot.wanted(role, cloud.driver) else {}
    batch, ready, failed = [], [], []
    for instance in claimed:
        instance.state = S.LAUNCHING
        token, instance.checkin_token_hash = new_instance_token()
        try:
            user_data = render_user_data(cluster, role, instance, cloud, addresses, token, documents, secret)
        except RenderError as exc:
            instance.state, instance.last_error = S.FAILED, str(exc)
            failed.append(instance)
            continue
        ready.append(instance)
        batch.append(
            [
                instance.pk,
                {
                    "name": instance.name,
                    "size_id": role["size_id"],
                    "image_id": role["image_id"],
                    "user_data_sealed": cloudside.seal_user_data(user_data, key),
                    "tags": node_tags(cluster, instance),
                    "idempotency_token": str(instance.idempotency_token),
                    **market,
                },
            ]
        )
    Instance.objects.bulk_update(ready, ["checkin_token_hash"])
    Instance.objects.bulk_update(failed, ["state", "last_error"])
    for instance in failed:
        launcher.event(
            cluster, f"{instance.name}: cannot render its user-data: {instance.last_error}", "error"
        )
    size = batch_size(len(batch))
    for start in range(0, len(batch), size):
        launcher.send_to_cloud(cloudside.cloud_create_nodes, cloud, batch[start : start + size])


def node_tags(cluster: Cluster, instance: Instance) -> dict:
    return {
        cloudside.PORTAL_TAG: settings.PORTAL_ID,
        cloudside.CLUSTER_TAG: str(cluster.pk),
        cloudside.CLOUD_TAG: str(instance.cloud_id),
        cloudside.INSTANCE_TAG: str(instance.idempotency_token),
    }


def render_user_data(cluster, role, instance, cloud, addresses, token, documents, secret: str) -> bytes:
    if instance.revision_id not in documents:  # one look-up per revision, not per instance
        revision = ProfileRevision.objects.select_related("profile").get(pk=instance.revision_id)
        documents[instance.revision_id] = (
            userdata.document_for(revision, cluster.owner, secret),
            bytes.fromhex(revision.salt),
        )
    document, salt_seed = documents[instance.revision_id]
    values = userdata.variables(
        {"name": cluster.name, "id": cluster.pk, "secret": secret},
        role["name"],
        instance.index,
        instance.name,
        token,
        addresses,
        userdata.guest_portal_url(cloud.driver, cloud.options),
    )
    return userdata.render_instance(
        document, values, fmt=role["format"], driver=cloud.driver, salt_seed=salt_seed
    )
