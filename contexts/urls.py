from django.urls import path

from contexts import views

app_name = "contexts"

urlpatterns = [
    path("", views.profile_list, name="profile_list"),
    path("new/", views.profile_create, name="profile_create"),
    path("<int:profile_id>/", views.profile_detail, name="profile_detail"),
]
