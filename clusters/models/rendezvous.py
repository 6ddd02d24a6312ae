"""The rendezvous store (docs/launches.md): facts a cluster's instances publish for each other, such as the
master's address that workers wait for. Keys are scoped to one cluster."""

from django.core.validators import RegexValidator
from django.db import models

# Also URL path segments: "." and ".." would be resolved away by HTTP clients (RFC 3986 §5.2.4).
KEY_PATTERN = r"^(?!\.\.?$)[A-Za-z0-9_.-]{1,128}$"
MAX_VALUE_BYTES = 64 * 1024


class RendezvousEntry(models.Model):
    cluster = models.ForeignKey("clusters.Cluster", on_delete=models.CASCADE, related_name="rendezvous")
    key = models.CharField(max_length=128, validators=[RegexValidator(KEY_PATTERN)])
    value = models.TextField()  # at most MAX_VALUE_BYTES in UTF-8, checked by clusters.rendezvous
    written_by = models.ForeignKey(
        "clusters.Instance", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cluster", "key"]
        constraints = [models.UniqueConstraint(fields=["cluster", "key"], name="unique_rendezvous_key")]
        verbose_name_plural = "rendezvous entries"

    def __str__(self):
        return self.key
