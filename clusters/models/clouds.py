"""Clouds, the service offerings mapped onto their sizes, and their images (docs/clouds.md).

A Cloud's credentials are the sensitive parameters of its driver: stored as one Fernet ciphertext
of a JSON object (portal.crypto), decrypted only to build a CloudConfig for a provider call, and
never shown, logged or sent in a task message.
"""

from datetime import timedelta

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from clusters.providers.base import CloudConfig
from contexts import render
from portal.crypto import DecryptionError, decrypt, decrypt_json, encrypt, encrypt_json

DEFAULT_QUEUE = "default"
CHECK_OVERDUE = timedelta(seconds=30)

queue_name_validator = RegexValidator(
    r"^[A-Za-z0-9_.-]{1,64}$",
    "A queue name is 1 to 64 letters, digits, dots, dashes or underscores.",
)


def driver_choices():
    # A callable, so that a new driver in the registry needs no migration.
    from clusters.providers import PROVIDERS

    return [(kind, label) for kind, (label, _path) in PROVIDERS.items()]


class CheckState(models.TextChoices):
    NEVER = "never", "never checked"
    PENDING = "pending", "checking…"
    OK = "ok", "ok"
    FAILED = "failed", "failed"


class CloudQuerySet(models.QuerySet):
    def site_wide(self):
        return self.filter(owner__isnull=True)

    def usable_by(self, user):
        """The user's own clouds and the site-wide ones."""
        return self.filter(Q(owner=user) | Q(owner__isnull=True))


