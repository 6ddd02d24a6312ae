"""Admin of clouds, service offerings with their size mappings, images and synced sizes.

A cloud's credentials are write-only here too: a JSON object typed into a field that is never
filled back (blank keeps the stored ones); the page only says which credentials are set. A cloud
served by a gateway agent stores none: they live in the agent's agent.toml (docs/gateway-agents.md).
"""

import json

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html_join
from django.views.decorators.debug import sensitive_variables
from kombu.exceptions import OperationalError

from clusters import clouds
from clusters.definitions import ROLE_FIELDS
from clusters.models import (
    DEFAULT_QUEUE,
    Cloud,
    CloudSize,
    ClusterDefinition,
    Image,
    Role,
    ServiceOffering,
    SizeMapping,
)
from clusters.providers import provider_class
from clusters.queues import send_to_cloud_queue
from clusters.tasks import start_check, sync_cloud_task


class WriteOnlyTextarea(forms.Textarea):
    """Never renders a value, not even the one just posted with an error elsewhere in the form."""

    def format_value(self, value):
        return None


class CloudAdminForm(forms.ModelForm):
    new_credentials = forms.CharField(
        label="Credentials",
        required=False,
        widget=WriteOnlyTextarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text='A JSON object of the driver\'s secret parameters, e.g. {"key": "…", "secret": "…"}. '
        "Stored encrypted and never shown; leave blank to keep the stored credentials.",
    )

    class Meta:
        model = Cloud
        fields = [
            "name",
            "owner",
            "driver",
            "served_by_agent",
            *Cloud.ENDPOINT_FIELDS,
            "options",
            "api_concurrency",
            "instance_quota",
            "queue",
        ]
        labels = {"served_by_agent": "Served by a gateway agent"}

    @sensitive_variables("value", "text")
    def clean_new_credentials(self):
        text = self.cleaned_data["new_credentials"].strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            raise forms.ValidationError('Not valid JSON: write an object such as {"key": "…"}.')
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise forms.ValidationError("Write a JSON object of names to text values.")
        return value

    @sensitive_variables("credentials")
    def clean(self):
        data = super().clean()
        credentials, driver = data.get("new_credentials"), data.get("driver")
        if data.get("served_by_agent"):
            if credentials:
                self.add_error(
                    "new_credentials",
                    "A cloud served by a gateway agent stores no credentials: they "
                    "go in the agent's agent.toml. Leave this blank.",
                )
            if data.get("queue") == DEFAULT_QUEUE:
                self.add_error(
                    "queue",
                    "A gateway agent serves a queue of its own: name one for this cloud. The "
                    f"{DEFAULT_QUEUE} queue belongs to the portal's workers, which hold no credentials "
                    "for a cloud an agent serves.",
                )
        elif credentials and driver:
            allowed = {p.name for p in provider_class(driver).parameters if p.sensitive}
            unknown = sorted(set(credentials) - allowed)
            if unknown:
                self.add_error(
                    "new_credentials",
                    f"Not a secret parameter of this driver: {', '.join(unknown)} "
                    f"(it takes: {', '.join(sorted(allowed)) or 'none'}).",
                )
        return data

    @sensitive_variables()
    def save(self, commit=True):
        cloud = super().save(commit=False)
        if cloud.served_by_agent:
            cloud.set_credentials({})
        elif self.cleaned_data.get("new_credentials"):
            cloud.set_credentials(self.cleaned_data["new_credentials"])
        if commit:
            cloud.save()
        return cloud


def _queue(modeladmin, request, queryset, send, what):
    done = 0
    for cloud in queryset:
        try:
            send(cloud)
        except OperationalError:
            modeladmin.message_user(
                request, "The task broker is unreachable: nothing queued.", messages.ERROR
            )
            return
        done += 1
    modeladmin.message_user(request, f"{what} queued for {done} cloud{'s' if done != 1 else ''}.")


def _sync(cloud):
    send_to_cloud_queue(sync_cloud_task, cloud, cloud.pk)


