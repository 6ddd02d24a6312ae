from django.urls import path

from clusters.views import clouds, definitions, launches

app_name = "clusters"

urlpatterns = [
    path("clouds/", clouds.cloud_list, name="cloud_list"),
    path("clouds/new/", clouds.cloud_choose_driver, name="cloud_choose_driver"),
    path("clouds/new/<str:driver>/", clouds.cloud_create, name="cloud_create"),
    path("clouds/queues/", clouds.queue_list, name="queue_list"),
    path("clouds/<int:cloud_id>/", clouds.cloud_detail, name="cloud_detail"),
    path("clouds/<int:cloud_id>/edit/", clouds.cloud_edit, name="cloud_edit"),
    path("clouds/<int:cloud_id>/delete/", clouds.cloud_delete, name="cloud_delete"),
    path("clouds/<int:cloud_id>/check/", clouds.cloud_check, name="cloud_check"),
    path("clouds/<int:cloud_id>/check/status/", clouds.cloud_check_status, name="cloud_check_status"),
    path("clouds/<int:cloud_id>/queue/", clouds.cloud_queue_status, name="cloud_queue_status"),
    path("clouds/<int:cloud_id>/images/new/", clouds.image_add, name="image_add"),
    path("clouds/<int:cloud_id>/images/<int:image_id>/delete/", clouds.image_delete, name="image_delete"),
    *definitions.urlpatterns,
    *launches.urlpatterns,
]
