"""Article text is data, never markup: titles, outlets, sentences, file paths and error messages
that look like rich markup (`[/bold]`, `[/]`, `[link=...]`, `[red]`) go through every command
literally, with exit code 0 and no MarkupError.

The commands run through the real CLI (typer's CliRunner, real Chroma and MiniLM, the extractive
backend) against one store built once per module. The data dir's own path holds a closing tag, so
everything that prints a path is covered too.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rag.cli import app

TITLE = "Harbour [/bold] storm [/] warning [red] issued"
OUTLET = "Coast [/] Gazette [link=http://x]y[/link]"
SIDECAR_OUTLET = "Harbour [/bold] Times [red]"
LINK = "[link=http://x]y[/link]"
SENTENCES = [
    "The harbour authority closed the port [/bold] on Tuesday after the storm [/] warning.",
    f"Officials said the waves reached [red] six metres {LINK} near the breakwater.",
]
SIDECAR_SENTENCES = [
    "Fishing boats stayed in the [/] harbour on Wednesday as the storm [/bold] passed.",
    "The ferry to the island [red] resumed its crossings on Thursday morning.",
]
FILE_NAME = "[red]storm.txt"
QUESTION = "How high did the waves reach near the breakwater?"


def flat(text: str) -> str:
    """Output with runs of whitespace as one space: rich wraps long lines."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory):
    """A runner bound to a store holding the two markup-laden articles (ingested via the CLI)."""
    base = tmp_path_factory.mktemp("markup")
    folder = base / "articles"
    folder.mkdir()
    front = f'---\ntitle: "{TITLE}"\noutlet: "{OUTLET}"\ndate: "2025-04-02"\n---\n'
    (folder / FILE_NAME).write_text(front + "\n".join(SENTENCES) + "\n", encoding="utf-8")
    (folder / "ferry.txt").write_text("\n".join(SIDECAR_SENTENCES) + "\n", encoding="utf-8")
    (folder / "sources.yaml").write_text(f'ferry.txt: {{outlet: "{SIDECAR_OUTLET}", date: "2025-04-03"}}\n',
                                         encoding="utf-8")
    data = base / "store[" / "red]data"  # the path reads ".../store[/red]data"
    env = {"RAG_DATA_DIR": str(data), "RAG_BACKEND": "extractive", "COLUMNS": "400"}
    runner = CliRunner()

    def invoke(*args: str, **kwargs):
        return runner.invoke(app, list(args), env=env, **kwargs)

    ingested = invoke("ingest", str(folder))
    invoke.ingested = ingested
    invoke.folder = folder
    invoke.data = data
    return invoke


def ok(result) -> str:
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "Traceback" not in result.output and "MarkupError" not in result.output
    return flat(result.output)


def test_ingest_prints_file_paths_literally(cli):
    output = ok(cli.ingested)
    assert f"new {cli.folder / FILE_NAME} (" in output
    assert "2 new" in output


def test_articles_table_shows_titles_and_outlets_literally(cli):
    output = ok(cli("articles"))
    assert TITLE in output
    assert OUTLET in output
    assert SIDECAR_OUTLET in output
    rows = json.loads(cli("articles", "--json").stdout)
    assert {r["title"] for r in rows} >= {TITLE}


def test_show_prints_metadata_and_text_literally(cli):
    rows = json.loads(cli("articles", "--json").stdout)
    marked = next(r for r in rows if r["title"] == TITLE)
    output = ok(cli("show", marked["id"][:6]))
    assert f"{OUTLET} — {TITLE} (2025-04-02)" in output
    assert all(sentence in output for sentence in SENTENCES)
    stored = json.loads(cli("show", marked["id"], "--json").stdout)
    assert stored["title"] == TITLE and stored["outlet"] == OUTLET and stored["text"].startswith(SENTENCES[0])
    missing = cli("show", "ffffffffff")
    assert missing.exit_code == 2 and "no ingested article matches" in flat(missing.output)


def test_search_prints_outlets_and_chunk_text_literally(cli):
    output = ok(cli("search", "waves breakwater storm harbour ferry", "-k", "4"))
    for text in (OUTLET, SIDECAR_OUTLET, *SENTENCES, *SIDECAR_SENTENCES):
        assert text in output, text


def test_ask_prints_answer_quote_and_outlet_literally(cli):
    output = ok(cli("ask", QUESTION, "[/bold] and [/]?"))
    assert SENTENCES[1] in output
    assert f"{OUTLET} — {TITLE} (2025-04-02)" in output  # each source named by outlet, headline and date
    assert "Q: [/bold] and [/]?" in output


def test_chat_prints_streamed_and_final_answer_literally(cli):
    output = ok(cli("chat", input=f"{QUESTION}\n\n"))
    assert SENTENCES[1] in output
    assert OUTLET in output


def test_brief_prints_sentences_and_outlets_literally(cli):
    output = ok(cli("brief"))
    assert "[/bold]" in output and "[/]" in output and "[red]" in output
    assert SENTENCES[0] in output or SENTENCES[1] in output
    assert OUTLET in output or SIDECAR_OUTLET in output


def test_doctor_and_config_print_paths_literally(cli):
    ok(cli("doctor"))
    output = ok(cli("config"))
    assert str(cli.data) in output
    assert "store[/red]data" in output


def test_error_messages_are_printed_literally(cli):
    result = cli("forget", "[/bold] no such [link=http://x]y[/link]")
    assert result.exit_code == 2, result.output
    assert "'[/bold] no such [link=http://x]y[/link]'" in flat(result.output)
    assert "Traceback" not in result.output
