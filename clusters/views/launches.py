"""Launched cluster pages: launch a definition, watch the cluster come up live, scale a role,
retry failed instances, terminate (SPEC §6)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from clusters import launcher
from clusters.forms_launches import LaunchForm, ScaleForm
from clusters.models import Cluster, ClusterDefinition, ClusterState, InstanceState
from clusters.queues import unserved_queues

FINAL = (ClusterState.TERMINATED,)


def get_cluster_for_user(request, cluster_id) -> Cluster:
    cluster = get_object_or_404(Cluster, pk=cluster_id)
    if cluster.owner_id != request.user.id:
        raise Http404("No such cluster.")
    return cluster


def _launchable_definition(request, definition_id) -> ClusterDefinition:
    definition = get_object_or_404(ClusterDefinition, pk=definition_id)
    if definition.owner_id != request.user.id and not definition.is_public:
        raise Http404("No such definition.")
    return definition


@login_required
def cluster_launch(request, definition_id):
    definition = _launchable_definition(request, definition_id)
    roles = list(definition.roles.all())
    form = LaunchForm(
        request.POST or None, user=request.user, roles=roles, initial={"name": definition.name[:40]}
    )
    problems = []
    if request.method == "POST" and form.is_valid():
        placement = form.placement()
        unserved = unserved_queues(placement.values())
        if unserved and not request.POST.get("confirm_unserved"):
            problems = [f"nobody serves the queue {q!r} now: instances will wait until a worker or agent "
                        "does. Tick the box to launch anyway." for q in unserved]  # fmt: skip
        else:
            try:
                cluster = launcher.launch(definition, request.user, form.cleaned_data["name"], placement)
            except launcher.LaunchError as exc:
                problems = exc.messages
            else:
                messages.success(request, f"Launching {cluster.name}.")
                return redirect(cluster)
    context = {"definition": definition, "form": form, "problems": problems,
               "notices": launcher.notices(definition, request.user)}  # fmt: skip
    return render(request, "clusters/cluster_launch.html", context)


@login_required
def cluster_list(request):
    clusters = Cluster.objects.filter(owner=request.user).annotate(
        live=Count("instances", filter=Q(instances__state__in=[InstanceState.RUNNING, InstanceState.READY])),
        total=Count("instances", filter=~Q(instances__state=InstanceState.TERMINATED)),
    )
    return render(request, "clusters/cluster_list.html", {"clusters": clusters})


def _live_context(cluster) -> dict:
    instances = list(cluster.instances.select_related("cloud").order_by("role", "index"))
    wanted = [i for i in instances if i.state != InstanceState.TERMINATED]
    up = [i for i in wanted if i.state in (InstanceState.RUNNING, InstanceState.READY)]
    roles = []
    for role in cluster.snapshot["roles"]:
        mine = [i for i in wanted if i.role == role["name"]]
        counts = {}
        for instance in mine:
            counts[instance.state] = counts.get(instance.state, 0) + 1
        roles.append({"name": role["name"], "live": len(mine), "counts": sorted(counts.items()), **role})
    return {
        "cluster": cluster, "roles": roles, "instances": wanted, "events": cluster.events.all()[:30],
        "progress": round(100 * len(up) / len(wanted)) if wanted else 100, "up": len(up), "wanted": len(wanted),
        "again": cluster.state not in FINAL, "failed": sum(1 for i in wanted if i.state == InstanceState.FAILED),
    }  # fmt: skip


@login_required
def cluster_detail(request, cluster_id):
    cluster = get_cluster_for_user(request, cluster_id)
    retry = launcher.retry_revisions(cluster)
    context = {**_live_context(cluster), "retry": retry, "newer_revisions": any(r["latest"] for r in retry)}
    return render(request, "clusters/cluster_detail.html", context)


@login_required
def cluster_live(request, cluster_id):
    cluster = get_cluster_for_user(request, cluster_id)
    return render(request, "clusters/partials/cluster_live.html", _live_context(cluster))


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
    return redirect(cluster)


@login_required
@require_POST
def cluster_terminate(request, cluster_id):
    cluster = get_cluster_for_user(request, cluster_id)
    if cluster.state != ClusterState.TERMINATED:
        launcher.terminate(cluster)
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
    messages.info(request, f"Retrying {count} failed instances." if count else "No failed instance to retry.")
    return redirect(cluster)


urlpatterns = [
    path("definitions/<int:definition_id>/launch/", cluster_launch, name="cluster_launch"),
    path("clusters/", cluster_list, name="cluster_list"),
    path("clusters/<int:cluster_id>/", cluster_detail, name="cluster_detail"),
    path("clusters/<int:cluster_id>/live/", cluster_live, name="cluster_live"),
    path("clusters/<int:cluster_id>/scale/", cluster_scale, name="cluster_scale"),
    path("clusters/<int:cluster_id>/terminate/", cluster_terminate, name="cluster_terminate"),
    path("clusters/<int:cluster_id>/retry/", cluster_retry, name="cluster_retry"),
]
