"""Prompts live in prompts/*.md; each is checked against the variables the code fills in.

A file has a `## system` and a `## user` section; placeholders are `{name}`. Braces that do not
enclose a bare identifier (JSON examples) are left alone. The wheel ships prompts/ as the package
`rag.prompts`, read with importlib.resources; a source checkout reads the top-level folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from rag.errors import RagError

NOT_IN_ARTICLES = "The articles don't say."
"""What an answer says when the ingested articles do not support any answer."""

CITATION_MARK = "[{n}]"
"""How a citation number is written after an answer sentence."""


def mark(n: int) -> str:
    """Citation number n as written after an answer sentence."""
    return CITATION_MARK.format(n=n)


def prompts_dir() -> Traversable:
    """The installed package's prompts, or the source checkout's prompts/ folder when not installed."""
    try:
        return resources.files("rag.prompts")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "prompts"


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# Values every prompt may use without the caller passing them.
SHARED = {"not_in_articles": NOT_IN_ARTICLES}


# Every prompt file and the variables the code fills into it.
PROMPT_VARIABLES: dict[str, frozenset[str]] = {
    "answer": frozenset({"sources", "question"}),
    "condense": frozenset({"history", "question"}),
    "brief_shorten": frozenset({"sentences"}),
    "brief_titles": frozenset({"sentences"}),
    "brief_headline": frozenset({"points"}),
}


class PromptError(RagError):
    """A prompt file is missing, malformed, or its placeholders don't match the code."""


@dataclass(frozen=True)
class Prompt:
    name: str
    system: str
    user: str

    @property
    def variables(self) -> set[str]:
        return set(_PLACEHOLDER.findall(self.system + self.user)) - set(SHARED)

    def render(self, **values: str) -> tuple[str, str]:
        """(system, user) with every placeholder filled; extra or missing values are errors."""
        missing, extra = self.variables - set(values), set(values) - self.variables
        if missing or extra:
            raise PromptError(f"prompt {self.name}: missing {sorted(missing)}, unexpected {sorted(extra)}")
        filled = {**SHARED, **values}

        def fill(text: str) -> str:
            return _PLACEHOLDER.sub(lambda m: filled[m.group(1)], text)

        return fill(self.system), fill(self.user)


def get_prompt(name: str) -> Prompt:
    """A registered prompt, checked against the variables the code fills in."""
    return load_prompt(name, PROMPT_VARIABLES[name])


@lru_cache(maxsize=None)
def load_prompt(name: str, required: frozenset[str]) -> Prompt:
    """Load prompts/<name>.md and check it uses exactly the `required` variables."""
    path = prompts_dir() / f"{name}.md"
    if not path.is_file():
        raise PromptError(f"no prompt file {path}", hint="reinstall rag, or restore the file from git")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptError(f"cannot read the prompt file {path}: {exc}") from exc
    parts = re.split(r"^## (system|user)\s*$", text, flags=re.M)
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    if set(sections) != {"system", "user"}:
        raise PromptError(f"{path} needs a '## system' and a '## user' section")
    prompt = Prompt(name, sections["system"], sections["user"])
    if prompt.variables != set(required):
        raise PromptError(f"{path} uses {sorted(prompt.variables)}, the code fills {sorted(required)}")
    return prompt
