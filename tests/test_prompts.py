import pytest

from rag.llm.prompts import PROMPT_VARIABLES, Prompt, prompts_dir, PromptError, get_prompt, load_prompt


def test_every_prompt_file_is_registered_and_loads():
    files = {p.name[:-3] for p in prompts_dir().iterdir() if p.name.endswith(".md")}
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


def test_a_broken_prompt_file_is_a_clear_rag_error(tmp_path, monkeypatch):
    from rag.errors import RagError
    import rag.llm.prompts as prompts

    (tmp_path / "answer.md").write_text("no sections here\n{question}\n", encoding="utf-8")
    monkeypatch.setattr(prompts, "prompts_dir", lambda: tmp_path)
    load_prompt.cache_clear()
    try:
        with pytest.raises(RagError, match="needs a '## system' and a '## user' section"):
            get_prompt("answer")
        with pytest.raises(RagError, match="no prompt file"):
            get_prompt("condense")
    finally:
        load_prompt.cache_clear()


def test_the_wheel_carries_every_prompt_and_module(tmp_path):
    """A non-editable install reads prompts from inside the package, so the wheel must hold them, and
    every module of the source tree (a subpackage left out of pyproject's list would be missing)."""
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "-w", str(tmp_path), str(root)], check=True, capture_output=True, cwd=tmp_path)
    wheel = next(tmp_path.glob("rag-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {Path(n).name[:-3] for n in names if n.startswith("rag/prompts/")}
    assert shipped == set(PROMPT_VARIABLES)
    modules = {str(p.relative_to(root)) for p in (root / "rag").rglob("*.py")}
    modules |= {str(p.relative_to(root)) for p in (root / "rag" / "serve" / "static").iterdir()}  # the page
    assert modules <= set(names), sorted(modules - set(names))
