from django.contrib import admin

from portal.sso.models import FederatedIdentity


@admin.register(FederatedIdentity)
class FederatedIdentityAdmin(admin.ModelAdmin):
    """Staff may tie an existing local account to a provider's subject by adding a row here."""

    list_display = ["user", "subject", "issuer", "created", "last_login"]
    search_fields = ["user__username", "subject", "user__email"]
    readonly_fields = ["created", "last_login"]
    raw_id_fields = ["user"]
