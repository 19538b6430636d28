"""Change events over the API (keys with the `changes` scope): announce, then read the assessment."""

from __future__ import annotations

from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from governance.models import ChangeEvent, Flag
from governance.services import change_event_create
from kb.models import Article
from retrieval.api.auth import HasApiKey, HasScope
from retrieval.api.search import ApiView, ErrorSerializer, TextField
from verity.celery import NO_WORKER_WARNING, workers_missing
from verity.core.web_address import validate_web_address


class ChangesScope(HasScope):
    scope = "changes"
    message = "This API key lacks the 'changes' scope (create one with --scope changes)."


def change_event_payload(event: ChangeEvent, audiences: tuple[str, ...]) -> dict:
    """The assessment as `audiences` may see it: a public key gets only the findings on public articles,
    and their reason and evidence only when no article of the translation family is internal (a
    finding propagated to a translation quotes its source)."""
    body: dict = {
        "id": str(event.pk), "status": "done" if event.status == ChangeEvent.Status.DONE else event.status,
        "kind": event.kind, "title": event.title, "effective_date": event.effective_date.isoformat(),
    }
    if event.status == ChangeEvent.Status.PENDING and workers_missing():
        body.update(workers=0, warning=NO_WORKER_WARNING)
    if event.status == ChangeEvent.Status.FAILED:
        body["error"] = event.error
    if event.status == ChangeEvent.Status.DONE:
        flags = (Flag.objects.filter(change_event=event, article__audience__in=audiences)
                 .select_related("article").order_by("-score", "article__slug"))
        hidden_families = _families_with_hidden_articles(flags, audiences)
        body["flagged"] = []
        for flag in flags:
            shown = (flag.article.translation_of_id or flag.article.pk) not in hidden_families
            body["flagged"].append(
                {"slug": flag.article.slug, "locale": flag.article.locale, "score": flag.score,
                 "reason": flag.summary if shown else "", "evidence": flag.evidence if shown else "",
                 "state": flag.state}
            )
        body["assessment_ms"] = event.assessment_ms
    return body


def _families_with_hidden_articles(flags, audiences: tuple[str, ...]) -> set[int]:
    """Roots of the translation families (among the flagged articles) with an article outside `audiences`."""
    roots = {flag.article.translation_of_id or flag.article.pk for flag in flags}
    if not roots:
        return set()
    hidden = (Article.objects.exclude(audience__in=audiences)
              .filter(Q(pk__in=roots) | Q(translation_of_id__in=roots))
              .values_list("translation_of_id", "pk"))
    return {translation_of or pk for translation_of, pk in hidden}


def _own_change(request, change_id: int) -> ChangeEvent:
    """A key reads only the changes it announced: any other id is 404, exactly as one that does not exist."""
    return get_object_or_404(ChangeEvent, pk=change_id, announcing_key_id=request.user.key.pk)


@extend_schema_field({"type": "string", "format": "uri", "pattern": r"^https?://\S+$", "maxLength": 500})
class WebAddressField(serializers.CharField):
    """An http(s) address (verity.core.web_address): any valid URI with that scheme, host names over 253
    characters included, which Django's URLField refused although the schema documents a `uri`."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(validate_web_address)


class ChangeCreateApi(ApiView):
    permission_classes = [HasApiKey, ChangesScope]

    class ChangeRequestSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=ChangeEvent.Kind.values)
        title = TextField(max_length=300)
        description = TextField(max_length=20000)
        effective_date = serializers.DateField()
        source_url = WebAddressField(required=False, allow_blank=True, max_length=500, default="")

    @extend_schema(operation_id="change_create", summary="Announce a policy change or release",
                   request=ChangeRequestSerializer,
                   responses={201: None, 202: None, 400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer})
    def post(self, request):
        data = self.ChangeRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = change_event_create(**data.validated_data, author_label=f"api key: {request.user.key.name}",
                                    announcing_key_id=request.user.key.pk)
        event.refresh_from_db()
        if event.status == ChangeEvent.Status.PENDING:
            body = {"id": str(event.pk), "status": "pending"}
            if workers_missing():  # it would stay pending without a word (issue #14 item 5)
                body.update(workers=0, warning=NO_WORKER_WARNING)
            return Response(body, status=status.HTTP_202_ACCEPTED)
        return Response(change_event_payload(event, request.user.audiences), status=status.HTTP_201_CREATED)


class ChangeDetailApi(ApiView):
    permission_classes = [HasApiKey, ChangesScope]

    @extend_schema(operation_id="change_detail", summary="The assessment of a change (poll until status is done)",
                   responses={200: None, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer})
    def get(self, request, change_id: int):
        return Response(change_event_payload(_own_change(request, change_id), request.user.audiences))
