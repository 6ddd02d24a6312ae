import secrets as _secrets

from django.conf import settings
from django.db import models
from django.urls import reverse


class Tag(models.Model):
    name = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private"
    PUBLIC = "public", "Public"


class Profile(models.Model):
    """A named context profile; its content lives in immutable revisions (docs/profiles.md)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profiles")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    description = models.TextField(blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE)
    tags = models.ManyToManyField(Tag, blank=True, related_name="profiles")
    forked_from = models.ForeignKey(
        "ProfileRevision", null=True, blank=True, on_delete=models.SET_NULL, related_name="forks"
    )
    latest = models.ForeignKey(
        "ProfileRevision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "slug"], name="unique_profile_slug_per_owner")
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("contexts:profile_detail", args=[self.pk])

    @property
    def is_public(self):
        return self.visibility == Visibility.PUBLIC


def _new_salt():
    return _secrets.token_hex(16)


class ProfileRevision(models.Model):
    """One saved state of a profile. Never changed after creation: edits make a new revision.

    `document` is the sealed form (secrets encrypted, see contexts.secrets); `salt` seeds the
    password hashes of this revision so every rendering of it gives the same bytes.
    """

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    document = models.JSONField()
    salt = models.CharField(max_length=32, default=_new_salt, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "number"], name="unique_revision_number"),
        ]

    def __str__(self):
        return f"{self.profile} r{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("profile revisions are immutable; save a new revision instead")
        super().save(*args, **kwargs)


class Star(models.Model):
    """A user's star on a public profile (docs/marketplace.md): one per user and profile."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stars")
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="stars")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "profile"], name="unique_star_per_user")]

    def __str__(self):
        return f"{self.user} ★ {self.profile}"


from contexts.models_pairing import PairingRequest  # noqa: E402,F401
