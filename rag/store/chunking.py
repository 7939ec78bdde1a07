"""Token-aware, sentence-aligned chunks that remember their character offsets in the article."""

from __future__ import annotations

from collections.abc import Callable

from rag.text.sentences import Span, split_sentences
from rag.text.tokens import TokenCounter
from rag.types import Chunk


def _split_long(text: str, span: Span, counter: TokenCounter, max_tokens: int) -> list[Span]:
    """Cut a sentence longer than the budget at token boundaries."""
    piece = text[span.start : span.end]
    if len(piece.encode("utf-8", "replace")) <= max_tokens:  # every token covers at least one byte
        return [span]
    tokens = counter.encode(piece)
    if len(tokens) <= max_tokens:
        return [span]
    _, offsets = counter.encoding.decode_with_offsets(tokens)
    cuts = [offsets[i] for i in range(max_tokens, len(tokens), max_tokens)]
    bounds = [0, *cuts, span.end - span.start]
    return [Span(span.start + a, span.start + b) for a, b in zip(bounds, bounds[1:]) if b > a]


def _longest(limit: int, fits: Callable[[int], bool]) -> int:
    """The largest m in [0, limit] with fits(1) .. fits(m) all true, found by galloping then
    bisecting, so packing n sentences costs O(log n) token counts instead of n. Token counts grow
    with the text they count, so fits holds up to some m and fails beyond it."""
    low, high = 0, 1
    while high <= limit and fits(high):
        low, high = high, high * 2
    high = min(high, limit + 1)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return low


def chunk_text(
    article_id: str, text: str, counter: TokenCounter, max_tokens: int, overlap: int
) -> list[Chunk]:
    """Greedily pack whole sentences up to `max_tokens`, repeating up to `overlap` tokens.

    Sizes are counted on the chunk's exact text, whitespace between sentences included.
    """
    units: list[Span] = []
    for sentence in split_sentences(text):
        units.extend(_split_long(text, sentence, counter, max_tokens))

    def tokens(a: int, b: int) -> int:  # tokens of units a..b inclusive, as they stand in the text
        return counter.count(text[units[a].start : units[b].end])

    chunks: list[Chunk] = []
    first = 0
    while first < len(units):
        last = first + _longest(len(units) - 1 - first, lambda m: tokens(first, first + m) <= max_tokens)
        start, end = units[first].start, units[last].end
        index = len(chunks)
        chunks.append(Chunk(id=f"{article_id}:{index}", article_id=article_id, index=index, start=start, end=end,
                            text=text[start:end]))
        if last + 1 >= len(units):
            break
        # Step back over trailing sentences that fit in the overlap, as long as the next chunk can
        # still take the first new sentence: every chunk must reach past the previous one.
        back = _longest(last - first, lambda m: tokens(last + 1 - m, last) <= overlap
                        and tokens(last + 1 - m, last + 1) <= max_tokens)
        first = last + 1 - back
    return chunks
