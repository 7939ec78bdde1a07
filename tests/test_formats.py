"""Each format reader on a small document written by hand, the choice of reader by content and
suffix, and the pipeline with files that hold many articles (real Chroma and MiniLM)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.ingest import formats
from rag.ingest.articles import article_from
from rag.ingest.formats.base import Extracted
from rag.ingest.formats.dates import iso_date
from rag.ingest.pipeline import forget, ingest_paths

from documents import atom, jsonl, pdf, rss
from support import make_store

PAUSE = "Kyiv agreed to a pause in strikes on energy sites, officials said on Thursday."
GRID = "Engineers restored power to the eastern districts after the overnight repairs."
PORT = "The harbour authority reopened the port on Friday after the storm had passed."
FERRY = "The ferry to the island resumed its crossings on Saturday morning."

FEED_ITEMS = [
    {"title": "Energy truce agreed", "link": "https://gazette.example/truce", "guid": "https://gazette.example/?p=1",
     "date": "Wed, 19 Mar 2025 14:05:00 +0100", "author": "Jane Roe", "summary": "A short teaser.",
     "content": f"<p>{PAUSE}</p><p>{GRID}</p><script>var x = 1;</script>"},
    {"title": "Port reopens", "link": "https://gazette.example/port", "guid": "port-2025",
     "date": "Fri, 21 Mar 2025 09:00:00 GMT", "summary": f"<p>{PORT}</p>"},
]


def read(data: bytes, suffix: str, source: str = "in") -> list[Extracted]:
    return formats.read(data, source + suffix, suffix)


# --- one reader each ------------------------------------------------------------------------------

def test_text_reader_keeps_the_text_and_names_a_legacy_encoding():
    (only,) = read(f"{PAUSE}\nLe café à Genève.\n".encode("cp1252"), ".txt")
    assert only.text == f"{PAUSE}\nLe café à Genève.\n" and only.key is None
    assert only.note == "not UTF-8: read as Windows-1252"


def test_markdown_front_matter_is_metadata_and_markup_is_dropped():
    source = ("---\ntitle: Truce holds\noutlet: Valley Courier\ndate: 2025-03-19\n---\n# Truce holds\n\n"
              f"**{PAUSE}** See [the statement](https://example.org/s) and ![a photo](p.jpg).\n\n> {GRID}\n")
    (only,) = read(source.encode(), ".md")
    assert only.front_matter == {"title": "Truce holds", "outlet": "Valley Courier", "date": datetime.date(2025, 3, 19)}
    assert only.text.startswith("Truce holds\n\n" + PAUSE + " See the statement and .")
    assert GRID in only.text and "**" not in only.text and "](" not in only.text and "> " not in only.text


def test_rss_entries_are_articles_with_full_content_else_summary():
    truce, port = read(rss(FEED_ITEMS), ".xml")
    assert truce.text == f"{PAUSE}\n\n{GRID}" and truce.key == "https://gazette.example/?p=1"
    assert truce.meta == {"title": "Energy truce agreed", "date": "2025-03-19T14:05:00+01:00", "byline": "Jane Roe",
                          "url": "https://gazette.example/truce", "outlet": "Harbour Gazette", "language": "en"}
    assert port.text == PORT and port.key == "port-2025" and port.meta["date"] == "2025-03-21T09:00:00+00:00"


def test_atom_entries_carry_content_author_and_both_dates():
    (entry,) = read(atom([{"title": "Grid repaired", "id": "urn:courier:7", "link": "https://courier.example/7",
                           "published": "2025-03-19T10:00:00-04:00", "updated": "2025-03-20T08:30:00Z",
                           "author": "Ann Lee", "summary": "Teaser.", "content": f"<p>{GRID}</p>"}]), ".atom")
    assert entry.text == GRID and entry.key == "urn:courier:7"
    assert entry.meta == {"title": "Grid repaired", "date": "2025-03-19T10:00:00-04:00",
                          "updated": "2025-03-20T08:30:00+00:00", "byline": "Ann Lee",
                          "url": "https://courier.example/7", "outlet": "Valley Courier"}


def test_json_lines_read_common_field_names_and_html_bodies():
    data = jsonl([
        {"headline": "Port reopens", "content": f"<p>{PORT}</p><p>{FERRY}</p>", "published": "2025-03-21T09:00:00Z",
         "source": {"id": None, "name": "Harbour Gazette"}, "link": "https://gazette.example/port",
         "authors": ["Jane Roe", "Sam Poe"], "description": "A teaser."},
        {"title": "Truce", "text": PAUSE, "date": 1742389200000, "outlet": "Wire"},
    ])
    port, truce = read(data, ".jsonl")
    assert port.text == f"{PORT}\n\n{FERRY}" and port.key == "https://gazette.example/port"
    assert port.meta == {"title": "Port reopens", "url": "https://gazette.example/port", "date": "2025-03-21T09:00:00+00:00",
                         "outlet": "Harbour Gazette", "byline": "Jane Roe, Sam Poe", "abstract": "A teaser."}
    assert truce.key == "2" and truce.meta["date"] == "2025-03-19T13:00:00+00:00"


def test_a_json_document_is_one_article_and_a_list_many():
    (one,) = read(json.dumps({"title": "Truce", "body": PAUSE}, indent=2).encode(), ".json")
    assert one.key is None and one.text == PAUSE and one.meta == {"title": "Truce"}
    listed = read(json.dumps([{"body": PAUSE}, {"body": GRID, "id": "g"}]).encode(), ".json")
    assert [(e.key, e.text) for e in listed] == [("1", PAUSE), ("g", GRID)]


def test_pdf_text_layer_becomes_paragraphs_with_document_information():
    lines = ["Kyiv agreed to a pause in strikes on energy sites, officials said on",  # runs on
             "Thursday after a long call.",  # short and ends a sentence: the paragraph ends
             "The pause is meant to last 30 days."]
    (only,) = read(pdf([lines, [GRID]], {"Title": "Energy truce", "Author": "Press Office",
                                         "CreationDate": "D:20250319120000+01'00'"}), ".pdf")
    assert only.text == (f"{lines[0]} {lines[1]}\n\nThe pause is meant to last 30 days.\n\n{GRID}")
    assert only.meta == {"title": "Energy truce", "byline": "Press Office", "date": "2025-03-19T12:00:00+01:00"}


def test_a_file_name_is_no_pdf_title():
    (only,) = read(pdf([[PAUSE]], {"Title": "Microsoft Word - draft7.docx"}), ".pdf")
    assert "title" not in only.meta


@pytest.mark.parametrize(("data", "suffix", "reader"), [
    (b"<!DOCTYPE html><html><body><p>A page.</p></body></html>", ".txt", "html"),  # a .txt that is a page
    (rss(FEED_ITEMS), ".html", "feed"),  # a feed saved as .html
    (rss(FEED_ITEMS), "", "feed"),  # no suffix
    (atom([{"title": "t", "id": "i", "content": "c"}]), ".xml", "feed"),
    (jsonl([{"text": PAUSE}, {"text": GRID}]), "", "json"),
    (json.dumps({"text": PAUSE}, indent=2).encode(), ".txt", "json"),
    (pdf([[PAUSE]]), ".txt", "pdf"),
    (b"---\ntitle: x\n---\nBody.\n", ".txt", "markdown"),
    (b"[Updated] Officials said the grid was repaired.\n", ".txt", "text"),  # prose that opens with a bracket
    (b"<Officials> said nothing.\n", "", "text"),
    (b"Plain words.\n", "", "text"),
])
def test_the_reader_is_chosen_by_content_before_suffix(data: bytes, suffix: str, reader: str):
    assert formats.reader_for(data, suffix).name == reader


@pytest.mark.parametrize(("value", "expected"), [
    ("Wed, 19 Mar 2025 14:05:00 GMT", "2025-03-19T14:05:00+00:00"),
    ("2025-03-19T14:05:00Z", "2025-03-19T14:05:00+00:00"),
    ("2025-03-19", "2025-03-19"),
    ("D:20250319", "2025-03-19"),
    ("D:20250319120000Z", "2025-03-19T12:00:00+00:00"),
    (1742392800, "2025-03-19T14:00:00+00:00"),
    ("next Tuesday", None), ("2025-02-30", None), (None, None), (True, None),
])
def test_dates_become_iso(value, expected):
    assert iso_date(value) == expected


def test_metadata_precedence_text_then_format_then_sidecar_then_front_matter():
    extracted = Extracted(f"Headline in the text\n\n{PAUSE}\n",
                          meta={"title": "Format title", "outlet": "Format outlet", "byline": "Format byline",
                                "url": "https://x.example/a"},
                          front_matter={"outlet": "Front outlet"})
    article = article_from(extracted, "/a.md", {"outlet": "Sidecar outlet", "byline": "Sidecar byline"})
    assert article.meta.title == "Format title" and article.meta.url == "https://x.example/a"
    assert article.meta.byline == "Sidecar byline" and article.meta.outlet == "Front outlet"


# --- files of many articles in the pipeline -------------------------------------------------------

@pytest.fixture
def store(tmp_path: Path, embeddings):
    made = make_store(tmp_path / "data", embeddings)
    yield made
    made.close()


def by_name(report) -> dict:
    return {Path(f.path).name: f for f in report.files}


def recorded(store, folder: Path) -> list[str]:
    """The paths articles are recorded under, relative to the folder ('feed.xml#key')."""
    return sorted(p.removeprefix(f"{folder.resolve()}/") for p, _ in store.catalog.paths())


def test_a_folder_of_every_format_ingests_each_article_under_its_file(tmp_path: Path, store):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "gazette.xml").write_bytes(rss(FEED_ITEMS))
    (folder / "export.ndjson").write_bytes(jsonl([{"title": "Ferry", "text": FERRY, "url": "https://f.example/1"}]))
    (folder / "release.pdf").write_bytes(pdf([[PAUSE]], {"Title": "Energy truce"}))
    (folder / "note.md").write_text(f"---\noutlet: Notes\n---\n{GRID}\n", encoding="utf-8")
    (folder / "sources.yaml").write_text("gazette.xml: {outlet: Gazette (sidecar)}\n", encoding="utf-8")
    report = ingest_paths(store, [folder])
    files = by_name(report)
    assert {n: (f.status, f.articles) for n, f in files.items()} == {
        "gazette.xml": ("new", 2), "export.ndjson": ("new", 1), "release.pdf": ("new", 1), "note.md": ("new", 1)}
    assert recorded(store, folder) == ["export.ndjson#https://f.example/1", "gazette.xml#https://gazette.example/?p=1",
                                       "gazette.xml#port-2025", "note.md", "release.pdf"]
    outlets = {a.meta.title: a.meta.outlet for a in store.catalog.articles()}
    assert outlets["Energy truce agreed"] == outlets["Port reopens"] == "Gazette (sidecar)"  # the sidecar wins
    assert outlets["Energy truce"] is None and outlets["Ferry"] is None
    line = next(x for x in report.lines() if "gazette.xml" in x)
    assert "(2 articles: 2 new;" in line and "chunks)" in line
    again = by_name(ingest_paths(store, [folder]))
    assert {f.status for f in again.values()} == {"unchanged"} and again["gazette.xml"].articles == 2


def test_an_entry_gone_from_a_feed_is_forgotten_and_a_changed_one_replaced(tmp_path: Path, store):
    feed = tmp_path / "gazette.rss"
    feed.write_bytes(rss(FEED_ITEMS))
    ingest_paths(store, [feed])
    changed = {**FEED_ITEMS[0], "content": f"<p>{PAUSE}</p><p>{FERRY}</p>"}
    feed.write_bytes(rss([changed]))
    result = ingest_paths(store, [feed]).files[0]
    statuses = {e.key: e.status for e in result.entries}
    assert statuses == {"https://gazette.example/?p=1": "changed", "port-2025": "forgotten"}
    (article,) = store.catalog.articles()
    assert FERRY in article.text and article.path.endswith("gazette.rss#https://gazette.example/?p=1")
    assert store.vectors.count() == store.catalog.count_chunks()


def test_forget_a_feed_file_forgets_its_entries_and_one_entry_by_its_key(tmp_path: Path, store):
    feed = tmp_path / "gazette.rss"
    feed.write_bytes(rss(FEED_ITEMS))
    ingest_paths(store, [feed])
    assert len(forget(store, f"{feed}#port-2025")) == 1 and len(store.catalog.article_ids()) == 1
    assert len(forget(store, str(feed))) == 1 and store.catalog.article_ids() == []


def test_a_renamed_feed_keeps_its_articles_and_sync_forgets_a_deleted_one(tmp_path: Path, store):
    folder = tmp_path / "feeds"
    folder.mkdir()
    (folder / "gazette.rss").write_bytes(rss(FEED_ITEMS))
    (folder / "courier.atom").write_bytes(atom([{"title": "Ferry", "id": "urn:f", "content": FERRY}]))
    ingest_paths(store, [folder])
    (folder / "gazette.rss").rename(folder / "harbour.rss")
    files = by_name(ingest_paths(store, [folder]))
    assert files["harbour.rss"].status == "renamed" and files["harbour.rss"].reason.endswith("gazette.rss")
    assert len(store.catalog.article_ids()) == 3
    (folder / "courier.atom").unlink()
    report = ingest_paths(store, [folder], sync=True)
    assert [Path(f.path).name for f in report.files if f.status == "forgotten"] == ["courier.atom#urn:f"]
    assert recorded(store, folder) == ["harbour.rss#https://gazette.example/?p=1", "harbour.rss#port-2025"]


def test_the_cli_report_has_one_line_per_file_with_its_article_count(tmp_path: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "gazette.xml").write_bytes(rss(FEED_ITEMS))
    (folder / "wire").write_bytes(jsonl([{"text": PAUSE}, {"text": "[/red][bold]GRID"}]))  # no suffix, sniffed
    result = CliRunner().invoke(app, ["ingest", str(folder)])
    assert result.exit_code == 0, result.output
    lines = [" ".join(x.split()) for x in result.output.splitlines()]
    assert any("gazette.xml (2 articles: 2 new;" in x for x in lines), result.output
    assert any("wire (2 articles: 2 new;" in x for x in lines), result.output


def test_a_translation_beside_its_original_in_one_export_is_found_as_a_copy(tmp_path: Path, store):
    from support import AP, AP_TRANSLATION, SEEDS

    export = tmp_path / "wire.jsonl"
    export.write_bytes(jsonl([{"id": name, "text": (SEEDS / name).read_text(encoding="utf-8")}
                              for name in (AP, AP_TRANSLATION)]))
    report = ingest_paths(store, [export])
    assert report.files[0].articles == 2
    ids = {Path(a.path).name.rpartition("#")[2]: a.id for a in store.catalog.articles()}
    (link,) = report.duplicates  # which is the original needs dates or the sidecar's 'translation'
    assert {link[0], link[1]} == {ids[AP], ids[AP_TRANSLATION]}
