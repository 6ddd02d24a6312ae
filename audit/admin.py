"""The audit trail in the admin: staff read it, nobody adds, changes or deletes a row (docs/audit.md)."""

from django.contrib import admin

from audit.models import AuditRecord, InstanceAddress


class ReadOnlyAdmin(admin.ModelAdmin):
    actions = None  # not even "delete selected"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    list_display = ("created", "username", "address", "action", "object_type", "object_name", "summary")
    list_filter = ("action", "object_type")
    search_fields = ("username", "address", "object_name", "summary")
    date_hierarchy = "created"


@admin.register(InstanceAddress)
class InstanceAddressAdmin(ReadOnlyAdmin):
    list_display = ("address", "kind", "mac", "instance_name", "cluster_name", "owner_username", "seen_from",
                    "seen_until")  # fmt: skip
    list_filter = ("kind",)
    search_fields = ("address", "mac", "node_id", "instance_name", "cluster_name", "owner_username")
    date_hierarchy = "seen_from"
