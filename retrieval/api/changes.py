"""Change events over the API (keys with the `changes` scope): announce, then read the assessment."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from governance.models import ChangeEvent, Flag
from governance.services import change_event_create
from retrieval.api.auth import HasApiKey, HasScope
from retrieval.api.search import ApiView, ErrorSerializer


class ChangesScope(HasScope):
    scope = "changes"
    message = "This API key lacks the 'changes' scope (create one with --scope changes)."


def change_event_payload(event: ChangeEvent) -> dict:
    body: dict = {
        "id": str(event.pk), "status": "done" if event.status == ChangeEvent.Status.DONE else event.status,
        "kind": event.kind, "title": event.title, "effective_date": event.effective_date.isoformat(),
    }
    if event.status == ChangeEvent.Status.FAILED:
        body["error"] = event.error
    if event.status == ChangeEvent.Status.DONE:
        flags = Flag.objects.filter(change_event=event).select_related("article").order_by("-score", "article__slug")
        body["flagged"] = [
            {"slug": flag.article.slug, "locale": flag.article.locale, "score": flag.score, "reason": flag.summary,
             "evidence": flag.evidence, "state": flag.state}
            for flag in flags
        ]
        body["assessment_ms"] = event.assessment_ms
    return body


class ChangeCreateApi(ApiView):
    permission_classes = [HasApiKey, ChangesScope]

    class ChangeRequestSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=ChangeEvent.Kind.values)
        title = serializers.CharField(max_length=300)
        description = serializers.CharField(max_length=20000)
        effective_date = serializers.DateField()
        source_url = serializers.URLField(required=False, allow_blank=True, max_length=500, default="")

    @extend_schema(operation_id="change_create", summary="Announce a policy change or release",
                   request=ChangeRequestSerializer,
                   responses={201: None, 202: None, 400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer})
    def post(self, request):
        data = self.ChangeRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = change_event_create(**data.validated_data, author_label=f"api key: {request.user.key.name}")
        event.refresh_from_db()
        if event.status == ChangeEvent.Status.PENDING:
            return Response({"id": str(event.pk), "status": "pending"}, status=status.HTTP_202_ACCEPTED)
        return Response(change_event_payload(event), status=status.HTTP_201_CREATED)


class ChangeDetailApi(ApiView):
    permission_classes = [HasApiKey, ChangesScope]

    @extend_schema(operation_id="change_detail", summary="The assessment of a change (poll until status is done)",
                   responses={200: None, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer})
    def get(self, request, change_id: int):
        return Response(change_event_payload(get_object_or_404(ChangeEvent, pk=change_id)))
