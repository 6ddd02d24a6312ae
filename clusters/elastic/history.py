"""The queue samples a cluster's head reported, as history (docs/elastic.md, "Seeing it"): the page's
chart reads the last day of them, and an hourly task deletes those older than a week, so the
table stays bounded however long clusters run."""

from datetime import datetime, timedelta

from clusters.models import Cluster, QueueSample

CHART_WINDOW = timedelta(hours=24)
SAMPLES_KEPT = timedelta(days=7)


def chart_samples(cluster: Cluster, now: datetime) -> list:
    """The cluster's samples of the chart's window, oldest first: only the columns it draws (not
    each worker's state), only the rows of the window (`created` is indexed)."""
    samples = QueueSample.objects.filter(cluster=cluster, created__gte=now - CHART_WINDOW)
    return list(
        samples.order_by("created", "id").values_list(
            "created", "idle_jobs", "running_jobs", "instances", named=True
        )
    )


def prune_samples(now: datetime) -> int:
    """Delete the samples older than SAMPLES_KEPT; how many went. One DELETE: nothing refers to a
    sample, so Django needs not read them first."""
    deleted, _ = QueueSample.objects.filter(created__lt=now - SAMPLES_KEPT).delete()
    return deleted
