"""Reading a chat model's answer: JSON sentences with source numbers, or plain text with [n] markers."""

from __future__ import annotations

import json
import re

from rag.llm.chat import complete_items
from rag.text.sentences import split_sentences

_MARKERS = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def parse_model_output(content: str) -> list[tuple[str, list[int]]]:
    """(sentence, [source numbers]) from the model's JSON, or from plain text with [n] markers."""
    text = content.strip()
    text = re.sub(r"^```(?:json)?\s*|\s*```$", "", text)
    if text.startswith("{") and not _is_json(text):
        text = complete_items(text)  # cut at the token limit: its complete sentences, never half of one
    start, end = text.find("{"), text.rfind("}")
    if start >= 0 and end > start:
        try:
            data = json.loads(text[start : end + 1])
            items = data.get("sentences", []) if isinstance(data, dict) else []
            out = []
            for item in items:
                if isinstance(item, dict) and isinstance(item.get("text"), str):
                    sources = item.get("sources") or item.get("citations") or []
                    numbers = [int(n) for n in re.findall(r"\d+", json.dumps(sources))]
                    out.append((item["text"].strip(), numbers))
            return [(t, n) for t, n in out if t]
        except (json.JSONDecodeError, ValueError):
            pass
    # Plain text: each sentence keeps the markers that follow it.
    out = []
    for span in split_sentences(text):
        sentence = text[span.start : span.end]
        numbers = [int(n) for group in _MARKERS.findall(sentence) for n in group.split(",")]
        clean = _MARKERS.sub("", sentence).strip()
        if clean and not clean.startswith("{"):
            out.append((clean, numbers))
    return out


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return False
    return True


def parse_partial(content: str) -> list[tuple[str, list[int]]]:
    """Sentence texts from a JSON answer that is still being written (for streaming drafts)."""
    texts = re.findall(r'"text"\s*:\s*"((?:[^"\\]|\\.)*)', content)
    return [(t.replace('\\"', '"'), []) for t in texts]
