"""Forms of the launch and cluster pages."""

from django import forms

from clusters.models import Cloud

NAME_HELP = "Lower-case letters, digits and dashes: it becomes part of every host name."


class LaunchForm(forms.Form):
    name = forms.RegexField(
        regex=r"^[a-z][a-z0-9-]{0,39}$",
        max_length=40,
        help_text=NAME_HELP,
        error_messages={"invalid": NAME_HELP},
    )
    cloud = forms.ModelChoiceField(
        queryset=Cloud.objects.none(),
        help_text="Where every role runs, unless a role below names another cloud.",
    )

    def __init__(self, *args, user, roles, **kwargs):
        super().__init__(*args, **kwargs)
        clouds = Cloud.objects.usable_by(user)
        self.fields["cloud"].queryset = clouds.order_by("name")
        self.role_names = [role.name for role in roles]
        for name in self.role_names:
            self.fields[f"role_{name}"] = forms.ModelChoiceField(
                queryset=clouds.order_by("name"),
                required=False,
                label=f"Cloud for {name}",
                empty_label="(the cloud above)",
            )

    def placement(self) -> dict:
        default = self.cleaned_data["cloud"]
        return {name: self.cleaned_data.get(f"role_{name}") or default for name in self.role_names}


class ScaleForm(forms.Form):
    role = forms.CharField(max_length=32)
    count = forms.IntegerField(min_value=0, max_value=10000)
