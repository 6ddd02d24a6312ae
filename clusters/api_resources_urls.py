"""REST API for clouds, offerings and images under /api/v1/ (docs/api.md)."""

from django.urls import path

import portal.converters  # noqa: F401 - registers <id:...>
from clusters import api_resources as api

urlpatterns = [
    path("clouds/", api.CloudList.as_view(), name="api_cloud_list"),
    path("clouds/<id:cloud_id>/", api.CloudDetail.as_view(), name="api_cloud_detail"),
    path("clouds/<id:cloud_id>/check/", api.CloudCheck.as_view(), name="api_cloud_check"),
    path("offerings/", api.OfferingList.as_view(), name="api_offering_list"),
    path("images/", api.ImageList.as_view(), name="api_image_list"),
    path("images/<id:image_id>/", api.ImageDetail.as_view(), name="api_image_detail"),
]
