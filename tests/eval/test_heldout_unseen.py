"""A held-out set measures only while nothing was tuned on it: no file of the code or the tests
may contain a sentence (8 words or more) of an `eval/holdout-*` article or question.

Sentences are compared as word sequences (lower case, punctuation and line breaks ignored), and any
8 consecutive words of such a sentence count: a quote split over two lines of code is still a quote.
The eval folders themselves are not searched.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from retrieval.text.sentences import split_sentences

ROOT = Path(__file__).resolve().parents[2]
SEARCHED = ("retrieval", "governance", "kb", "tests", "bench")
SUFFIXES = {".py", ".md", ".txt", ".json", ".jsonl", ".html", ".toml", ".cfg", ".yaml", ".yml"}
WINDOW = 8
WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _words(text: str) -> list[str]:
    return [word.lower() for word in WORD.findall(text)]


def _heldout_sentences() -> list[str]:
    texts: list[str] = []
    for folder in sorted(ROOT.glob("eval/holdout-*")):
        texts += [path.read_text(encoding="utf-8") for path in sorted(folder.rglob("*.md"))]
        questions = folder / "questions.jsonl"
        if questions.exists():
            texts += [json.loads(line)["question"] for line in questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    sentences = []
    for text in texts:
        for line in text.splitlines():
            sentences += split_sentences(line.strip(" |#>-*"))
    return sentences


def _windows() -> dict[str, str]:
    """Every run of WINDOW consecutive words of a held-out sentence, with the sentence it comes from."""
    windows: dict[str, str] = {}
    for sentence in _heldout_sentences():
        words = _words(sentence)
        for start in range(len(words) - WINDOW + 1):
            windows.setdefault(" ".join(words[start:start + WINDOW]), sentence)
    return windows


def _searched_files() -> list[Path]:
    return [path for top in SEARCHED for path in sorted((ROOT / top).rglob("*"))
            if path.is_file() and path.suffix in SUFFIXES and "__pycache__" not in path.parts]


def test_there_is_a_heldout_set_to_protect():
    assert len(_heldout_sentences()) > 50


def test_no_code_or_test_quotes_a_heldout_sentence():
    windows = _windows()
    quoted = []
    for path in _searched_files():
        words = _words(path.read_text(encoding="utf-8", errors="ignore"))
        for start in range(len(words) - WINDOW + 1):
            sentence = windows.get(" ".join(words[start:start + WINDOW]))
            if sentence is not None:
                quoted.append(f"{path.relative_to(ROOT)}: {sentence}")
                break
    assert quoted == []
