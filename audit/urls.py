from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("", views.record_list, name="record_list"),
    path("records.csv", views.record_csv, name="record_csv"),
    path("addresses/", views.address_list, name="address_list"),
    path("addresses.csv", views.address_csv, name="address_csv"),
]
