"""Which language model writes and judges answers, and how to talk to it (LangChain's ChatOpenAI).

    VERITY_GENERATOR=llm (default)  the embedded llama.cpp server with VERITY_LLM_MODEL_PATH, or the
                                    default model installed by `python3 dev.py install`; or, with
                                    VERITY_LLM_BASE_URL (+ VERITY_LLM_MODEL, VERITY_LLM_API_KEY), any
                                    OpenAI-compatible server (vLLM, Ollama, llama.cpp, hosted)
    VERITY_GENERATOR=extractive     no model

When no model is usable (not installed, server down) `model_endpoint()` returns None and answers
are written extractively; the reply says which generator answered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from langchain_openai import ChatOpenAI

from verity.core.embedded import EmbeddedServiceError
from verity.core.llm_server import ensure_llm_server, running_server
from verity.core.modelfiles import ModelInstallError, default_model_path

logger = logging.getLogger("verity.llm")


class ModelConfigError(ValueError):
    """A setting names an unusable model; the message says which and why."""


@dataclass(frozen=True)
class ModelEndpoint:
    base_url: str
    api_key: str
    model: str
    embedded: bool

    @property
    def generator_name(self) -> str:
        return f"llm:{self.model}"


def configured_generator() -> str:
    kind = getattr(settings, "VERITY_GENERATOR", "llm")
    if kind not in {"llm", "extractive"}:
        raise ModelConfigError(f"VERITY_GENERATOR: unknown generator '{kind}'; use 'llm' or 'extractive'.")
    return kind


def model_path() -> Path | None:
    """The GGUF the embedded server loads: VERITY_LLM_MODEL_PATH, else the installed default model."""
    configured = getattr(settings, "VERITY_LLM_MODEL_PATH", "")
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise ModelConfigError(f"VERITY_LLM_MODEL_PATH: {path} is not a file.")
        return path
    try:
        path = default_model_path()
    except ModelInstallError:
        return None
    return path if path.is_file() else None


def model_endpoint(*, start: bool = True) -> ModelEndpoint | None:
    """The model to use now, starting the embedded server if needed; None: answer without a model."""
    if configured_generator() == "extractive":
        return None
    base_url = getattr(settings, "VERITY_LLM_BASE_URL", "")
    if base_url:
        if not base_url.startswith(("http://", "https://")):
            raise ModelConfigError("VERITY_LLM_BASE_URL: expected an http(s) URL of an OpenAI-compatible /v1 API.")
        return ModelEndpoint(base_url.rstrip("/"), getattr(settings, "VERITY_LLM_API_KEY", "") or "none",
                             getattr(settings, "VERITY_LLM_MODEL", "") or "default", embedded=False)
    path = model_path()
    if path is None:
        logger.warning("No language model is installed (python3 dev.py install); answers are extractive.")
        return None
    try:
        server = ensure_llm_server(path) if start else running_server()
    except EmbeddedServiceError as error:
        logger.error("The language-model server is not available (%s); answers are extractive.", error)
        return None
    if server is None:
        return None
    return ModelEndpoint(server.url, server.api_key, server.model, embedded=True)


def chat_model(endpoint: ModelEndpoint, *, max_tokens: int, logprobs: bool = False, top_logprobs: int = 0,
               streaming: bool = False, timeout: float | None = None) -> ChatOpenAI:
    options: dict = {}
    if logprobs:
        options.update(logprobs=True, top_logprobs=top_logprobs or 5)
    return ChatOpenAI(
        base_url=endpoint.base_url, api_key=endpoint.api_key, model=endpoint.model, temperature=0.0,
        max_tokens=max_tokens, timeout=timeout or getattr(settings, "VERITY_LLM_TIMEOUT", 120.0), max_retries=0,
        streaming=streaming, stream_usage=True, **options,
    )


def model_health() -> str:
    """"ok" (running, or installed and started at the first answer), "off" (no model: extractive answers)
    or "down" (configured but not answering), for /healthz."""
    import urllib.error
    import urllib.request

    try:
        if configured_generator() == "extractive":
            return "off"
        base_url = getattr(settings, "VERITY_LLM_BASE_URL", "")
        if base_url:
            request = urllib.request.Request(  # noqa: S310 - the configured http(s) URL
                base_url.rstrip("/") + "/models",
                headers={"Authorization": f"Bearer {getattr(settings, 'VERITY_LLM_API_KEY', '') or 'none'}"})
            try:
                with urllib.request.urlopen(request, timeout=3):  # noqa: S310
                    return "ok"
            except (urllib.error.URLError, OSError, ValueError):
                return "down"
        return "off" if model_path() is None else "ok"
    except ModelConfigError:
        return "down"
