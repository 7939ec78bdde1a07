"""Constants shared by prompts, the answer parser and the evals."""

NOT_IN_ARTICLES = "The articles don't say."
"""What an answer says when the ingested articles do not support any answer."""

CITATION_MARK = "[{n}]"
"""How a citation number is written after an answer sentence."""


def mark(n: int) -> str:
    return CITATION_MARK.format(n=n)
