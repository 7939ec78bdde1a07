"""Syndication: one wire story republished by other sites (a new headline, a local line added, a paragraph
cut) is a derived copy of the wire report, never a second independent source."""

from __future__ import annotations

from pathlib import Path

from rag.answer.answerer import Answerer
from rag.answer.backends import ExtractiveBackend
from rag.ingest.pipeline import ingest_paths

from support import AP, SEEDS, article_id_of, make_store


def _republish(wire: str, headline: str, local_line: str, cut: int) -> str:
    """The wire text as a local site prints it: its own headline, one paragraph cut, a local line at the end."""
    paragraphs = [p for p in wire.split("\n\n") if p.strip()]
    kept = paragraphs[1:cut] + paragraphs[cut + 1 :]
    return "\n\n".join([headline, *kept, local_line]) + "\n"


def test_wire_copies_on_local_sites_are_derived_and_count_once(tmp_path: Path, embeddings):
    folder = tmp_path / "in"
    folder.mkdir()
    wire = (SEEDS / AP).read_text(encoding="utf-8")
    (folder / "wire.txt").write_text(wire, encoding="utf-8")
    (folder / "valley.txt").write_text(_republish(
        wire, "Trump and Zelenskyy talk ceasefire by phone",
        "The Valley Courier will update this story as more details become available.", 4), encoding="utf-8")
    (folder / "harbor.txt").write_text(_republish(
        wire, "Leaders hold call on energy truce",
        "Harbor Daily readers can sign up for our morning newsletter for updates.", 7), encoding="utf-8")
    (folder / "sources.yaml").write_text(
        'wire.txt: {outlet: "Associated Press", date: "2025-03-19"}\n'
        'valley.txt: {outlet: "Valley Courier", date: "2025-03-19 18:00"}\n'
        'harbor.txt: {outlet: "Harbor Daily", date: "2025-03-20"}\n', encoding="utf-8")
    store = make_store(tmp_path / "data", embeddings)
    report = ingest_paths(store, [folder])
    wire_id = article_id_of(store, "wire.txt")
    clusters = store.catalog.clusters()
    assert {d for d, _, _ in report.duplicates} == {article_id_of(store, "valley.txt"),
                                                    article_id_of(store, "harbor.txt")}
    assert all(clusters[article_id_of(store, name)] == wire_id for name in ("valley.txt", "harbor.txt"))
    answer = Answerer(store, ExtractiveBackend(store.settings)).ask(
        "How much aid has the U.S. sent Ukraine since the start of the war?")
    assert not answer.abstained and answer.independent_sources == 1
    assert all(c.article_id == wire_id for c in answer.citations)  # quotes moved to the wire original
