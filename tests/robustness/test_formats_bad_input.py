"""Feeds, exports and PDFs that are empty, broken, cut off, locked, scanned or huge, ingested in one
batch beside the seeds: each bad file or entry gets a clear one-line reason, everything else is
ingested, and nothing of a refused file reaches the store. A feed of 10,000 entries ingests with
moving progress (stand-in embedder: the test is about everything around the model).

The CLI runs once per module (--json for the report, text for what people read), with real Chroma
and MiniLM; its data dir is passed explicitly because the autouse fixture is per test.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.ingest.pipeline import ingest_paths

from documents import encrypted, jsonl, pdf, rss
from support import SEEDS, make_store
from test_scaling import HashedWords

PAUSE = "Kyiv agreed to a pause in strikes on energy sites, officials said on Thursday."
PORT = "The harbour authority reopened the port on Friday after the storm had passed."
CAFE = "Le café de la gare a rouvert à Genève, et les habitués ont salué la décision du maire."
GOOD_FEED = rss([{"title": "Port reopens", "guid": "port", "summary": PORT}])
# file name -> (bytes, words its one-line reason must contain)
BAD: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "empty.rss": (rss([]), ("no entries",)),
    "cut-off.xml": (GOOD_FEED[: len(GOOD_FEED) // 2 + 40], ("cut off", "nothing read")),
    "not-xml.rss": (b"this is not a feed <<< at all\n", ("not an RSS or Atom feed",)),
    "titles-only.rss": (rss([{"title": "Read more", "link": "https://x.example/1"}]), ("no text", "title and link")),
    "all-broken.jsonl": (b"{not json\n[1, 2]\n", ("2 of 2 entries failed", "not valid JSON", "not a JSON object")),
    "truncated.pdf": (pdf([[PAUSE]])[:200], ("truncated or damaged",)),
    "locked.pdf": (encrypted(pdf([[PAUSE]])), ("encrypted", "password")),
    "scan.pdf": (pdf([[], []]), ("no text layer", "2 pages", "OCR")),
    "not-a.pdf": (b"PK\x03\x04 a zip named .pdf", ("not a PDF",)),
    "odd-utf16.txt": (b"\xff\xfeK\x00y\x00i", ("UTF-16",)),
}
BROKEN_LINES = jsonl([{"title": "Pause", "text": PAUSE}, "{\"title\": \"cut", [1, 2], {"title": "No body"},
                      {"headline": "Port", "body": PORT}])
GRID = "Engineers restored power to the eastern districts after the overnight repairs."
FERRY = "The ferry to the island resumed its crossings on Saturday morning."
LATIN1_FEED = rss([{"title": "Café", "guid": "cafe", "summary": CAFE}]).decode("utf-8").encode("latin-1")  # declared UTF-8
MALFORMED = rss([{"title": "Ferry", "guid": "ferry", "summary": FERRY},  # an entry the XML error swallows
                 {"title": "Grid", "guid": "grid", "summary": GRID}]).replace(b"Ferry</title>", b"Ferry</titel>")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, embeddings):
    base = tmp_path_factory.mktemp("bad_formats")
    folder = base / "articles"
    shutil.copytree(SEEDS, folder)
    for name, (data, _) in BAD.items():
        (folder / name).write_bytes(data)
    (folder / "broken-lines.jsonl").write_bytes(BROKEN_LINES)
    (folder / "latin1.rss").write_bytes(LATIN1_FEED)
    (folder / "malformed.rss").write_bytes(MALFORMED)
    env = {"RAG_DATA_DIR": str(base / "data")}
    as_json = CliRunner().invoke(app, ["ingest", "--json", str(folder)], env=env)
    as_text = CliRunner().invoke(app, ["ingest", str(folder)], env=env)
    files = {Path(f["path"]).name: f for f in json.loads(as_json.stdout)["files"]}
    store = make_store(base / "data", embeddings)
    yield {"json": as_json, "text": as_text, "files": files, "store": store, "env": env}
    store.close()


def test_the_seeds_and_the_readable_files_are_ingested(run):
    statuses = {name: f["status"] for name, f in run["files"].items() if name not in BAD}
    assert statuses == {**{p.name: "new" for p in SEEDS.glob("*.txt")}, "broken-lines.jsonl": "new",
                        "latin1.rss": "new", "malformed.rss": "new"}


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_bad_file_fails_with_a_one_line_human_reason(run, name: str):
    result = run["files"][name]
    assert result["status"] == "failed", result
    reason = result["reason"]
    assert "\n" not in reason and not re.search(r"\b\w+(Error|Exception)\b", reason), reason
    for words in BAD[name][1]:
        assert words in reason, reason


def test_nothing_of_a_refused_file_reaches_the_store(run):
    recorded = {Path(p.partition("#")[0]).name for p, _ in run["store"].catalog.paths()}
    assert not recorded & set(BAD)
    assert CliRunner().invoke(app, ["doctor"], env=run["env"]).exit_code == 0


def test_broken_lines_are_reasons_and_the_other_lines_articles(run):
    result = run["files"]["broken-lines.jsonl"]
    assert result["articles"] == 2 and result["reason"].startswith("3 of 5 entries failed: line 2: not valid JSON")
    reasons = [e["reason"] for e in result["entries"] if e["status"] == "failed"]
    assert reasons[1:] == ["line 3: not a JSON object but list",
                           "line 4: no article text (no text, content, body ... field with text)"]
    texts = {a.text for a in run["store"].catalog.articles()}
    assert {PAUSE + "\n", PORT + "\n"} <= texts


def test_a_feed_in_another_encoding_than_declared_is_read_with_a_note(run):
    result = run["files"]["latin1.rss"]
    assert "declared as utf-8" in result["note"] and "windows-1252" in result["note"]
    assert CAFE + "\n" in {a.text for a in run["store"].catalog.articles()}


def test_a_malformed_but_complete_feed_is_read_leniently_and_says_so(run):
    result = run["files"]["malformed.rss"]
    assert result["articles"] == 1 and "mismatched tag at line 3" in result["note"]
    assert "entry 1 (1): no text left by the malformed XML (mismatched tag at line 3)" in result["reason"]
    assert GRID + "\n" in {a.text for a in run["store"].catalog.articles()}


def test_the_text_report_has_a_line_per_failure_and_no_traceback(run):
    output = run["text"].output
    assert run["text"].exit_code == 1 and "Traceback" not in output
    flat = [" ".join(line.split()) for line in output.splitlines()]
    for name in BAD:
        assert any(re.match(rf"failed \S*{re.escape(name)}", line) for line in flat), name
    assert any(line.startswith("failed line 2: not valid JSON") for line in flat), output


def feed_of(entries: int, seed: int = 13) -> bytes:
    """A feed of `entries` short, distinct stories (words drawn from the seed articles)."""
    words = sorted({w.strip(".,\"'") for p in SEEDS.glob("*.txt") for w in p.read_text(encoding="utf-8").split()})
    rng = random.Random(seed)
    return rss([{"title": f"Story {i}", "guid": f"story-{i}", "date": "Wed, 19 Mar 2025 14:05:00 GMT",
                 "content": "<p>" + " ".join(rng.choice(words) for _ in range(50)) + f". Story {i}.</p>"}
                for i in range(entries)])


def test_a_feed_of_ten_thousand_entries_ingests_with_moving_progress(tmp_path: Path):
    feed = tmp_path / "huge.rss"
    feed.write_bytes(feed_of(10_000))
    store = make_store(tmp_path / "data", HashedWords())
    events: list[tuple[str, float]] = []
    started = time.monotonic()
    (result,) = ingest_paths(store, [feed], lambda what, share: events.append((what, share))).files
    seconds = time.monotonic() - started
    assert result.status == "new" and result.articles == 10_000 and len(store.catalog.article_ids()) == 10_000
    assert seconds < 180, f"{seconds:.0f} s"  # about 35 s on a shared 2-core machine
    moves = [share for _, share in events if share > 0]
    assert len(moves) >= 100 and sum(moves) == 1.0
    assert any(re.search(r"huge\.rss \d+-\d+/10000", what) for what, _ in events)
    again = time.monotonic()
    (result,) = ingest_paths(store, [feed]).files
    assert result.status == "unchanged" and time.monotonic() - again < seconds


@pytest.mark.parametrize("page", [
    "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1>"
    "<p>The requested URL was not found on this server.</p></body></html>",
    "<html><head><title>Sign in</title></head><body><form><p>Email</p><input name=e><p>Password</p>"
    "<input type=password></form><p>Forgot your password?</p></body></html>",
])
def test_a_saved_error_or_login_page_is_no_article(tmp_path: Path, page: str):
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", "--json", str(tmp_path / "page.html")])
    (only,) = json.loads(result.stdout)["files"]
    assert only["status"] == "failed" and "\n" not in only["reason"]
