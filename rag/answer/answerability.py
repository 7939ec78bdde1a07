"""Cheap checks that a question can be answered from the retrieved text at all.

- Names: a name the question asks about (China, the Super Bowl) that appears nowhere in the
  retrieved chunks means the articles do not cover it, however similar the rest sounds.
- Answer type: "how many" wants a number, "when" a date or time, "who" a name; a sentence
  without one does not answer the question, however close its topic.
"""

from __future__ import annotations

import re

from rag.text.words import MONTHS, NOT_NAMES, NUMBER_WORDS, ROUND_AMOUNTS, WEEKDAYS, mentioned, name_words, words

_HAS_NUMBER = re.compile(r"\d|\b(?:" + "|".join([*NUMBER_WORDS, *ROUND_AMOUNTS]) + r")\b", re.I)
_HAS_DATE = re.compile(
    r"\b(?:\d{4}|\d{1,2}:\d{2}|" + "|".join(WEEKDAYS + MONTHS) + r"|yesterday|today|tomorrow|tonight|"
    r"overnight|last (?:week|month|year)|next (?:week|month|year)|\d+ (?:days?|weeks?|months?|years?|hours?|minutes?))\b",
    re.I,
)


def question_names(question: str) -> list[str]:
    """Capitalised words of the question that name something (not its first word, question words or days)."""
    names = []
    for start, written in name_words(question):
        word = written.rstrip("’'s").rstrip("’'")
        if start == 0 or word.lower() in NOT_NAMES:
            continue
        names.append(word)
    return names


def missing_names(question: str, texts: list[str]) -> list[str]:
    """Names in the question that occur in none of the texts (a prefix counts: Crimea ~ Crimean)."""
    known = words(" ".join(texts))
    missing = []
    for name in question_names(question):
        key = re.sub(r"[^a-z0-9]", "", name.lower())
        if key and not mentioned(key, known):
            missing.append(name)
    return missing


def expected_answer_type(question: str) -> str | None:
    """number, date or None (anything) for what the question asks."""
    q = question.lower()
    if re.search(r"\bhow (?:many|much)\b|\bwhat (?:number|percentage|amount)\b", q):
        return "number"
    if re.search(r"^\s*when\b|\bwhat (?:exact )?(?:date|day|time|year|month)\b|\bon what date\b", q):
        return "date"
    return None


def has_answer_type(sentence: str, kind: str | None) -> bool:
    if kind == "number":
        return bool(_HAS_NUMBER.search(sentence))
    if kind == "date":
        return bool(_HAS_DATE.search(sentence))
    return True
