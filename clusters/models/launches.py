"""Launched clusters (docs/launches.md): a frozen snapshot of a definition placed on clouds, its instances
— one per VM, each with its own rendered user-data, idempotency token and check-in token — and
an event log."""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse


class ClusterState(models.TextChoices):
    LAUNCHING = "launching", "launching"
    RUNNING = "running", "running"
    DEGRADED = "degraded", "degraded"
    FAILED = "failed", "failed"
    TERMINATING = "terminating", "terminating"
    TERMINATED = "terminated", "terminated"


# A cluster being stopped or stopped: no scale, retry or terminate any more.
ENDING_CLUSTER_STATES = (ClusterState.TERMINATING, ClusterState.TERMINATED)
# A cluster on its way to another state: its state follows its instances' (launcher.refresh_state).
UNSETTLED_CLUSTER_STATES = (ClusterState.LAUNCHING, ClusterState.TERMINATING)


class Cluster(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clusters")
    definition = models.ForeignKey(
        "clusters.ClusterDefinition",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="clusters",
    )
    name = models.CharField(max_length=63)
    # The definition as launched: roles with their resolved revision, cloud, size and image.
    snapshot = models.JSONField()
    state = models.CharField(max_length=12, choices=ClusterState.choices, default=ClusterState.LAUNCHING)
    # Fernet ciphertext of the cluster secret templates see as {{ cluster.secret }}.
    secret = models.TextField(editable=False)
    # What elastic growth may spend (docs/costs.md): per day at the cluster's hourly rate, and in all.
    budget_per_day = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    budget_total = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    # It has an elastic role: the elastic task looks at it (clusters.elastic.scaler).
    elastic = models.BooleanField(default=False, db_index=True)
    # When an elastic role's size last changed, by role name: its cool-down runs from there.
    scaled_at = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("clusters:cluster_detail", args=[self.pk])

    def role(self, name: str) -> dict:
        return next(r for r in self.snapshot["roles"] if r["name"] == name)

    @property
    def is_ending(self) -> bool:
        return self.state in ENDING_CLUSTER_STATES


class ClusterEvent(models.Model):
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="events")
    created = models.DateTimeField(auto_now_add=True)
    level = models.CharField(max_length=8, default="info")  # info, warning, error
    message = models.TextField()

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return self.message


class QueueSample(models.Model):
    """One report of a cluster's batch queue, as its head posted it (docs/elastic.md); the page's
    chart draws them and the elastic policy decides from the newest."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="queue_samples")
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    system = models.CharField(max_length=10)  # condor, slurm
    idle_jobs = models.PositiveIntegerField()
    running_jobs = models.PositiveIntegerField()
    # Each worker as the head sees it: {"name", "state" (busy, idle, draining, drained, down),
    # "idle_seconds"}.
    workers = models.JSONField(default=list)
    # The elastic roles' live instances when the report came: the chart's worker count.
    instances = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"{self.system}: {self.idle_jobs} idle, {self.running_jobs} running"


class InstanceState(models.TextChoices):
    REQUESTED = "requested", "requested"
    LAUNCHING = "launching", "launching"
    RUNNING = "running", "running"
    READY = "ready", "ready"
    FAILED = "failed", "failed"
    TERMINATING = "terminating", "terminating"
    TERMINATED = "terminated", "terminated"


# The families of instance states: the one place that says what each word means (docs/launches.md).
# Its create is waiting or under way: its node, if made, is kept.
IN_FLIGHT_STATES = (InstanceState.REQUESTED, InstanceState.LAUNCHING)
# Its node runs.
UP_STATES = (InstanceState.RUNNING, InstanceState.READY)
# It should be alive: it holds its place in its role.
LIVE_STATES = IN_FLIGHT_STATES + UP_STATES
# The monitor matches its node against the cloud's list.
WATCHED_STATES = LIVE_STATES + (InstanceState.TERMINATING,)
# Being stopped or stopped.
ENDING_STATES = (InstanceState.TERMINATING, InstanceState.TERMINATED)


def summary(counts: dict) -> dict:
    """What a cluster's page, the API and `portalctl --wait` show, from the number of its
    instances in each state: `wanted` (all but the terminated), `up`, `failed`, `progress` (%)."""
    wanted = sum(n for state, n in counts.items() if state != InstanceState.TERMINATED)
    up = sum(counts.get(state, 0) for state in UP_STATES)
    return {
        "wanted": wanted,
        "up": up,
        "failed": counts.get(InstanceState.FAILED, 0),
        "progress": round(100 * up / wanted) if wanted else 100,
    }


class Instance(models.Model):
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="instances")
    role = models.CharField(max_length=32)
    index = models.PositiveIntegerField()
    cloud = models.ForeignKey("clusters.Cloud", on_delete=models.PROTECT, related_name="instances")
    revision = models.ForeignKey(
        "contexts.ProfileRevision", on_delete=models.PROTECT, related_name="instances"
    )
    name = models.CharField(max_length=63)
    state = models.CharField(max_length=12, choices=InstanceState.choices, default=InstanceState.REQUESTED)
    node_id = models.CharField(max_length=100, blank=True)
    public_ips = models.JSONField(default=list, blank=True)
    private_ips = models.JSONField(default=list, blank=True)
    mac = models.CharField(max_length=32, blank=True)
    # Tags the node and is EC2's ClientToken: how a repeated create finds the node made before.
    idempotency_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    last_error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    checkin_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    checkin_status = models.CharField(max_length=10, blank=True)  # booted, ready, failed
    checkin_message = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    # When the portal first recorded its node, or heard its create fail: a list asked before then
    # may not show the node yet.
    node_seen_at = models.DateTimeField(null=True, blank=True)
    # When its node was seen gone (terminated, or failed with a node the monitor had to see end).
    terminated_at = models.DateTimeField(null=True, blank=True)
    # When the head was told to drain it (docs/elastic.md): it is terminated once it reports drained
    # or its role's drain deadline passed.
    drain_requested_at = models.DateTimeField(null=True, blank=True)
    # Why it ended, in plain words ("drained", "drain deadline", "reclaimed by the cloud", ...).
    end_reason = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["cluster", "role", "index"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "role", "index"], name="unique_instance_index")
        ]
        indexes = [models.Index(fields=["cloud", "state"]), models.Index(fields=["cluster", "state"])]

    def __str__(self):
        return self.name

    @property
    def is_draining(self) -> bool:
        """Asked to drain (docs/elastic.md) and its node still runs: it ends once drained."""
        return self.drain_requested_at is not None and self.state in UP_STATES
