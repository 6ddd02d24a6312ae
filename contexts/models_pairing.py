"""A VM waiting to be paired with a profile by PIN (docs/pairing.md); the logic is in contexts.pairing."""

from django.conf import settings
from django.db import models


class PairingRequest(models.Model):
    """One PIN a VM asked for. The VM polls with a separate token, stored hashed; the user-data is
    rendered again when it is collected, so no secret is kept here."""

    pin = models.CharField(max_length=8, unique=True)
    poll_token_hash = models.CharField(max_length=64, unique=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    requested_format = models.CharField(max_length=20, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="pairings"
    )
    profile = models.ForeignKey(
        "contexts.Profile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revision = models.ForeignKey(
        "contexts.ProfileRevision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    format = models.CharField(max_length=20, blank=True)
    redact = models.BooleanField(default=False)
    paired_at = models.DateTimeField(null=True, blank=True)
    collected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"pairing {self.pk} from {self.address or 'unknown address'}"

    @property
    def machine_name(self) -> str:
        return f"paired-{self.pk}"
