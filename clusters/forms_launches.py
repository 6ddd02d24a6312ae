"""Forms of the launch and cluster pages."""

from decimal import Decimal

from django import forms

from clusters.models import Cloud

NAME_HELP = "Lower-case letters, digits and dashes: it becomes part of every host name."


def budget_field(label: str, help_text: str) -> forms.DecimalField:
    """A budget (docs/costs.md): an amount of 0 or more, empty for none."""
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
        help_text=help_text,
        error_messages={
            "invalid": "Enter an amount such as 25 or 12.50, or leave it empty for no budget.",
            "min_value": "A budget cannot be negative: enter 0 or more, or leave it empty for no budget.",
        },
    )


class BudgetForm(forms.Form):
    """What elastic growth may spend: it never stops running instances."""

    budget_per_day = budget_field(
        "Budget per day", "Elastic growth stops where the cluster would cost more a day. Empty: none."
    )
    budget_total = budget_field(
        "Budget in total", "Elastic growth stops where the cluster would cost more in all. Empty: none."
    )


class LaunchForm(BudgetForm):
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
        self.order_fields([name for name in self.fields if not name.startswith("budget_")])  # budgets last

    def budgets(self) -> dict:
        return {
            "budget_per_day": self.cleaned_data["budget_per_day"],
            "budget_total": self.cleaned_data["budget_total"],
        }

    def placement(self) -> dict:
        default = self.cleaned_data["cloud"]
        return {name: self.cleaned_data.get(f"role_{name}") or default for name in self.role_names}


class ScaleForm(forms.Form):
    role = forms.CharField(max_length=32)
    count = forms.IntegerField(min_value=0, max_value=10000)
