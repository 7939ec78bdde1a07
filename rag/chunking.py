"""Token-aware, sentence-aligned chunks that remember their character offsets in the article."""

from __future__ import annotations

from pydantic import BaseModel

from rag.sentences import Span, split_sentences
from rag.tokens import TokenCounter


class Chunk(BaseModel):
    """A piece of an article: `text == article.text[start:end]`."""

    id: str
    article_id: str
    index: int
    start: int
    end: int
    text: str


def _split_long(text: str, span: Span, counter: TokenCounter, max_tokens: int) -> list[Span]:
    """Cut a sentence longer than the budget at token boundaries."""
    tokens = counter.encode(text[span.start : span.end])
    if len(tokens) <= max_tokens:
        return [span]
    _, offsets = counter.encoding.decode_with_offsets(tokens)
    cuts = [offsets[i] for i in range(max_tokens, len(tokens), max_tokens)]
    bounds = [0, *cuts, span.end - span.start]
    return [Span(span.start + a, span.start + b) for a, b in zip(bounds, bounds[1:]) if b > a]


def chunk_text(
    article_id: str, text: str, counter: TokenCounter, max_tokens: int, overlap: int
) -> list[Chunk]:
    """Greedily pack whole sentences up to `max_tokens`, repeating up to `overlap` tokens."""
    units: list[tuple[Span, int]] = []
    for sentence in split_sentences(text):
        for span in _split_long(text, sentence, counter, max_tokens):
            units.append((span, counter.count(text[span.start : span.end])))
    chunks: list[Chunk] = []
    first = 0
    while first < len(units):
        last, used = first, units[first][1]
        while last + 1 < len(units) and used + units[last + 1][1] <= max_tokens:
            last += 1
            used += units[last][1]
        start, end = units[first][0].start, units[last][0].end
        index = len(chunks)
        chunks.append(
            Chunk(id=f"{article_id}:{index}", article_id=article_id, index=index, start=start, end=end,
                  text=text[start:end])
        )
        if last + 1 >= len(units):
            break
        # Step back over trailing sentences that fit in the overlap, but always advance.
        next_first, carried = last + 1, 0
        while next_first - 1 > first and carried + units[next_first - 1][1] <= overlap:
            next_first -= 1
            carried += units[next_first][1]
        first = next_first
    return chunks
