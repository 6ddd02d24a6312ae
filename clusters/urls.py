"""The clusters app's pages: clouds, cluster definitions, clusters, and the marketplace's list of
definitions (docs/architecture.md). The REST API's paths are in clusters/api_urls.py."""

from django.urls import path

import portal.converters  # noqa: F401 - registers <id:...>
from clusters.marketplace import definition_browse
from clusters.views import clouds, costs, definitions, elastic, launches

app_name = "clusters"

urlpatterns = [
    path("clouds/", clouds.cloud_list, name="cloud_list"),
    path("clouds/new/", clouds.cloud_choose_driver, name="cloud_choose_driver"),
    path("clouds/new/<str:driver>/", clouds.cloud_create, name="cloud_create"),
    path("clouds/queues/", clouds.queue_list, name="queue_list"),
    path("clouds/<id:cloud_id>/", clouds.cloud_detail, name="cloud_detail"),
    path("clouds/<id:cloud_id>/edit/", clouds.cloud_edit, name="cloud_edit"),
    path("clouds/<id:cloud_id>/delete/", clouds.cloud_delete, name="cloud_delete"),
    path("clouds/<id:cloud_id>/check/", clouds.cloud_check, name="cloud_check"),
    path("clouds/<id:cloud_id>/check/status/", clouds.cloud_check_status, name="cloud_check_status"),
    path("clouds/<id:cloud_id>/queue/", clouds.cloud_queue_status, name="cloud_queue_status"),
    path("clouds/<id:cloud_id>/images/new/", clouds.image_add, name="image_add"),
    path("clouds/<id:cloud_id>/images/<id:image_id>/delete/", clouds.image_delete, name="image_delete"),
    path("definitions/", definitions.definition_list, name="definition_list"),
    path("definitions/new/", definitions.definition_create, name="definition_create"),
    path("definitions/<id:definition_id>/", definitions.definition_detail, name="definition_detail"),
    path("definitions/<id:definition_id>/edit/", definitions.definition_edit, name="definition_edit"),
    path("definitions/<id:definition_id>/delete/", definitions.definition_delete, name="definition_delete"),
    path("definitions/<id:definition_id>/launch/", launches.cluster_launch, name="cluster_launch"),
    path("clusters/", launches.cluster_list, name="cluster_list"),
    path("clusters/<id:cluster_id>/", launches.cluster_detail, name="cluster_detail"),
    path("clusters/<id:cluster_id>/live/", launches.cluster_live, name="cluster_live"),
    path("clusters/<id:cluster_id>/queue-chart/", elastic.cluster_elastic, name="cluster_elastic"),
    path("clusters/<id:cluster_id>/scale/", launches.cluster_scale, name="cluster_scale"),
    path("clusters/<id:cluster_id>/terminate/", launches.cluster_terminate, name="cluster_terminate"),
    path("clusters/<id:cluster_id>/retry/", launches.cluster_retry, name="cluster_retry"),
    path("clusters/<id:cluster_id>/budget/", costs.cluster_budget, name="cluster_budget"),
    path("usage/", costs.usage, name="usage"),
]

# Under /marketplace/, beside the profiles' pages (contexts.urls), in the "marketplace" namespace.
marketplace_urlpatterns = [path("definitions/", definition_browse, name="definitions")]
