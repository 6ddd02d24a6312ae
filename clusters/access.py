"""Who may reach which object of the clusters app, for its pages and its API alike: every view
reaches a cloud, a definition or a cluster through these, so another user's private object is a 404
(docs/security.md)."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from clusters.models import Cloud, Cluster, ClusterDefinition


def get_cloud_for_user(request, cloud_id, *, write=False) -> Cloud:
    cloud = get_object_or_404(Cloud.objects.select_related("owner"), pk=cloud_id)
    if cloud.owner_id == request.user.id or (cloud.is_site_wide and (request.user.is_staff or not write)):
        return cloud
    raise Http404("No such cloud.")


def get_definition_for_user(request, definition_id, *, write=False) -> ClusterDefinition:
    definition = get_object_or_404(ClusterDefinition.objects.select_related("owner"), pk=definition_id)
    if definition.owner_id == request.user.id or (definition.is_public and not write):
        return definition
    raise Http404("No such cluster definition.")


def get_cluster_for_user(request, cluster_id) -> Cluster:
    cluster = get_object_or_404(Cluster, pk=cluster_id)
    if cluster.owner_id != request.user.id:
        raise Http404("No such cluster.")
    return cluster
