"""What a user types or points rag at, checked at the edge: questions without words, dates that
are not dates, a k below 1, bad RAG_ values, URLs with secrets, files in legacy encodings, folders
of files rag cannot read, symlink loops, and files that were renamed or deleted (`--sync`).

Every command runs through the real CLI (typer's CliRunner) with real Chroma and MiniLM.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.errors import InputError, at_least_one, iso_date, require_words
from rag.ingest.reading import decode_bytes
from rag.settings import Settings
from rag.store.catalog import Catalog

KYIV = "Officials in Kyiv said on Thursday that the grid was repaired after the strike.\n"
HARBOUR = "The harbour authority reopened the port on Friday after the storm had passed.\n"
# Text in a legacy encoding: (file name, text, encoding, the encoding the report names)
LEGACY = [
    ("tokyo.txt", "東京都は月曜日、新しい防災計画を発表した。\n計画は来年四月から始まる。\n", "shift_jis", "Shift-JIS"),
    ("moscow.txt", "Мэр Москвы объявил о новом плане в понедельник.\nПлан начнёт действовать в апреле.\n",
     "cp1251", "Windows-1251"),
    ("geneva.txt", "Le café de la gare a rouvert à Genève.\nLes habitués ont salué la décision du maire.\n",
     "latin-1", "Windows-1252"),
]


def flat(text: str) -> str:
    return " ".join(text.split())


def rag(*args: str, input: str | None = None, **env: str):
    """`rag ARGS` with these environment variables set."""
    return CliRunner().invoke(app, list(args), input=input, env=env or None)


def ingest_json(*args: str, **env: str) -> tuple[object, dict[str, dict]]:
    result = rag("ingest", "--json", *args, **env)
    files = {Path(f["path"]).name: f for f in json.loads(result.stdout)["files"]}
    return result, files


def catalog(data_dir: Path) -> Catalog:
    return Catalog(data_dir / "catalog.sqlite")


@pytest.fixture(scope="module")
def store_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A store with two small articles, so that a bad question would otherwise get an answer."""
    base = tmp_path_factory.mktemp("inputs")
    (base / "articles").mkdir()
    (base / "articles" / "kyiv.txt").write_text(KYIV, encoding="utf-8")
    (base / "articles" / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    (base / "articles" / "sources.yaml").write_text('kyiv.txt: {date: "2025-03-20"}\n', encoding="utf-8")
    env = {"RAG_DATA_DIR": str(base / "data"), "RAG_BACKEND": "extractive"}
    assert rag("ingest", str(base / "articles"), **env).exit_code == 0
    return env


def refused(result, *words: str) -> str:
    """The command ended with exit 2 and one error line containing the words."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


# --- questions --------------------------------------------------------------------------------

@pytest.mark.parametrize("question", ["", "   ", "*", "?! ..."])
def test_a_question_without_words_is_refused_not_answered(store_env, question: str):
    result = rag("ask", question, **store_env)
    refused(result, "no words")
    assert "—" not in result.output


def test_one_wordless_question_among_several_is_refused_before_any_answer(store_env):
    result = rag("ask", "Who repaired the grid in Kyiv?", "*", **store_env)
    refused(result, "'*'")
    assert "Kyiv" not in result.output.replace("'*'", "")


def test_search_and_brief_topic_need_words_too(store_env):
    refused(rag("search", "  ", **store_env), "no words")
    refused(rag("brief", "--topic", "**", **store_env), "no words")


def test_chat_reports_a_wordless_question_and_keeps_going(store_env):
    result = rag("chat", input="*\nWhen was the port reopened?\n\n", **store_env)
    assert result.exit_code == 0, result.output
    assert "no words" in result.output
    assert "reopened the port on Friday" in flat(result.output)


# --- options ----------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [("search", "grid", "--since", "yesterday"),
                                  ("search", "grid", "--until", "19/03/2025"),
                                  ("ask", "Who repaired the grid?", "--since", "yesterday"),
                                  ("brief", "--since", "last week")])
def test_a_date_that_is_not_iso_is_refused(store_env, args: tuple[str, ...]):
    refused(rag(*args, **store_env), "is not a date", "--s" if "--since" in args else "--until")


@pytest.mark.parametrize("k", ["-1", "0"])
def test_k_below_one_is_refused(store_env, k: str):
    refused(rag("search", "grid", "-k", k, **store_env), "-k", "at least 1")


def test_valid_dates_and_k_still_work(store_env):
    result = rag("search", "grid repaired", "-k", "1", "--since", "2025-03-20", "--until", "2025-03-20", **store_env)
    assert result.exit_code == 0, result.output
    assert "grid was repaired" in flat(result.output)


# --- settings ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("RAG_SEARCH_K", "abc", "integer"),
    ("RAG_BRIEFING__MAX_POINTS", "many", "integer"),
    ("RAG_TEMPERATURE", "hot", "number"),
    ("RAG_BACKEND", "gpt", "'extractive'"),
])
@pytest.mark.parametrize("command", [("config",), ("config", "--json"), ("search", "grid")])
def test_a_bad_rag_value_names_the_variable_and_the_expected_type(variable, value, expected, command):
    line = refused(rag(*command, **{variable: value}), variable, expected)
    assert "validation error" not in line and "Settings" not in line


def test_chunk_overlap_not_below_chunk_size_is_refused_at_load():
    with pytest.raises(ValueError, match="RAG_CHUNK_OVERLAP"):
        Settings(chunk_tokens=100, chunk_overlap=100)
    refused(rag("config", RAG_CHUNK_TOKENS="64", RAG_CHUNK_OVERLAP="80"), "RAG_CHUNK_OVERLAP", "RAG_CHUNK_TOKENS")
    assert Settings(chunk_tokens=100, chunk_overlap=99).chunk_overlap == 99


SECRETS = ("hunter2", "sk-live-123", "tok-456", "s3cr3t", "bob")


def test_config_masks_credentials_inside_urls():
    env = {"OPENAI_BASE_URL": "https://bob:hunter2@llm.example:8443/v1?api_key=sk-live-123&model=x",
           "RAG_CHROMA_URL": "http://chroma.example:8000/?token=tok-456&access_token=s3cr3t"}
    as_json = rag("config", "--json", **env)
    assert as_json.exit_code == 0, as_json.output
    values = json.loads(as_json.stdout)
    assert values["openai_base_url"] == "https://****@llm.example:8443/v1?api_key=****&model=x"
    assert values["chroma_url"] == "http://chroma.example:8000/?token=****&access_token=****"
    table = rag("config", COLUMNS="300", **env)
    assert table.exit_code == 0 and "llm.example" in table.output
    for output in (as_json.output, table.output):
        assert not [s for s in SECRETS if s in output], output


# --- files --------------------------------------------------------------------------------------

def test_legacy_encodings_are_detected_and_named(tmp_path: Path, isolated_data_dir: Path):
    folder = tmp_path / "legacy"
    folder.mkdir()
    for name, text, encoding, _ in LEGACY:
        (folder / name).write_bytes(text.encode(encoding))
    result, files = ingest_json(str(folder))
    assert result.exit_code == 0, result.output
    texts = {Path(a.path).name: a.text for a in catalog(isolated_data_dir).articles()}
    for name, text, _, shown in LEGACY:
        assert texts[name] == text
        assert files[name]["note"] == f"not UTF-8: read as {shown}"
    as_text = rag("ingest", str(folder), RAG_DATA_DIR=str(tmp_path / "other"))
    assert re.search(r"new \S*tokyo\.txt \(\d+ chunks?; not UTF-8: read as Shift-JIS\)", flat(as_text.output))


@pytest.mark.parametrize(("name", "text", "encoding", "shown"), LEGACY)
def test_decoding_each_legacy_encoding_gives_the_text_back(name, text, encoding, shown):
    decoded = decode_bytes(text.encode(encoding))
    assert decoded.text == text and shown in decoded.note


def test_short_cyrillic_and_accented_western_lines_are_told_apart():
    for text, encoding in [("Привет, мир.\n", "cp1251"),
                           ("Der Bürgermeister sprach über die Krise.\n", "latin-1"),
                           ("Le café crème coûte deux francs à la gare.\n", "latin-1")]:
        assert decode_bytes(text.encode(encoding)).text == text


def test_a_folder_of_only_unsupported_files_names_them_and_fails(tmp_path: Path):
    folder = tmp_path / "office"
    folder.mkdir()
    (folder / "slides.pptx").write_bytes(b"PK\x03\x04")
    (folder / "notes.docx").write_bytes(b"PK\x03\x04")
    result = rag("ingest", str(folder))
    assert result.exit_code == 1, result.output
    output = flat(result.output)
    for name, suffix in (("slides.pptx", ".pptx"), ("notes.docx", ".docx")):
        assert re.search(rf"skipped \S*{re.escape(name)}: not an article file \({re.escape(suffix)};", output), output
    assert "Nothing to ingest" in output
    _, files = ingest_json(str(folder))
    assert {f["status"] for f in files.values()} == {"unsupported"}


def test_an_unsupported_file_beside_articles_is_listed_but_does_not_fail(tmp_path: Path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "kyiv.txt").write_text(KYIV, encoding="utf-8")
    (folder / "scan.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / "sources.yaml").write_text("kyiv.txt: {outlet: Wire}\n", encoding="utf-8")
    result = rag("ingest", str(folder))
    assert result.exit_code == 0, result.output
    assert "scan.png: not an article file" in flat(result.output)
    assert "sources.yaml" not in result.output


def test_an_empty_folder_is_not_a_success(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    result = rag("ingest", str(tmp_path / "empty"))
    assert result.exit_code == 1 and "Nothing to ingest" in result.output


def test_a_symlink_loop_is_one_clear_line_and_the_other_files_still_ingest(tmp_path: Path):
    folder = tmp_path / "loops"
    folder.mkdir()
    (folder / "kyiv.txt").write_text(KYIV, encoding="utf-8")
    (folder / "self.txt").symlink_to("self.txt")
    (folder / "a.txt").symlink_to("b.txt")
    (folder / "b.txt").symlink_to("a.txt")
    result, files = ingest_json(str(folder), str(folder / "self.txt"))
    assert files["kyiv.txt"]["status"] == "new"
    for name in ("self.txt", "a.txt", "b.txt"):
        assert files[name] == {**files[name], "status": "failed", "reason": "symlink loop"}
    text = rag("ingest", str(folder))
    assert text.exit_code == 1
    assert "RuntimeError" not in text.output and "Traceback" not in text.output
    assert re.search(r"failed \S*self\.txt: symlink loop", flat(text.output))
    refused(rag("forget", str(folder / "self.txt")), "no ingested article")


# --- renames and --sync ----------------------------------------------------------------------

def test_a_renamed_file_is_recorded_under_its_new_path_not_kept_twice(tmp_path: Path, isolated_data_dir: Path):
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "kyiv.txt").write_text(KYIV, encoding="utf-8")
    (folder / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    assert rag("ingest", str(folder)).exit_code == 0
    (folder / "kyiv.txt").rename(folder / "kyiv-grid.txt")
    result, files = ingest_json(str(folder))
    assert result.exit_code == 0, result.output
    assert files["kyiv-grid.txt"]["status"] == "renamed"
    assert "kyiv.txt" in files["kyiv-grid.txt"]["reason"]
    paths = sorted(Path(p).name for p, _ in catalog(isolated_data_dir).paths())
    assert paths == ["harbour.txt", "kyiv-grid.txt"]
    listed = {Path(r["path"]).name for r in json.loads(rag("articles", "--json").stdout)}
    assert listed == {"harbour.txt", "kyiv-grid.txt"}


def test_sync_forgets_articles_whose_files_are_gone(tmp_path: Path, isolated_data_dir: Path):
    folder, other = tmp_path / "news", tmp_path / "other"
    folder.mkdir()
    other.mkdir()
    (folder / "kyiv.txt").write_text(KYIV, encoding="utf-8")
    (folder / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    (other / "ferry.txt").write_text("The ferry to the island resumed its crossings on Thursday.\n", encoding="utf-8")
    assert rag("ingest", str(folder), str(other)).exit_code == 0
    (folder / "harbour.txt").unlink()
    (other / "ferry.txt").unlink()

    kept = rag("ingest", str(folder))  # without --sync nothing is forgotten
    assert kept.exit_code == 0 and len(catalog(isolated_data_dir).article_ids()) == 3

    result = rag("ingest", "--sync", str(folder))
    assert result.exit_code == 0, result.output
    assert re.search(r"forgot \S*harbour\.txt: the file is gone", flat(result.output))
    names = {Path(a.path).name for a in catalog(isolated_data_dir).articles()}
    assert names == {"kyiv.txt", "ferry.txt"}  # ferry.txt was not under the synced folder
    found = rag("search", "harbour port reopened storm", "--json")
    assert not [d for d in json.loads(found.stdout) if "harbour" in d["text"]]
    assert rag("doctor").exit_code == 0


def test_sync_keeps_an_article_that_another_file_still_holds(tmp_path: Path, isolated_data_dir: Path):
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "kyiv.txt").write_text(KYIV, encoding="utf-8")
    (folder / "copy.txt").write_text(KYIV, encoding="utf-8")
    assert rag("ingest", str(folder)).exit_code == 0
    (folder / "kyiv.txt").unlink()
    result = rag("ingest", "--sync", str(folder))
    assert result.exit_code == 0, result.output
    (article,) = catalog(isolated_data_dir).articles()
    assert Path(article.path).name == "copy.txt"
    assert [Path(p).name for p, _ in catalog(isolated_data_dir).paths()] == ["copy.txt"]


def test_input_errors_are_input_errors():
    for call in (lambda: require_words(" * "), lambda: iso_date("yesterday", "--since"), lambda: at_least_one(0, "-k")):
        with pytest.raises(InputError):
            call()
    assert iso_date("2025-03-19", "--since") == "2025-03-19" and require_words(" Why? ") == "Why?"
