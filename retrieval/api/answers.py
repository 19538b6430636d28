"""Answer and feedback endpoints of the retrieval API (shared/interfaces.md)."""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from kb.kbformat import LOCALE_PATTERN
from kb.rendering import plain_text
from retrieval.answers.feedback import feedback_create
from retrieval.answers.pipeline import answer_question
from retrieval.answers.streaming import answer_events
from retrieval.api.search import PLAIN_TEXT, ApiView, ErrorSerializer, StrictBooleanField, TextField


def _payload(result: Any) -> dict:
    payload = result.as_api()
    if payload["answer"]:
        payload["answer"] = plain_text(payload["answer"])
    for citation in payload["citations"]:
        citation["title"], citation["quote"] = plain_text(citation["title"]), plain_text(citation["quote"])
    return payload


# Each server-sent event of a streamed answer (its `data` is JSON text)
SSE_EVENT_SCHEMA = {"type": "object", "required": ["event", "data"], "properties": {
    "event": {"type": "string", "enum": ["text", "final", "error"]}, "data": {"type": "string"}}}


class AnswerApi(ApiView):
    class AnswerRequestSerializer(serializers.Serializer):
        question = TextField(max_length=2000, trim_whitespace=True)
        locale = serializers.RegexField(LOCALE_PATTERN, required=False, max_length=12)
        stream = StrictBooleanField(required=False, default=False, help_text=(
            "true: answer with server-sent events: 'text' events carry each verified sentence as it is written, "
            "then one 'final' event carries the same JSON as the non-streamed reply."))

    class AnswerResponseSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=["answered", "refused", "handoff"])
        answer = serializers.CharField(allow_null=True, help_text=f"The answer as {PLAIN_TEXT}, with [n] citation marks.")
        citations = serializers.ListField(child=serializers.DictField(),
                                          help_text=f"n, slug, locale, version, title, url, quote; title and quote as {PLAIN_TEXT}")
        reason = serializers.CharField(allow_null=True)
        query_id = serializers.CharField()
        generator = serializers.CharField(help_text="who wrote it: 'llm:<model>' or 'extractive'")

    @extend_schema(
        operation_id="answer",
        summary="A cited answer from approved, current knowledge, or a refusal or hand-over",
        request=AnswerRequestSerializer,
        responses={
            (200, "application/json"): AnswerResponseSerializer,
            (200, "text/event-stream"): OpenApiResponse(SSE_EVENT_SCHEMA, description=(
                'with "stream": true: "text" events ({"text": "..."}), then one "final" event with the JSON reply '
                '(or "error")')),
            400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 429: ErrorSerializer},
    )
    def post(self, request):
        data = self.AnswerRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        arguments = {"question": data.validated_data["question"], "locale": data.validated_data.get("locale"),
                     "audience": request.user.key.audience, "api_key": request.user.key}
        if data.validated_data["stream"]:
            response = StreamingHttpResponse(answer_events(final=_payload, **arguments), content_type="text/event-stream")
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"  # no proxy buffering
            return response
        return Response(_payload(answer_question(**arguments)))


class FeedbackApi(ApiView):
    class FeedbackRequestSerializer(serializers.Serializer):
        query_id = serializers.UUIDField()
        helpful = StrictBooleanField()
        comment = TextField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="feedback",
        summary="Attach feedback to an answer",
        request=FeedbackRequestSerializer,
        responses={201: None, 400: ErrorSerializer, 401: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request):
        data = self.FeedbackRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        feedback = feedback_create(
            query_id=data.validated_data["query_id"], helpful=data.validated_data["helpful"],
            comment=data.validated_data["comment"], api_key=request.user.key,
        )
        return Response({"id": feedback.pk, "query_id": str(feedback.answer_id)}, status=status.HTTP_201_CREATED)
