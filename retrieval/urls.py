from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from retrieval.api import answers as api_answers
from retrieval.api import changes as api_changes
from retrieval.api import schema  # noqa: F401 - registers the OpenAPI description of API-key authentication
from retrieval.api import search as api
from verity.views import not_found

urlpatterns = [
    path("v1/search", api.SearchApi.as_view(), name="api-search"),
    path("v1/answer", api_answers.AnswerApi.as_view(), name="api-answer"),
    path("v1/feedback", api_answers.FeedbackApi.as_view(), name="api-feedback"),
    path("v1/changes", api_changes.ChangeCreateApi.as_view(), name="api-changes"),
    path("v1/changes/<int:change_id>", api_changes.ChangeDetailApi.as_view(), name="api-change-detail"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^.*$", not_found),
]
