"""A yes/no question put to the model, read as a probability rather than as free text.

The small local models answer "ja"/"nein" unreliably as text but rank well by the probability of
their first token (AUC 0.92 on same-topic negatives, ../shared/environment.md): callers compare
P(yes) with a threshold chosen on development data.
"""

from __future__ import annotations

import math

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage

YES = {"ja", "yes", "j", "y"}
NO = {"nein", "ne", "no", "n"}  # the model's first token of "nein" is often "Ne"


def yes_probability(top_logprobs: list[dict]) -> float | None:
    """P(yes) / (P(yes) + P(no)) from the first token's alternatives; None if neither is among them."""
    yes = no = 0.0
    for candidate in top_logprobs:
        token = candidate.get("token", "").strip().lower().strip(".,!")
        probability = math.exp(candidate.get("logprob", -100.0))
        if token in YES:
            yes += probability
        elif token in NO:
            no += probability
    if yes + no == 0:
        return None
    return yes / (yes + no)


def ask_yes_no(chat: BaseChatModel, prompt: list[BaseMessage]) -> float:
    """The model's probability of answering yes (0 when it cannot tell). `chat` must ask for the first
    token's top log-probabilities (retrieval.llm.client.chat_model(..., logprobs=True))."""
    reply = chat.invoke(prompt)
    content = (reply.response_metadata.get("logprobs") or {}).get("content") or []
    if content:
        probability = yes_probability(content[0].get("top_logprobs") or [])
        if probability is not None:
            return probability
    word = str(reply.content).strip().lower()
    return 1.0 if word.startswith(tuple(YES)) and not word.startswith(tuple(NO)) else 0.0
