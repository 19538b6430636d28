"""The retrieval API, version 1 (shared/interfaces.md). One view per operation."""

from __future__ import annotations

from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from django.utils import translation
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from kb.kbformat import LOCALE_PATTERN
from kb.links import article_url
from kb.rendering import plain_text
from retrieval.api.auth import ApiKeyAuthentication, HasApiKey
from retrieval.search.hybrid import search
from retrieval.search.query import SearchQuery, detect_locale


class ErrorSerializer(serializers.Serializer):
    class ErrorBody(serializers.Serializer):
        code = serializers.CharField()
        message = serializers.CharField()

    error = ErrorBody()


# What Python's str.strip() removes, and so what DRF trims before its blank check, spelled out: a schema's
# `\s` is ECMAScript's, which lacks U+001C-U+001F and U+0085 and adds U+FEFF (schemathesis sent "\u001f").
WHITESPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


class TextField(serializers.CharField):
    """A CharField whose schema states what the server checks: a pattern excluding NUL (and blank values)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        pattern = r"^[^\x00]*$" if self.allow_blank else rf"^[^\x00]*[^\x00{WHITESPACE}][^\x00]*$"
        self.validators = [validator for validator in self.validators
                           if not isinstance(validator, ProhibitNullCharactersValidator)]
        self.validators.append(RegexValidator(pattern, message=ProhibitNullCharactersValidator.message))

    def to_internal_value(self, data):
        if not isinstance(data, str):  # DRF would turn 0 or false into "0" or "False"; the schema says string
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:  # before trimming, as the schema counts
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only: DRF's BooleanField also takes 0/1 and "yes"/"no", which the schema does not."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if data is True or data is False:
            return data
        self.fail("invalid")


KINDS = ("article", "macro", "runbook", "policy")
MAX_KINDS = 10
PLAIN_TEXT = "plain text: HTML tags in the article are removed (Markdown punctuation may remain)"


class ApiView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]

    def initial(self, request, *args, **kwargs):
        translation.activate("en")  # one language for machine clients, whatever the server default
        super().initial(request, *args, **kwargs)


class SearchResultSerializer(serializers.Serializer):
    slug = serializers.CharField()
    locale = serializers.CharField()
    title = serializers.CharField(help_text=f"The article title as {PLAIN_TEXT}.")
    version = serializers.IntegerField()
    score = serializers.FloatField()
    snippet = serializers.CharField(help_text=f"The passage that matched, as {PLAIN_TEXT}.")
    url = serializers.CharField()
    state = serializers.ChoiceField(choices=["current", "review_due", "flagged", "out_of_sync"])


class SearchResponseSerializer(serializers.Serializer):
    """Module-level, uniquely named: the schema component of each operation's output must not collide."""

    results = SearchResultSerializer(many=True)


class SearchApi(ApiView):
    class InputSerializer(serializers.Serializer):
        q = TextField(max_length=1000, trim_whitespace=True)
        locale = serializers.RegexField(LOCALE_PATTERN, required=False, max_length=12)
        limit = serializers.IntegerField(min_value=1, max_value=50, default=10)
        space = TextField(required=False, max_length=300, help_text="Comma-separated space slugs.")
        kind = TextField(required=False, max_length=100,
                         help_text="Comma-separated kinds of article, macro, runbook, policy; another kind is a 400.")
        tags = TextField(required=False, max_length=500, help_text="Comma-separated tags (any matches).")
        mode = serializers.ChoiceField(choices=["hybrid", "keyword", "semantic"], default="hybrid")

        def validate_kind(self, value: str) -> list[str]:
            kinds = [item.strip() for item in value.split(",") if item.strip()]
            bad = [kind for kind in kinds if kind not in KINDS]
            if bad:
                raise serializers.ValidationError(f"unknown kind(s) {', '.join(bad)}; use article, macro, runbook or policy.")
            if len(value.split(",")) > MAX_KINDS:  # what the schema's maxItems says (schemathesis sent 11)
                raise serializers.ValidationError(f"at most {MAX_KINDS} kinds.")
            return kinds

    @extend_schema(
        operation_id="search",
        summary="Search approved, current knowledge for the key's audience",
        parameters=[InputSerializer, OpenApiParameter(
            "kind", type={"type": "array", "items": {"type": "string", "enum": list(KINDS)}, "minItems": 1, "maxItems": MAX_KINDS},
            style="form", explode=False, description="Comma-separated kinds: article, macro, runbook, policy.")],
        responses={200: SearchResponseSerializer, 400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 429: ErrorSerializer},
    )
    def get(self, request):
        repeated = {key: "given more than once; send it once (lists are comma-separated)"
                    for key in request.query_params if len(request.query_params.getlist(key)) > 1}
        if repeated:
            raise serializers.ValidationError(repeated)
        # DRF reads an empty optional form value as "not given"; an empty `locale=` is more likely a bug
        # in the client than a wish for the default, so it is named instead of silently ignored
        empty = {key: ["is empty; leave the parameter out or give a value"]
                 for key, value in request.query_params.items() if key != "q" and not value.strip()}
        if empty:
            raise serializers.ValidationError(empty)
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        split = lambda value: tuple(item.strip() for item in (value or "").split(",") if item.strip())  # noqa: E731
        query = SearchQuery(
            text=data["q"], audiences=request.user.audiences, locale=data.get("locale") or detect_locale(data["q"]),
            limit=data["limit"], spaces=split(data.get("space")), kinds=tuple(data.get("kind") or ()),
            tags=split(data.get("tags")), mode=data["mode"],
        )
        results = [
            {
                "slug": result.article.slug, "locale": result.article.locale, "title": plain_text(result.article.title),
                "version": result.version_number, "score": result.score, "snippet": plain_text(result.snippet),
                "url": article_url(result.article.slug), "state": result.state,
            }
            for result in search(query)
        ]
        return Response(SearchResponseSerializer({"results": results}).data)
