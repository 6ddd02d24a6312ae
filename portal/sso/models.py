from django.conf import settings
from django.db import models


class FederatedIdentity(models.Model):
    """A person at an OpenID Connect provider, tied to one portal account.

    The provider's `sub` is stable and never given to anyone else at that issuer (OIDC Core 2), so
    (issuer, subject) names the person; an e-mail address or a user name can change hands, and is
    never used to find the account (docs/login.md, "Who is who")."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created = models.DateTimeField(auto_now_add=True)
    last_login = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="one_account_per_identity")]
        verbose_name_plural = "federated identities"

    def __str__(self):
        return f"{self.subject} at {self.issuer}"
