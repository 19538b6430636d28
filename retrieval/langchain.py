"""A LangChain retriever over Verity's search API, for chatbot builders.

    from retrieval.langchain import VerityRetriever
    retriever = VerityRetriever(base_url="http://127.0.0.1:8000", api_key="vk_...", locale="de", k=5)
    docs = retriever.invoke("Wie lange habe ich Zeit für eine Rücksendung?")

Each Document carries the snippet as page_content and slug, version, url, score and state as
metadata, so an answer can cite the exact article version. Uses only the standard library for HTTP.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever


class VerityApiError(RuntimeError):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"Verity API {status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class VerityRetriever(BaseRetriever):
    base_url: str
    api_key: str
    locale: str | None = None
    k: int = 5
    timeout: float = 10.0

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        params = {"q": query, "limit": str(self.k)}
        if self.locale:
            params["locale"] = self.locale
        url = f"{self.base_url.rstrip('/')}/api/v1/search?{urllib.parse.urlencode(params)}"
        if not url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http(s) URL")
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            url, headers={"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - configured http(s) URL
                payload = json.load(response)
        except urllib.error.HTTPError as error:
            try:
                body = json.load(error)["error"]
            except (ValueError, KeyError, TypeError):
                body = {"code": "http_error", "message": str(error)}
            raise VerityApiError(error.code, body.get("code", ""), body.get("message", "")) from error
        return [
            Document(
                page_content=f"{result['title']}\n{result['snippet']}",
                metadata={key: result[key] for key in ("slug", "locale", "title", "version", "score", "url", "state")},
            )
            for result in payload["results"]
        ]
