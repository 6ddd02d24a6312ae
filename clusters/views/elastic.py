"""A cluster's queue chart on its page (docs/elastic.md, "Seeing it"): idle jobs and workers over
the last day, fetched again by htmx while the cluster is not terminated. The events the elastic
policy writes show in the page's live part with every other event."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe

from clusters.access import get_cluster_for_user
from clusters.charts import queue_chart
from clusters.elastic.history import CHART_WINDOW, chart_samples
from clusters.models import Cluster, ClusterState


def elastic_part(cluster: Cluster) -> dict | None:
    """What the chart's partial shows, or None for a cluster that has no elastic role and no
    reports of its queue: it has no chart."""
    now = timezone.localtime()
    samples = chart_samples(cluster, now)
    if not samples and not cluster.elastic:
        return None
    points = [(s.created, s.idle_jobs, s.instances) for s in samples]
    return {
        # queue_chart escapes every text it writes.
        "chart": mark_safe(queue_chart(points, now=now, title=f"Idle jobs and workers of {cluster.name}")),  # noqa: S308
        "latest": samples[-1] if samples else None,
        "window_hours": int(CHART_WINDOW.total_seconds() // 3600),
        "again": cluster.state != ClusterState.TERMINATED,
    }


@login_required
def cluster_elastic(request, cluster_id):
    cluster = get_cluster_for_user(request, cluster_id)
    return render(
        request,
        "clusters/partials/cluster_elastic.html",
        {"cluster": cluster, "elastic": elastic_part(cluster)},
    )
