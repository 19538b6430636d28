"""The agent desktop's URLs, mounted at /desktop/."""

from django.urls import path

from retrieval.desktop import views as desktop

app_name = "desktop"

urlpatterns = [
    path("", desktop.search_page, name="search"),
    path("search/", desktop.search_results, name="results"),
    path("answer/", desktop.answer, name="answer"),
    path("answer/stream/", desktop.answer_stream, name="answer-stream"),
    path("feedback/", desktop.feedback, name="feedback"),
    path("articles/<slug:slug>/", desktop.article_detail, name="article"),
    path("articles/<slug:slug>/report/", desktop.article_report, name="report"),
]
