from django.urls import path

from contexts import views

app_name = "contexts"

urlpatterns = [
    path("", views.profile_list, name="profile_list"),
    path("new/", views.profile_create, name="profile_create"),
    path("<int:profile_id>/", views.profile_detail, name="profile_detail"),
    path("<int:profile_id>/edit/", views.profile_edit, name="profile_edit"),
    path("<int:profile_id>/yaml/", views.profile_yaml, name="profile_yaml"),
    path("<int:profile_id>/settings/", views.profile_settings, name="profile_settings"),
    path("<int:profile_id>/history/", views.profile_history, name="profile_history"),
    path("<int:profile_id>/diff/", views.profile_diff, name="profile_diff"),
    path("<int:profile_id>/preview/<str:fmt>/", views.profile_preview, name="profile_preview"),
    path("<int:profile_id>/download/<str:fmt>/", views.profile_download, name="profile_download"),
    path("<int:profile_id>/delete/", views.profile_delete, name="profile_delete"),
]
