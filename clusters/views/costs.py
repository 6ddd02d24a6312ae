"""What clusters cost (docs/costs.md): a cluster's budget, set from its page, and the usage page
that sums a user's clusters per month."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from audit import record
from clusters import costs
from clusters.access import get_cluster_for_user
from clusters.forms_launches import BudgetForm


@login_required
@require_POST
def cluster_budget(request, cluster_id):
    cluster = get_cluster_for_user(request, cluster_id)
    form = BudgetForm({} if request.POST.get("clear") else request.POST)
    if not form.is_valid():
        problems = [f"{form.fields[name].label}: {e}" for name, errors in form.errors.items() for e in errors]
        messages.error(request, "Budget not changed. " + " ".join(problems))
        return redirect(cluster)
    per_day, total = form.cleaned_data["budget_per_day"], form.cleaned_data["budget_total"]
    costs.set_budget(cluster, per_day, total)
    record.budget(request, cluster)
    messages.success(request, f"Budget of {cluster.name}: {costs.describe_budget(per_day, total)}.")
    return redirect(cluster)


@login_required
def usage(request):
    return render(
        request, "clusters/usage.html", {"months": costs.monthly_usage(request.user, timezone.now())}
    )
