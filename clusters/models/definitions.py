"""Cluster definitions (docs/launches.md): named sets of roles, each a profile on an offering and an image,
with a count and the roles whose addresses it needs."""

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse

from contexts.models import Visibility

role_name_validator = RegexValidator(
    r"^[a-z][a-z0-9_]{0,31}$", "A role name is lower-case letters, digits and _, starting with a letter."
)


class ClusterDefinition(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="definitions")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="unique_definition_name_per_owner")
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("clusters:definition_detail", args=[self.pk])

    @property
    def is_public(self):
        return self.visibility == Visibility.PUBLIC


class Role(models.Model):
    definition = models.ForeignKey(ClusterDefinition, on_delete=models.CASCADE, related_name="roles")
    name = models.CharField(max_length=32, validators=[role_name_validator])
    profile = models.ForeignKey("contexts.Profile", on_delete=models.PROTECT, related_name="roles")
    pinned_revision = models.ForeignKey(
        "contexts.ProfileRevision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty: the profile's latest revision at launch time.",
    )
    offering = models.ForeignKey(
        "clusters.ServiceOffering", null=True, blank=True, on_delete=models.PROTECT, related_name="roles"
    )
    size = models.CharField(
        max_length=100,
        blank=True,
        help_text="A provider size id, for clouds with no mapping of the offering.",
    )
    image = models.ForeignKey(
        "clusters.Image",
        on_delete=models.PROTECT,
        related_name="roles",
        help_text="On another cloud, the image of the same name there is used.",
    )
    count = models.PositiveIntegerField(default=1)
    min_count = models.PositiveIntegerField(default=0)
    max_count = models.PositiveIntegerField(null=True, blank=True)
    depends_on = models.JSONField(default=list, blank=True)
    # An elastic role's size follows the batch queue its cluster's head reports (docs/elastic.md),
    # between min_count and max_count; a fixed role keeps `count`.
    elastic = models.BooleanField(default=False)
    jobs_per_worker = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    idle_seconds = models.PositiveIntegerField(
        "idle time before drain (s)",
        default=600,
        help_text="How long a worker stays idle before it is drained.",
    )
    cooldown_seconds = models.PositiveIntegerField(
        "cool-down (s)", default=120, help_text="The least time between two changes of the role's size."
    )
    drain_deadline_seconds = models.PositiveIntegerField(
        "drain deadline (s)",
        default=3600,
        validators=[MinValueValidator(1)],
        help_text="A worker still draining after this long is terminated anyway.",
    )
    # Ask for spot (preemptible) capacity where the cloud's driver offers it.
    spot = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        constraints = [models.UniqueConstraint(fields=["definition", "name"], name="unique_role_name")]

    def __str__(self):
        return f"{self.definition} / {self.name}"
