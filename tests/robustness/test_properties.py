"""Properties that must hold for any text: chunk offsets, sentence spans, metadata parsing, content
ids and decoding. Hypothesis generates the text; the tokenizer is the real offline cl100k_base."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from rag.ingest.articles import build_article, normalise_text, parse_metadata
from rag.store.chunking import chunk_text
from rag.errors import InputError
from rag.ingest.reading import decode, html_to_text
from rag.text.sentences import split_sentences
from rag.text.tokens import TokenCounter, get_encoding

PROPERTY = settings(max_examples=150, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Text with the characters that trip up splitters: line breaks of every kind, sentence punctuation,
# quotes, dashes, ellipses, CJK, emoji, combining marks, no-break and zero-width spaces.
awkward = st.sampled_from(list(".!?…;:,\"'“”‘’«»()[]—–-\n\n\r\t \u00a0\u200b\u2028\u3002東京é\u0301🙂 ")) | st.characters()
words = st.sampled_from(["Mr.", "U.S.", "Dr.", "Kyiv", "said", "1.5", "e.g.", "(AP)", "—", "A.", "ceasefire", "Zelenskyy"])
noise = st.lists(awkward | words | st.text(max_size=12), max_size=120).map("".join)
# Prose-like text: sentences of words, separated by spaces, blank lines, tabs or no-break spaces.
sentence = st.builds(
    lambda ws, end: " ".join(ws) + end,
    st.lists(words | st.text(st.characters(categories=("L", "N")), min_size=1, max_size=10), min_size=1, max_size=12),
    st.sampled_from([".", "!", "?", "…", ".”", "", ":"]),
)
gap = st.sampled_from([" ", "  ", "\n", "\n\n", " \t ", "\n \n\t\n", "\u00a0", "\r\n", "\n\n\n\n"])
prose = st.lists(st.tuples(sentence, gap), max_size=25).map(lambda pairs: "".join(s + g for s, g in pairs))
texts = noise | prose


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory) -> TokenCounter:
    with pytest.MonkeyPatch.context() as env:  # tokens.py exports its cache dir; keep that to this module
        env.delenv("TIKTOKEN_CACHE_DIR", raising=False)
        return TokenCounter(get_encoding("cl100k_base", tmp_path_factory.mktemp("cache")))


@PROPERTY
@given(text=texts, max_tokens=st.integers(4, 40), overlap_share=st.floats(0, 0.5))
def test_chunks_round_trip_and_cover_every_character(counter, text, max_tokens, overlap_share):
    chunks = chunk_text("a1", text, counter, max_tokens, int(max_tokens * overlap_share))
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert [c.id for c in chunks] == [f"a1:{i}" for i in range(len(chunks))]
    covered = set()
    for chunk in chunks:
        assert 0 <= chunk.start < chunk.end <= len(text)
        assert chunk.text == text[chunk.start : chunk.end]
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
    assert all(a.start < b.start for a, b in zip(chunks, chunks[1:]))


@PROPERTY
@example(text="Mr..\nMr. Kyiv. Mr. Mr. Mr.. ", max_tokens=10, overlap_share=0.5)
@given(text=texts, max_tokens=st.integers(4, 40), overlap_share=st.floats(0, 0.5))
def test_every_chunk_reaches_past_the_previous_one(counter, text, max_tokens, overlap_share):
    chunks = chunk_text("a1", text, counter, max_tokens, int(max_tokens * overlap_share))
    assert all(a.end < b.end for a, b in zip(chunks, chunks[1:])), [(c.start, c.end) for c in chunks]


@PROPERTY
@example(text="A.\n\n\t\n \n\t\nB.", max_tokens=4, overlap_share=0.0)
@given(text=texts, max_tokens=st.integers(4, 40), overlap_share=st.floats(0, 0.5))
def test_chunks_keep_the_token_budget_except_for_one_over_long_sentence(counter, text, max_tokens, overlap_share):
    for chunk in chunk_text("a1", text, counter, max_tokens, int(max_tokens * overlap_share)):
        if counter.count(chunk.text) > max_tokens:
            # Allowed only for a piece of one sentence cut at token boundaries: re-encoded on its own
            # it may take a few more tokens than the cut promised.
            inside = [s for s in split_sentences(text) if s.start <= chunk.start and chunk.end <= s.end]
            assert inside, f"{chunk.text!r}: {counter.count(chunk.text)} tokens > {max_tokens} over several sentences"


@PROPERTY
@given(text=texts)
def test_sentence_spans_are_ordered_disjoint_non_empty_and_trimmed(text):
    spans = split_sentences(text)
    previous_end = 0
    for span in spans:
        assert previous_end <= span.start < span.end <= len(text)
        piece = text[span.start : span.end]
        assert piece == piece.strip() and piece.strip()
        assert "\n" not in piece
        previous_end = span.end
    joined = "".join(text[s.start : s.end] for s in spans)
    assert "".join(text.split()) == "".join(joined.split()), "a sentence split lost characters"


header_lines = st.sampled_from([
    "2025-03-19", "2025-03-19 00:41:00", "date 2025-03-19 (AP) —", "KYIV, Ukraine (Reuters) — ",
    "By Jane Doe and John Roe", "Abstract: a summary", "Abstract:", "Jane Doe is a NOTUS reporter.",
    "---", "title: x", "", "   ", "\u00a0",
])
metadata_texts = st.lists(header_lines | st.text(max_size=60), max_size=12).map("\n".join) | texts


@PROPERTY
@given(text=metadata_texts)
def test_parse_metadata_never_raises_and_returns_stripped_fields(text):
    meta = parse_metadata(text)
    for value in (meta.title, meta.abstract, meta.outlet):
        assert value is None or (value == value.strip() and value)


lines = st.lists(st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=40),
                 min_size=1, max_size=8)


@PROPERTY
@given(lines=lines, newline=st.sampled_from(["\r\n", "\r"]), bom=st.booleans(), trailing=st.booleans())
def test_article_id_is_the_same_under_crlf_and_bom(lines, newline, bom, trailing):
    assume(lines[0].strip() != "---")  # YAML front matter is a separate concern (see test_bad_files)
    plain = "\n".join(lines) + ("\n" if trailing else "")
    variant = ("\ufeff" if bom else "") + newline.join(lines) + (newline if trailing else "")
    assert normalise_text(variant) == normalise_text(plain)
    assert build_article(Path("a.txt"), variant).id == build_article(Path("b.txt"), plain).id


@PROPERTY
@given(text=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=200),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-be-bom", "utf-32"]))
def test_decoding_recovers_text_written_in_any_unicode_encoding(text, encoding):
    assume("\x00" not in text)  # a NUL in the first 8 kB is how binary files are told apart
    if encoding == "utf-16-be-bom":
        data = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)
    assert decode(data).lstrip("\ufeff") == text.lstrip("\ufeff")


@PROPERTY
@given(data=st.binary(max_size=300))
def test_decoding_arbitrary_bytes_gives_text_or_a_one_line_reason(data):
    try:
        assert isinstance(decode(data), str)
    except InputError as exc:
        assert "\n" not in exc.message


tags = st.sampled_from(["<p>", "</p>", "<li>", "</li>", "<br>", "<b>", "</b>", "<article>", "</article>", "<!--",
                        "-->", "<style>", "</style>", "&amp;", "&nbsp;", "<blockquote>"])
html_parts = st.lists(tags | texts.map(lambda s: s.replace("<", "")), max_size=12).map("".join)


@PROPERTY
@given(before=html_parts, after=html_parts)
def test_html_to_text_never_raises_and_never_keeps_scripts_or_comments(before, after):
    text = html_to_text(f"{before}<script>var SCRIPTED = 1;</script><!-- COMMENTED -->{after}")
    assert "SCRIPTED" not in text and "COMMENTED" not in text
