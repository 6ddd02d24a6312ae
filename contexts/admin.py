from django.contrib import admin
from django.utils.html import format_html

from contexts.document import dump_yaml
from contexts.models import Profile, ProfileRevision, Tag
from contexts.secrets import redact


def _redacted_yaml(revision: ProfileRevision) -> str:
    # The stored document holds ciphertexts; the admin shows (and never edits) the redacted form.
    return format_html('<pre class="admin-yaml">{}</pre>', dump_yaml(redact(revision.document)))


class ProfileRevisionInline(admin.TabularInline):
    """Revisions are immutable: listed read-only, never added or changed here."""

    model = ProfileRevision
    fields = ["number", "author", "message", "created", "document_redacted"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="document (secrets redacted)")
    def document_redacted(self, revision):
        return _redacted_yaml(revision)


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "visibility", "revision", "updated"]

    class Media:
        css = {"all": ["contexts/admin.css"]}  # a class, not a style= the Content-Security-Policy forbids

    list_filter = ["visibility", "tags"]
    search_fields = ["name", "slug", "description", "owner__username"]
    list_select_related = ["owner", "latest"]
    raw_id_fields = ["owner", "forked_from"]
    readonly_fields = ["latest", "created", "updated"]
    filter_horizontal = ["tags"]
    inlines = [ProfileRevisionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("latest__document")

    @admin.display(description="revision", ordering="latest__number")
    def revision(self, profile):
        return profile.latest.number if profile.latest_id else None


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]
