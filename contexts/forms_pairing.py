"""The /pair/ form: a PIN, a profile the user may read (own or public) and a format."""

from __future__ import annotations

from django import forms
from django.db.models import Case, Q, Value, When

from contexts.models import Profile, Visibility
from contexts.pairing import PIN_LENGTH
from contexts.render import FORMATS


class ProfileChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        if obj.owner_id == self.user.pk:
            return obj.name
        return f"{obj.name} — public, by {obj.owner.username}"


class PairForm(forms.Form):
    pin = forms.CharField(
        label="PIN",
        max_length=PIN_LENGTH + 4,  # room for the spaces or dashes people type
        help_text="The 8 characters the machine shows.",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "autofocus": True}
        ),
    )
    profile = ProfileChoice(queryset=Profile.objects.none(), empty_label="Choose a profile")
    format = forms.ChoiceField(
        choices=[("", "As the machine asked (cloud-init unless it said otherwise)")]
        + [(f, f) for f in FORMATS],
        required=False,
    )

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        readable = Q(owner=user) | Q(visibility=Visibility.PUBLIC)
        own_first = Case(When(owner=user, then=Value(0)), default=Value(1))
        field = self.fields["profile"]
        field.user = user
        field.queryset = (
            Profile.objects.filter(readable, latest__isnull=False)
            .select_related("owner", "latest")
            .defer("latest__document")
            .order_by(own_first, "name")
        )
