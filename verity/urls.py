from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from verity import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("retrieval.urls")),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]

handler404 = views.not_found
handler500 = views.server_error
