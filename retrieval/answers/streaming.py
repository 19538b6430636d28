"""Answers as server-sent events, for the API and the desktop: verified sentences as they are written."""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connection

from kb.rendering import plain_text
from retrieval.answers.pipeline import AnswerResult, answer_question

logger = logging.getLogger("verity.answers")
KEEP_ALIVE_SECONDS = 10.0


def _event(kind: str, data: dict) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def answer_events(*, final: Callable[[AnswerResult], dict], **arguments: Any) -> Iterator[bytes]:
    """Server-sent events: each verified sentence as soon as it is written ("text"), then "final" with
    `final(result)` (the API: the JSON of the non-streamed reply; the desktop: the rendered draft), or
    "error". Comments keep the connection open meanwhile. The answer runs in a thread of its own,
    with its own database connection."""
    events: queue.Queue[tuple[str, dict]] = queue.Queue()

    def work() -> None:
        try:
            result = answer_question(**arguments, on_sentence=lambda text: events.put(("text", {"text": plain_text(text)})))
            events.put(("final", final(result)))
        except Exception:  # noqa: BLE001 - the client gets an error event, the log the traceback
            logger.exception("A streamed answer failed")
            events.put(("error", {"error": {"code": "server_error", "message": "Internal error; it was logged."}}))
        finally:
            connection.close()  # this thread's own database connection

    threading.Thread(target=work, name="answer-stream", daemon=True).start()
    while True:
        try:
            kind, data = events.get(timeout=KEEP_ALIVE_SECONDS)
        except queue.Empty:
            yield b": working\n\n"
            continue
        yield _event(kind, data)
        if kind != "text":
            return
