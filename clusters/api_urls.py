"""The clusters app's REST API under /api/v1/ (docs/api.md): for people and scripts (a user's token
or session), and the instance API the VMs call with their instance token (clusters.instance_api).
Paths are a contract: extend, don't rename."""

from django.urls import path, re_path

import portal.converters  # noqa: F401 - registers <id:...>
from clusters import api_costs, api_launch, api_resources, instance_api

urlpatterns = [
    path("clouds/", api_resources.CloudList.as_view(), name="api_cloud_list"),
    path("clouds/<id:cloud_id>/", api_resources.CloudDetail.as_view(), name="api_cloud_detail"),
    path("clouds/<id:cloud_id>/check/", api_resources.CloudCheck.as_view(), name="api_cloud_check"),
    path("offerings/", api_resources.OfferingList.as_view(), name="api_offering_list"),
    path("images/", api_resources.ImageList.as_view(), name="api_image_list"),
    path("images/<id:image_id>/", api_resources.ImageDetail.as_view(), name="api_image_detail"),
    path("cluster-definitions/", api_launch.DefinitionList.as_view(), name="api_definition_list"),
    path(
        "cluster-definitions/<id:definition_id>/",
        api_launch.DefinitionDetail.as_view(),
        name="api_definition_detail",
    ),
    path("clusters/", api_launch.ClusterList.as_view(), name="api_cluster_list"),
    path("clusters/<id:cluster_id>/", api_launch.ClusterDetail.as_view(), name="api_cluster_detail"),
    path("clusters/<id:cluster_id>/scale/", api_launch.ClusterScale.as_view(), name="api_cluster_scale"),
    path(
        "clusters/<id:cluster_id>/terminate/",
        api_launch.ClusterTerminate.as_view(),
        name="api_cluster_terminate",
    ),
    path("clusters/<id:cluster_id>/retry/", api_launch.ClusterRetry.as_view(), name="api_cluster_retry"),
    path("clusters/<id:cluster_id>/budget/", api_costs.ClusterBudget.as_view(), name="api_cluster_budget"),
    # For VMs.
    re_path(r"^instance/checkin/?$", instance_api.InstanceCheckin.as_view(), name="api_instance_checkin"),
    # Any key reaches the view, which answers a malformed one with a JSON 400.
    re_path(r"^instance/queue/?$", instance_api.InstanceQueue.as_view(), name="api_instance_queue"),
    re_path(r"^instance/kv/(?P<key>.+)$", instance_api.instance_kv, name="api_instance_kv"),
]