@admin.register(Cloud)
class CloudAdmin(admin.ModelAdmin):
    form = CloudAdminForm
    list_display = ["name", "driver", "owner_or_site_wide", "queue", "check_state", "checked_at"]
    list_filter = ["driver", "check_state", "queue"]
    search_fields = ["name", "host", "owner__username"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    readonly_fields = [
        "stored_credentials",
        "check_state",
        "check_message",
        "checked_at",
        "created",
        "updated",
    ]
    fieldsets = [
        (None, {"fields": ["name", "owner", "driver", "served_by_agent"]}),
        ("Endpoint", {"fields": ["host", "port", "path", "secure", "region", "zone", "options"]}),
        ("Credentials", {"fields": ["stored_credentials", "new_credentials"]}),
        ("Limits and queue", {"fields": ["api_concurrency", "instance_quota", "queue"]}),
        ("Last check", {"fields": ["check_state", "check_message", "checked_at", "created", "updated"]}),
    ]
    actions = ["test_connection", "sync_sizes_and_images"]

    @admin.display(description="owner", ordering="owner__username")
    def owner_or_site_wide(self, cloud):
        return cloud.owner.username if cloud.owner_id else "site-wide"

    @admin.display(description="stored credentials")
    def stored_credentials(self, cloud):
        if cloud.served_by_agent:
            return "none: its gateway agent keeps them"
        names = cloud.credential_names() if cloud.pk else []
        return f"set: {', '.join(names)}" if names else "none"

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        _queue(self, request, queryset, start_check, "A connection test")

    @admin.action(description="Sync sizes and images")
    def sync_sizes_and_images(self, request, queryset):
        # A sync stores what it finds, so it needs the database: portal workers only.
        skipped = queryset.filter(served_by_agent=True).count()
        if skipped:
            self.message_user(
                request,
                f"Skipped {skipped} cloud{'s' if skipped != 1 else ''} served by a "
                "gateway agent: sizes are synced by portal workers only.",
                messages.WARNING,
            )
        _queue(self, request, queryset.filter(served_by_agent=False), _sync, "A sync of sizes and images")


class SizeMappingInline(admin.TabularInline):
    model = SizeMapping
    fields = ["cloud", "size_id"]
    extra = 1


@admin.register(ServiceOffering)
class ServiceOfferingAdmin(admin.ModelAdmin):
    list_display = ["name", "vcpus", "ram_mb", "disk_gb", "price_per_hour", "active", "mapped_clouds"]
    list_filter = ["active"]
    search_fields = ["name", "description"]
    readonly_fields = ["suggestions"]
    fieldsets = [
        (None, {"fields": ["name", "description", "active"]}),
        (
            "Size and price",
            {
                "fields": ["vcpus", "ram_mb", "disk_gb", "price_per_hour"],
                # Clusters are priced as launched (docs/costs.md): a change reaches new launches only.
                "description": "vCPUs are the cores of core-hours. A price is per instance-hour, in the "
                "portal's one currency; 0 leaves the offering unpriced. Clusters keep the price they "
                "were launched with.",
            },
        ),
        ("Suggestions", {"fields": ["suggestions"]}),
    ]
    inlines = [SizeMappingInline]
    actions = ["fill_missing_mappings"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("mappings")

    @admin.display(description="mapped clouds")
    def mapped_clouds(self, offering):
        return len(offering.mappings.all())

    @admin.display(description="suggested sizes for unmapped clouds")
    def suggestions(self, offering):
        if not offering.pk:
            return "—"
        found = clouds.suggest_mappings([offering])
        if not found:
            return "none (every cloud with synced sizes is mapped; sync a cloud to get suggestions)"
        return format_html_join(
            "",
            "<div>{}: <code>{}</code> ({} vCPU, {} MiB)</div>",
            ((s.cloud, s.size.size_id, s.size.vcpus, s.size.ram_mb) for s in found),
        )

    @admin.action(description="Fill missing size mappings from suggestions")
    def fill_missing_mappings(self, request, queryset):
        made = clouds.fill_missing_mappings(queryset)
        self.message_user(
            request, f"Made {made} size mapping{'s' if made != 1 else ''} from the synced sizes."
        )


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["name", "cloud", "provider_id", "format"]
    list_filter = ["format"]
    search_fields = ["name", "provider_id", "cloud__name"]
    list_select_related = ["cloud"]


@admin.register(CloudSize)
class CloudSizeAdmin(admin.ModelAdmin):
    """What the last sync found: read-only, replaced by the next sync."""

    list_display = ["size_id", "name", "cloud", "vcpus", "ram_mb", "disk_gb"]
    list_filter = ["cloud"]
    search_fields = ["size_id", "name"]
    list_select_related = ["cloud"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RoleInline(admin.TabularInline):
    model = Role
    fields = [*ROLE_FIELDS, "position"]
    raw_id_fields = ["profile", "pinned_revision", "image"]
    extra = 0


@admin.register(ClusterDefinition)
class ClusterDefinitionAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "visibility", "updated"]
    list_filter = ["visibility"]
    search_fields = ["name", "description", "owner__username"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    inlines = [RoleInline]
