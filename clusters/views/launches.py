"""Launched cluster pages: launch a definition, watch the cluster come up live, scale a role,
retry failed instances, terminate (docs/launches.md)."""

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from audit import record
from clusters import costs, launcher
from clusters.access import get_cluster_for_user, get_definition_for_user
from clusters.forms_launches import BudgetForm, LaunchForm, ScaleForm
from clusters.models import Cluster, ClusterState, Instance, InstanceState
from clusters.models.launches import UP_STATES, summary
from clusters.queues import unserved_queues
from clusters.views.elastic import elastic_part

INSTANCES_PER_PAGE = 100
# What the instance table shows: the page reads no more of each row (not the token hash, nor
# the messages instances sent).
INSTANCE_COLUMNS = (
    "name",
    "state",
    "checkin_status",
    "last_error",
    "private_ips",
    "public_ips",
    "node_id",
    "drain_requested_at",
    "end_reason",
    "cloud__name",
)


@login_required
def cluster_launch(request, definition_id):
    definition = get_definition_for_user(request, definition_id)
    roles = list(definition.roles.all())
    form = LaunchForm(
        request.POST or None, user=request.user, roles=roles, initial={"name": definition.name[:40]}
    )
    problems, placement = [], None
    if request.method == "POST" and form.is_valid():
        placement = form.placement()
        unserved = unserved_queues(placement.values())
        if unserved and not request.POST.get("confirm_unserved"):
            problems = [
                f"nobody serves the queue {q!r} now: instances will wait until a worker or agent "
                "does. Tick the box to launch anyway."
                for q in unserved
            ]
        else:
            try:
                cluster = launcher.launch(
                    definition, request.user, form.cleaned_data["name"], placement, **form.budgets()
                )
            except launcher.LaunchError as exc:
                problems = exc.messages
            else:
                record.launch(request, cluster)
                messages.success(request, f"Launching {cluster.name}.")
                return redirect(cluster)
    context = {
        "definition": definition,
        "form": form,
        "problems": problems,
        "notices": launcher.notices(definition, request.user, placement),
    }
    return render(request, "clusters/cluster_launch.html", context)


@login_required
def cluster_list(request):
    clusters = Cluster.objects.filter(owner=request.user).annotate(
        live=Count("instances", filter=Q(instances__state__in=UP_STATES)),
        total=Count("instances", filter=~Q(instances__state=InstanceState.TERMINATED)),
    )
    return render(request, "clusters/cluster_list.html", {"clusters": clusters})


def _live_context(request, cluster) -> dict:
    """Progress and roles from counts of every instance; the instance table a page at a time. The
    live part is fetched every two seconds while the page is open, and a cluster may have
    thousands of instances."""
    counts = (
        cluster.instances.exclude(state=InstanceState.TERMINATED)
        .values_list("role", "state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_role, states = defaultdict(dict), defaultdict(int)
    for role_name, state, n in counts:
        by_role[role_name][state] = n
        states[state] += n
    roles = [
        {
            "name": role["name"],
            "live": sum(by_role[role["name"]].values()),
            "counts": sorted(by_role[role["name"]].items()),
            **role,
        }
        for role in cluster.snapshot["roles"]
    ]
    shown = (
        # Not cluster.instances: it would read each row's (deferred) cluster_id, a query per row.
        Instance.objects.filter(cluster=cluster)
        .exclude(state=InstanceState.TERMINATED)
        .select_related("cloud")
        .only(*INSTANCE_COLUMNS)
        .order_by("role", "index")
    )
    page = Paginator(shown, INSTANCES_PER_PAGE).get_page(request.GET.get("page"))
    return {
        "cluster": cluster,
        "roles": roles,
        "instances": page.object_list,
        "instances_page": page,
        "events": cluster.events.all()[:30],
        "again": cluster.state != ClusterState.TERMINATED,
        **summary(states),
    }


@login_required
def cluster_detail(request, cluster_id):
    cluster = get_cluster_for_user(request, cluster_id)
    retry = launcher.retry_revisions(cluster)
    context = {
        **_live_context(request, cluster),
        "retry": retry,
        "newer_revisions": any(r["latest"] for r in retry),
        "elastic": elastic_part(cluster),
        "costs": costs.cluster_costs(cluster, timezone.now()),
        "budget_form": BudgetForm(
            initial={"budget_per_day": cluster.budget_per_day, "budget_total": cluster.budget_total}
        ),
    }
    return render(request, "clusters/cluster_detail.html", context)


@login_required
def cluster_live(request, cluster_id):
    cluster = get_cluster_for_user(request, cluster_id)
    return render(request, "clusters/partials/cluster_live.html", _live_context(request, cluster))


@login_required
@require_POST
def cluster_scale(request, cluster_id):
    cluster = get_cluster_for_user(request, cluster_id)
    form = ScaleForm(request.POST)
    if not form.is_valid() or form.cleaned_data["role"] not in [r["name"] for r in cluster.snapshot["roles"]]:
        messages.error(request, "Choose a role of this cluster and a count.")
        return redirect(cluster)
    try:
        launcher.scale(cluster, form.cleaned_data["role"], form.cleaned_data["count"])
    except launcher.LaunchError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        record.scale(request, cluster, form.cleaned_data["role"], form.cleaned_data["count"])
    return redirect(cluster)


@login_required
@require_POST
def cluster_terminate(request, cluster_id):
    cluster = get_cluster_for_user(request, cluster_id)
    if cluster.state != ClusterState.TERMINATED:
        launcher.terminate(cluster)
        record.terminate(request, cluster)
        messages.info(request, f"Terminating {cluster.name}: every node is destroyed, then checked gone.")
    return redirect(cluster)


@login_required
@require_POST
def cluster_retry(request, cluster_id):
    cluster = get_cluster_for_user(request, cluster_id)
    try:
        count = launcher.retry_failed(cluster, latest=request.POST.get("revision") == "latest")
    except launcher.LaunchError as exc:
        messages.error(request, "Not retried: " + "; ".join(exc.messages))
        return redirect(cluster)
    if count:
        record.retry(request, cluster, count, latest=request.POST.get("revision") == "latest")
    messages.info(request, f"Retrying {count} failed instances." if count else "No failed instance to retry.")
    return redirect(cluster)
