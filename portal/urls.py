from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from clusters import urls as clusters_urls
from contexts import urls as contexts_urls
from portal import views

# The marketplace's pages: profiles (contexts) and cluster definitions (clusters).
marketplace = contexts_urls.marketplace_urlpatterns + clusters_urls.marketplace_urlpatterns

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/tokens/", views.api_tokens, name="api_tokens"),
    path("health/", views.health_page, name="health"),
    path("profiles/", include("contexts.urls")),
    path("marketplace/", include((marketplace, "marketplace"))),
    path("", include("clusters.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("api/v1/", include("clusters.api_urls")),
    path("api/v1/", include("contexts.api_urls")),
    path("", include(contexts_urls.pairing_urlpatterns)),
    path("audit/", include("audit.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "portal.views.not_found"
