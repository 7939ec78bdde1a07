from pathlib import Path

from rag.ingest.articles import build_article, content_id, load_sidecar, parse_metadata

from support import AP, NOTUS, SEEDS, SUMMARY, AP_TRANSLATION


def seed(name: str):
    path = SEEDS / name
    return build_article(path, path.read_text(encoding="utf-8"), load_sidecar(SEEDS).get(name))


def test_metadata_parsed_from_a_summary_with_headline_date_and_abstract():
    meta = parse_metadata((SEEDS / SUMMARY).read_text(encoding="utf-8"))
    assert meta.title and meta.title.startswith("Donald Trump, Volodymyr Zelenskyy have 'very good call'")
    assert meta.date == "2025-03-20 00:41:00"
    assert meta.abstract and meta.abstract.startswith("Trump & Zelenskyy spoke")


def test_dateline_gives_outlet_and_date_and_contributors_the_byline():
    meta = parse_metadata((SEEDS / AP).read_text(encoding="utf-8"))
    assert meta.outlet == "Associated Press"
    assert meta.date == "2025-03-19"
    assert meta.title is None  # the first line is a dateline sentence, not a headline
    assert meta.byline and "contributed to this report" in meta.byline


def test_reporter_line_names_the_outlet():
    assert parse_metadata((SEEDS / NOTUS).read_text(encoding="utf-8")).outlet == "NOTUS"


def test_sidecar_wins_over_parsed_metadata():
    article = seed(AP_TRANSLATION)
    assert article.meta.outlet == "Associated Press (machine translation)"
    assert article.meta.translation is True
    assert article.meta.title.startswith("Trump suggests to Zelenskyy")


def test_front_matter_is_metadata_not_text(tmp_path: Path):
    raw = "---\noutlet: Example Times\ndate: 2025-01-02\n---\nHeadline here\n\nBody sentence one.\n"
    article = build_article(tmp_path / "a.md", raw)
    assert article.meta.outlet == "Example Times" and article.meta.date == "2025-01-02"
    assert article.text.startswith("Headline here")


def test_content_id_is_stable_and_ignores_line_endings(tmp_path: Path):
    a = build_article(tmp_path / "a.txt", "Line one.\nLine two.\n")
    b = build_article(tmp_path / "b.txt", "\ufeffLine one.\r\nLine two.\r\n\r\n")
    assert a.id == b.id == content_id(a.text)
