"""The audit trail (docs/audit.md): who did what, when and from which address, and which instance
held each address when. Rows are written by audit.record and audit.history only; no page, API or
admin form changes or deletes them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Action(models.TextChoices):
    LAUNCH = "launch", "launch"
    SCALE = "scale", "scale"
    TERMINATE = "terminate", "terminate"
    RETRY = "retry", "retry"
    BUDGET = "budget", "budget change"
    PAIRING_REQUEST = "pairing-request", "pairing request"
    PAIRING_CLAIM = "pairing-claim", "pairing claim"
    CLOUD_CREATE = "cloud-create", "cloud added"
    CLOUD_EDIT = "cloud-edit", "cloud edited"
    CLOUD_CREDENTIALS = "cloud-credentials", "cloud credentials changed"
    CLOUD_DELETE = "cloud-delete", "cloud deleted"
    LOGIN = "login", "login"
    LOGIN_FAILED = "login-failed", "login failed"


class ReadOnly(Exception):
    """An audit row was about to be changed or deleted: the trail only grows."""


class AuditRecordQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Staff see every record; others the records of what they did or of what is theirs."""
        if user.is_staff:
            return self
        return self.filter(Q(user=user) | Q(owner=user))


class AuditRecord(models.Model):
    created = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    # Who did it; the name is kept as it was, also when the account is gone or the login failed.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    # Whose object it is (a cluster's or cloud's owner, the account a login tried): they see it too.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The request's client address (audit.client.client_address).
    address = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    object_name = models.CharField(max_length=200, blank=True)
    summary = models.TextField()

    objects = AuditRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["address", "created"]), models.Index(fields=["username", "created"])]

    def __str__(self):
        return f"{self.created:%Y-%m-%d %H:%M:%S} {self.username or '-'}: {self.summary}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ReadOnly("audit records are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ReadOnly("audit records are never deleted")


class InstanceAddressQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if user.is_staff else self.filter(owner=user)

    def held_at(self, moment):
        """The rows whose address was held at `moment`."""
        return self.filter(Q(seen_until__isnull=True) | Q(seen_until__gte=moment), seen_from__lte=moment)


class InstanceAddress(models.Model):
    """One address of one instance's node, from when the portal first saw it until it saw it go.

    Names are copied in, so the row still says whose machine it was after the instance, its cluster
    or its owner's account are gone or changed."""

    instance = models.ForeignKey(
        "clusters.Instance", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    instance_name = models.CharField(max_length=63)
    cluster = models.ForeignKey(
        "clusters.Cluster", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cluster_name = models.CharField(max_length=63)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner_username = models.CharField(max_length=150)
    cloud = models.ForeignKey(
        "clusters.Cloud", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cloud_name = models.CharField(max_length=100)
    node_id = models.CharField(max_length=100)
    address = models.GenericIPAddressField(db_index=True)
    kind = models.CharField(max_length=8)  # public, private
    mac = models.CharField(max_length=32, blank=True)
    seen_from = models.DateTimeField(db_index=True)
    seen_until = models.DateTimeField(null=True, blank=True)

    objects = InstanceAddressQuerySet.as_manager()

    class Meta:
        ordering = ["-seen_from", "-id"]
        constraints = [
            # Two records of the same node list (a record delivered twice) open one row, not two.
            models.UniqueConstraint(
                fields=["instance", "node_id", "address", "mac"],
                condition=Q(seen_until__isnull=True),
                name="one_open_row_per_instance_address",
            )
        ]

    def __str__(self):
        return f"{self.address} on {self.instance_name} ({self.owner_username})"

    def delete(self, *args, **kwargs):
        raise ReadOnly("the address history is never deleted")
