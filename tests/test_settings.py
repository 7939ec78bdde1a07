"""One settings tree: every tunable, sections included, comes from the environment and is shown by `rag config`."""

import json

from rag.settings import Settings, env_name
from typer.testing import CliRunner

from rag.cli import app


def test_a_section_field_is_set_from_the_environment(monkeypatch):
    monkeypatch.setenv("RAG_BRIEFING__MAX_POINTS", "4")
    monkeypatch.setenv("RAG_BRIEFING__REWRITE_SIMILARITY", "0.7")
    settings = Settings()
    assert settings.briefing.max_points == 4 and settings.briefing.rewrite_similarity == 0.7
    assert Settings().briefing.min_points == 3  # the rest keep their defaults


def test_rag_config_lists_every_setting_with_its_variable(monkeypatch):
    monkeypatch.setenv("RAG_BRIEFING__MAX_TITLE_WORDS", "5")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-9876")
    result = CliRunner().invoke(app, ["config", "--json"])
    assert result.exit_code == 0, result.output
    values = json.loads(result.stdout)
    assert values["briefing.max_title_words"] == 5 and values["min_relevance"] == Settings().min_relevance
    assert values["openai_api_key"] == "****9876" and "sk-secret" not in result.stdout
    assert env_name("briefing.max_title_words") == "RAG_BRIEFING__MAX_TITLE_WORDS"
