"""The extractive backend: the answer is the source sentences that best answer the question.

A sentence scores by meaning (cosine to the question), by shared content words, and by whether it
has the question's subject doing the question's verb ("did Zelenskyy ask" ~ "Zelenskyy requested"),
which tells the asker from the asked where embeddings cannot.
"""

from __future__ import annotations

import re

import numpy as np

from rag.answer.answerability import expected_answer_type, has_answer_type
from rag.answer.context import Context
from rag.settings import SelectionSettings
from rag.text.words import SPEECH_VERBS, stems


# Verbs questions use, with the words articles report them in.
_VERB_FAMILIES = {
    "ask": ["ask", "request", "seek", "sought", "call for", "urge", "press", "appeal"],
    "say": ["say", *sorted(SPEECH_VERBS)],
    "agree": ["agree", "accept", "back", "sign", "endorse", "approve"],
    "want": ["want", "seek", "sought", "demand", "push", "insist"],
    "reject": ["reject", "refuse", "rule out", "oppose", "dismiss"],
    "propose": ["propose", "suggest", "float", "offer", "put forward"],
    "accuse": ["accuse", "blame", "charge"],
    "do": ["do", "did", "launch", "carry out", "conduct"],
}
_QUESTION = re.compile(
    r"\b(?:did|does|do|has|have|had|will|would|could|was|were|is|are)\s+((?:[A-Z][\w’'.-]*\s+)+)([a-z]+)"
)


def _inflections(verb: str) -> list[str]:
    if " " in verb:
        head, rest = verb.split(" ", 1)
        return [f"{form} {rest}" for form in _inflections(head)]
    stem = verb[:-1] if verb.endswith("e") else verb
    return [verb, verb + "s", verb + "d", stem + "ed", stem + "ing", verb + "es"]


def subject_verb_pattern(question: str) -> re.Pattern | None:
    """A regex for '<subject> ... <verb or synonym>' built from 'did <Subject> <verb>' in a question."""
    match = _QUESTION.search(question)
    if not match:
        return None
    subject = match.group(1).split()[-1].rstrip(".")
    verb = match.group(2)
    family = next((words for base, words in _VERB_FAMILIES.items() if verb == base or verb in words), [verb])
    forms = sorted({f for word in family for f in _inflections(word)}, key=len, reverse=True)
    # Up to two words may stand between (adverbs, "on Wednesday"), but not a conjunction or relative
    # pronoun, which would start a clause with another subject ("criticized Zelenskyy and asked him").
    gap = r"(?:\W+(?!(?:and|or|but|who|which|that|while)\b)\w+){0,2}?"
    return re.compile(rf"\b{re.escape(subject)}\w*\b{gap}\W+(?:{'|'.join(map(re.escape, forms))})\b", re.I)


def score_sentences(question: str, context: Context, question_vector: np.ndarray,
                    weights: SelectionSettings) -> np.ndarray:
    """How well each context sentence answers the question (higher is better)."""
    asked = stems(question)
    pattern = subject_verb_pattern(question)
    texts = [s.text for s in context.sentences]
    dense = context.vectors @ question_vector
    lexical = np.array([len(asked & stems(t)) / len(asked) if asked else 0.0 for t in texts])
    agent = np.array([1.0 if pattern and pattern.search(" ".join(t.split())) else 0.0 for t in texts])
    return dense + weights.lexical_weight * lexical + weights.subject_verb_weight * agent


def focus(question: str, context: Context, question_vector: np.ndarray, keep: int,
          weights: SelectionSettings) -> Context:
    """The `keep` best sentences for the question, renumbered in reading order (what a model reads)."""
    if len(context.sentences) <= keep:
        return context
    best = sorted(np.argsort(-score_sentences(question, context, question_vector, weights), kind="stable")[:keep])
    sentences = [context.sentences[i].model_copy(update={"sid": n}) for n, i in enumerate(best, start=1)]
    return Context(sentences=sentences, vectors=context.vectors[best])


def select_sentences(question: str, context: Context, question_vector: np.ndarray, min_relevance: float,
                     weights: SelectionSettings, max_sentences: int = 2) -> list[tuple[str, list[int]]]:
    """(sentence text, [its sid]) for the best-scoring sentences; empty when none is relevant enough."""
    if not context.sentences:
        return []
    dense = context.vectors @ question_vector
    score = score_sentences(question, context, question_vector, weights)
    kind = expected_answer_type(question)
    typed = [i for i in map(int, np.argsort(-score, kind="stable")) if has_answer_type(context.sentences[i].text, kind)]
    if not typed or dense[typed[0]] < min_relevance:
        return []
    order = np.array(typed)
    best = typed[0]
    chosen = [best]
    for i in map(int, order[1:]):
        if len(chosen) >= max_sentences or score[i] < weights.runner_up * score[best]:
            break
        if dense[i] >= min_relevance and float(np.max(context.vectors[chosen] @ context.vectors[i])) < weights.repeat_similarity:
            chosen.append(i)
    return [(" ".join(context.sentences[i].text.split()), [context.sentences[i].sid]) for i in chosen]
