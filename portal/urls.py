from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from clusters import urls as clusters_urls
from contexts import urls as contexts_urls
from portal import views
from portal.sso import views as sso_views

# The marketplace's pages: profiles (contexts) and cluster definitions (clusters).
marketplace = contexts_urls.marketplace_urlpatterns + clusters_urls.marketplace_urlpatterns

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", sso_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", sso_views.LogoutView.as_view(), name="logout"),
    path("accounts/oidc/", include("portal.sso.urls")),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/tokens/", views.api_tokens, name="api_tokens"),
    path("health/", views.health_page, name="health"),
    path("profiles/", include("contexts.urls")),
    path("marketplace/", include((marketplace, "marketplace"))),
    path("", include("clusters.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # The split view serves its start-up script as a file: no inline script (docs/security.md).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api_schema", template_name="api_docs.html"),
        name="api_docs",
    ),
    path("api/v1/", include("clusters.api_urls")),
    path("api/v1/", include("contexts.api_urls")),
    path("", include(contexts_urls.pairing_urlpatterns)),
    path("audit/", include("audit.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "portal.views.not_found"
