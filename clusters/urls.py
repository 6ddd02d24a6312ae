from django.urls import path

from clusters import views

app_name = "clusters"

urlpatterns = [
    path("", views.cloud_list, name="cloud_list"),
    path("new/", views.cloud_choose_driver, name="cloud_choose_driver"),
    path("new/<str:driver>/", views.cloud_create, name="cloud_create"),
    path("queues/", views.queue_list, name="queue_list"),
    path("<int:cloud_id>/", views.cloud_detail, name="cloud_detail"),
    path("<int:cloud_id>/edit/", views.cloud_edit, name="cloud_edit"),
    path("<int:cloud_id>/delete/", views.cloud_delete, name="cloud_delete"),
    path("<int:cloud_id>/check/", views.cloud_check, name="cloud_check"),
    path("<int:cloud_id>/check/status/", views.cloud_check_status, name="cloud_check_status"),
    path("<int:cloud_id>/queue/", views.cloud_queue_status, name="cloud_queue_status"),
    path("<int:cloud_id>/images/new/", views.image_add, name="image_add"),
    path("<int:cloud_id>/images/<int:image_id>/delete/", views.image_delete, name="image_delete"),
]
