import pytest

from rag.llm.prompts import PROMPT_VARIABLES, PROMPTS_DIR, Prompt, PromptError, get_prompt, load_prompt


def test_every_prompt_file_is_registered_and_loads():
    files = {p.stem for p in PROMPTS_DIR.glob("*.md")}
    assert files == set(PROMPT_VARIABLES)
    for name in files:
        prompt = get_prompt(name)
        assert prompt.system and prompt.user


def test_placeholders_must_match_what_the_code_fills():
    with pytest.raises(PromptError, match="uses"):
        load_prompt("answer", frozenset({"question"}))


def test_render_rejects_missing_values_and_leaves_json_braces_alone():
    prompt = Prompt("t", 'Reply {"a": [1]} or say {not_in_articles}', "Q: {question}")
    with pytest.raises(PromptError, match="missing"):
        prompt.render()
    system, user = prompt.render(question="why?")
    assert system == "Reply {\"a\": [1]} or say The articles don't say." and user == "Q: why?"
