from django.urls import path

from portal.sso import views

app_name = "sso"
urlpatterns = [
    path("authenticate/", views.StartLogin.as_view(), name="authenticate"),
    path("callback/", views.Callback.as_view(), name="callback"),
]