class Cloud(models.Model):
    # Where its API is: the fields every form and the API edit the same way (driver options aside).
    ENDPOINT_FIELDS = ("host", "port", "path", "secure", "region", "zone")
    name = models.CharField(max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="clouds",
        help_text="Empty for a site-wide cloud, set up by staff and usable by every user.",
    )
    driver = models.CharField(max_length=32, choices=driver_choices)
    host = models.CharField(max_length=255, blank=True, help_text="Empty for the driver's default endpoint.")
    port = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    path = models.CharField(max_length=255, blank=True, help_text="The API's path on the host, if any.")
    secure = models.BooleanField("TLS", default=True, help_text="Talk to the endpoint over https.")
    region = models.CharField(max_length=100, blank=True)
    zone = models.CharField(max_length=100, blank=True)
    options = models.JSONField(
        default=dict, blank=True, help_text="The driver's other parameters (none of them secret)."
    )
    # Fernet ciphertext of {parameter: value} for the driver's sensitive parameters.
    credentials = models.TextField(blank=True, editable=False)
    # Fernet ciphertext of the key that seals the user-data in this cloud's create messages, so
    # that the broker never holds it readable; made on first use (message_key_value).
    message_key = models.TextField(blank=True, editable=False)
    api_concurrency = models.PositiveIntegerField(
        "API concurrency",
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="At most this many calls to the cloud at once.",
    )
    instance_quota = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most instances the portal runs here at once; empty for no limit."
    )
    queue = models.CharField(
        max_length=64,
        default=DEFAULT_QUEUE,
        validators=[queue_name_validator],
        help_text="The Celery queue whose workers (or gateway agent) call this cloud.",
    )
    served_by_agent = models.BooleanField(
        default=False,
        help_text="A gateway agent in the provider's network serves this cloud's queue with its own "
        "local credentials; the portal stores none.",
    )
    check_state = models.CharField(max_length=10, choices=CheckState.choices, default=CheckState.NEVER)
    check_message = models.TextField(blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = CloudQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="unique_cloud_name_per_owner"),
            # NULL owners are all different to the constraint above: site-wide names need their own.
            models.UniqueConstraint(
                fields=["name"], condition=Q(owner__isnull=True), name="unique_site_wide_cloud_name"
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("clusters:cloud_detail", args=[self.pk])

    @property
    def is_site_wide(self) -> bool:
        return self.owner_id is None

    @property
    def check_overdue(self) -> bool:
        """A test queued this long ago and still unanswered: probably nobody serves the queue."""
        return (
            self.check_state == CheckState.PENDING
            and self.checked_at is not None
            and timezone.now() - self.checked_at > CHECK_OVERDUE
        )

    def can_edit(self, user) -> bool:
        return self.owner_id == user.id if self.owner_id else user.is_staff

    @sensitive_variables("values")
    def set_credentials(self, values: dict) -> None:
        """Replace the stored credentials; empty values are dropped (nothing stored for them)."""
        kept = {name: value for name, value in values.items() if value not in ("", None)}
        self.credentials = encrypt_json(kept) if kept else ""

    @sensitive_variables()
    def credential_names(self) -> list[str]:
        """Which credentials are set (names only: the page shows a "set" badge for each); none
        when the stored ones cannot be decrypted any more."""
        try:
            return sorted(decrypt_json(self.credentials))
        except DecryptionError:
            return []

    @sensitive_variables()
    def message_key_value(self) -> str:
        """The key that seals the user-data of this cloud's create messages (its gateway agent holds
        it too); made the first time it is needed, once even when two processes ask at once."""
        if not self.message_key:
            made = encrypt(Fernet.generate_key().decode())
            Cloud.objects.filter(pk=self.pk, message_key="").update(message_key=made)
            self.message_key = Cloud.objects.values_list("message_key", flat=True).get(pk=self.pk)
        return decrypt(self.message_key)

    @sensitive_variables()
    def config(self) -> CloudConfig:
        return CloudConfig(
            message_key=self.message_key_value(),
            driver=self.driver,
            credentials=decrypt_json(self.credentials),
            host=self.host,
            port=self.port,
            path=self.path,
            secure=self.secure,
            region=self.region,
            zone=self.zone,
            options=dict(self.options or {}),
        )


class ServiceOffering(models.Model):
    """A size users choose by name ("small", "large"); mapped to each cloud's own size id."""

    name = models.CharField(max_length=50, unique=True)
    vcpus = models.PositiveIntegerField("vCPUs", validators=[MinValueValidator(1)])
    ram_mb = models.PositiveIntegerField("RAM (MiB)", validators=[MinValueValidator(1)])
    disk_gb = models.PositiveIntegerField("disk (GiB)", default=0)
    # What an hour of an instance of this offering costs the group (docs/costs.md); 0: not priced.
    price_per_hour = models.DecimalField(
        "price per hour", max_digits=10, decimal_places=4, default=0, validators=[MinValueValidator(0)]
    )
    active = models.BooleanField(default=True, help_text="Inactive offerings cannot be chosen for new roles.")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["vcpus", "ram_mb", "name"]

    def __str__(self):
        return self.name


class SizeMapping(models.Model):
    offering = models.ForeignKey(ServiceOffering, on_delete=models.CASCADE, related_name="mappings")
    cloud = models.ForeignKey(Cloud, on_delete=models.CASCADE, related_name="size_mappings")
    size_id = models.CharField("size id", max_length=100, help_text="The provider's own size (flavor) id.")

    class Meta:
        ordering = ["offering", "cloud"]
        constraints = [models.UniqueConstraint(fields=["offering", "cloud"], name="unique_size_mapping")]

    def __str__(self):
        return f"{self.offering} on {self.cloud}: {self.size_id}"


class CloudSize(models.Model):
    """One size a cloud offers, as its last sync found it; the source of mapping suggestions."""

    cloud = models.ForeignKey(Cloud, on_delete=models.CASCADE, related_name="sizes")
    size_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    vcpus = models.PositiveIntegerField(null=True, blank=True)
    ram_mb = models.PositiveIntegerField(null=True, blank=True)
    disk_gb = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["cloud", "vcpus", "ram_mb", "size_id"]
        constraints = [models.UniqueConstraint(fields=["cloud", "size_id"], name="unique_cloud_size")]

    def __str__(self):
        return f"{self.size_id} ({self.vcpus or '?'} vCPU, {self.ram_mb or '?'} MiB)"


def user_data_formats() -> list[tuple[str, str]]:
    """The formats the renderers know, asked when needed: a new format needs no migration."""
    return [(fmt, fmt) for fmt in render.FORMATS]


class Image(models.Model):
    """A logical image name on one cloud, and the user-data format the image understands (docs/user-data.md)."""

    cloud = models.ForeignKey(Cloud, on_delete=models.CASCADE, related_name="images")
    name = models.CharField(max_length=100, help_text='A name users recognise, e.g. "CernVM 4".')
    provider_id = models.CharField(
        "provider id", max_length=255, help_text="The cloud's image id, e.g. ami-…"
    )
    format = models.CharField(
        "user-data format", max_length=20, choices=user_data_formats, default="cloud-init"
    )

    class Meta:
        ordering = ["cloud", "name"]
        constraints = [models.UniqueConstraint(fields=["cloud", "name"], name="unique_image_name_per_cloud")]

    def __str__(self):
        return f"{self.name} on {self.cloud}"
