"""`rag ingest URL`, a feed URL and `--from urls.txt`, end to end through the CLI, against pages served
by a local HTTP server on 127.0.0.1 (real Chroma, real MiniLM, the extractive backend)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app

_FILLER = ("Residents were asked to stay away from the water until the all-clear is given. "
           "Officials said they would review the response once the weather calmed down. ")


def _page(site: str, headline: str, date: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{headline} | {site}</title>
<meta property="og:site_name" content="{site}"><meta property="og:title" content="{headline}">
<meta property="article:published_time" content="{date}T08:30:00Z"></head>
<body><nav><a href="/">Home</a> <a href="/weather">Weather</a> <a href="/sport">Sport</a></nav>
<article><h1>{headline}</h1><p class="byline">By Ana Reyes</p>{body}</article>
<footer>Copyright {site}. All rights reserved. Subscribe to our newsletter.</footer></body></html>""".encode()


PAGES = {
    "/news/harbour-storm": ("text/html; charset=utf-8", _page(
        "Coastal Gazette", "Storm closes the harbour for two days", "2026-11-03",
        ["The harbour authority closed the port on Tuesday after waves reached six metres near the breakwater.",
         "Harbour master Lena Ortiz said the ferry to the island would stay in port until Thursday morning.",
         _FILLER])),
    "/news/bridge-repair": ("text/html; charset=utf-8", _page(
        "Coastal Gazette", "Old bridge to reopen after repairs", "2026-11-05",
        ["The old river bridge will reopen to traffic on Friday after four months of repairs costing 2.4 million euros.",
         "Engineers replaced 38 steel cables and resurfaced the deck, the city council said.", _FILLER])),
    "/news/school-garden": ("text/html; charset=utf-8", _page(
        "Valley Courier", "Pupils plant a school garden", "2026-11-06",
        ["Pupils at Hillside Primary planted 120 fruit trees in a new school garden on Wednesday.",
         "Head teacher Omar Haddad said the garden would supply the school kitchen within three years.", _FILLER])),
}
FEED = b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Coastal Gazette</title>
<link>http://127.0.0.1/</link>
<item><title>Old bridge to reopen after repairs</title><link>/news/bridge-repair</link></item>
<item><title>Gone</title><link>/news/missing</link></item></channel></rss>"""


@pytest.fixture
def site() -> Iterator[tuple[str, Counter]]:
    hits: Counter[str] = Counter()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            hits[self.path] += 1
            content_type, body = PAGES.get(self.path, (None, None))
            if self.path == "/feed.xml":
                content_type, body = "application/rss+xml", FEED
            if body is None:
                content_type, body, status = "text/html", b"<h1>Not found</h1>", 404
            else:
                status = 200
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def _rag(data: Path):
    runner = CliRunner()
    env = {"RAG_DATA_DIR": str(data), "RAG_BACKEND": "extractive", "COLUMNS": "300"}
    return lambda *args: runner.invoke(app, list(args), env=env)


def test_a_page_url_is_ingested_with_its_metadata_and_cited_by_outlet_headline_and_date(tmp_path, site):
    base, hits = site
    rag = _rag(tmp_path / "data")
    result = rag("ingest", f"{base}/news/harbour-storm")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(rag("articles", "--json").stdout)
    assert (row["outlet"], row["title"], row["date"][:10]) == (
        "Coastal Gazette", "Storm closes the harbour for two days", "2026-11-03")
    assert row["path"] == f"{base}/news/harbour-storm"
    stored = json.loads(rag("show", row["id"], "--json").stdout)["text"]
    assert "waves reached six metres" in stored and "Subscribe" not in stored and "Home" not in stored
    answer = " ".join(rag("ask", "How high were the waves near the breakwater?").output.split())
    assert "six metres" in answer
    assert "Coastal Gazette — Storm closes the harbour for two days (2026-11-03)" in answer
    # The page is kept in the data dir: ingesting it again needs no request.
    again = rag("ingest", f"{base}/news/harbour-storm")
    assert again.exit_code == 0 and "Nothing changed" in again.output and hits["/news/harbour-storm"] == 1
    rag("ingest", "--refresh", f"{base}/news/harbour-storm")
    assert hits["/news/harbour-storm"] == 2
    forgotten = rag("forget", f"{base}/news/harbour-storm")
    assert forgotten.exit_code == 0 and json.loads(rag("articles", "--json").stdout) == []


def test_a_feed_url_ingests_its_entries_pages_and_names_the_one_that_failed(tmp_path, site):
    base, _ = site
    rag = _rag(tmp_path / "data")
    result = rag("ingest", f"{base}/feed.xml")
    output = " ".join(result.output.split())
    assert f"{base}/news/bridge-repair" in output and "new" in output
    assert f"failed {base}/news/missing: HTTP 404" in output
    rows = json.loads(rag("articles", "--json").stdout)
    assert [r["title"] for r in rows] == ["Old bridge to reopen after repairs"]


def test_a_list_of_urls_is_ingested_and_a_bad_line_is_named(tmp_path, site):
    base, _ = site
    rag = _rag(tmp_path / "data")
    listing = tmp_path / "urls.txt"
    listing.write_text(f"# today's reading\n{base}/news/school-garden\n\n{base}/news/bridge-repair\n", encoding="utf-8")
    assert rag("ingest", "--from", str(listing)).exit_code == 0
    outlets = sorted(r["outlet"] for r in json.loads(rag("articles", "--json").stdout))
    assert outlets == ["Coastal Gazette", "Valley Courier"]
    listing.write_text(f"{base}/news/school-garden\nnot a url\n", encoding="utf-8")
    bad = rag("ingest", "--from", str(listing))
    assert bad.exit_code == 2 and "line 2" in " ".join(bad.output.split())
