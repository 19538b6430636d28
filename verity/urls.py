from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from retrieval.desktop import views as desktop
from verity import views
from verity.auth_forms import ThrottledAuthenticationForm

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("retrieval.urls")),
    path("desktop/", include("retrieval.desktop.urls")),
    path("articles/<slug:slug>/", desktop.article_link, name="article-link"),
    path("accounts/login/", views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("healthz", views.healthz, name="healthz"),
    path("", RedirectView.as_view(pattern_name="desktop:search", permanent=False)),
]

handler404 = views.not_found
handler500 = views.server_error
