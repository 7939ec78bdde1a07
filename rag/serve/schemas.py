"""The shapes of requests (checked at the edge, as the CLI checks its options) and of errors."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from rag.errors import WORD_CHARACTER, require_words
from rag.store.search import SearchFilters
from rag.types import Turn

MAX_TEXT = 4000  # characters of a question, topic or query
WORDS = {"pattern": WORD_CHARACTER}  # documented; checked by require_words, which says in words what is wrong


def _iso_date_text(value: object) -> object:
    """A date comes as text, YYYY-MM-DD as the schema says: not a number of seconds, nor a time of day."""
    if not (isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


# Read from JSON text (never a number of seconds), so exempt from the strict mode the requests use.
IsoDate = Annotated[date, BeforeValidator(_iso_date_text), Field(strict=False)]


def _whole_number(value: object) -> object:
    """A count is a JSON integer; 5.0 is one (as JSON Schema says), "5", true and 5.5 are not."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValueError("a count is a whole number")
    return int(value)


# A JSON integer from 1 to 100; 5.0 is one, so exempt from strict mode (which takes only Python ints).
ResultCount = Annotated[int, Field(strict=False, ge=1, le=100), BeforeValidator(_whole_number)]


class Filters(BaseModel):
    """Which articles to use, as `--outlet` and `--since` / `--until`."""

    model_config = ConfigDict(extra="forbid", strict=True)  # "5" is not a number, nor "true" a boolean

    outlet: list[str] | None = Field(None, max_length=20, description="Only these outlets (case-insensitive substrings).")
    since: IsoDate | None = Field(None, description="Only articles dated on or after (YYYY-MM-DD).")

    def filters(self, until: date | None = None, per_cluster: int | None = None) -> SearchFilters:
        return SearchFilters(outlets=self.outlet or None, since=self.since.isoformat() if self.since else None,
                             until=until.isoformat() if until else None, per_cluster=per_cluster)


class AskRequest(Filters):
    """`rag ask` as JSON: one question, and optionally the conversation before it."""

    question: str = Field(min_length=1, max_length=MAX_TEXT, json_schema_extra=WORDS)
    history: list[Turn] = Field(default_factory=list, max_length=20, description="Earlier turns, oldest first.")

    def checked(self) -> str:
        return require_words(self.question)


class BriefRequest(Filters):
    """`rag brief --json` as a request: all articles, or those on a topic."""

    topic: str | None = Field(None, min_length=1, max_length=MAX_TEXT, json_schema_extra=WORDS)

    def checked(self) -> str | None:
        return require_words(self.topic) if self.topic is not None else None


class SearchRequest(Filters):
    """`rag search --json` as a request."""

    query: str = Field(min_length=1, max_length=MAX_TEXT, json_schema_extra=WORDS)
    k: ResultCount | None = Field(None, description="How many chunks (default RAG_SEARCH_K).")
    until: IsoDate | None = Field(None, description="Only articles dated on or before (YYYY-MM-DD).")
    one_per_cluster: bool = Field(False, description="At most one chunk per near-duplicate cluster.")

    def checked(self) -> str:
        return require_words(self.query)


class ErrorDetail(BaseModel):
    message: str
    type: str
    hint: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    """Every error (but a malformed request's 422) is this JSON: one line of what went wrong, and what to do."""

    error: ErrorDetail


ERRORS: dict[int | str, dict] = {
    status: {"model": ErrorBody, "description": text} for status, text in {
        400: "Bad input: a question with no words, an unknown id.",
        401: "RAG_API_KEY is set and the request lacks its Bearer key.",
        404: "No such article or model.",
        409: "The store is being written (an ingest holds the lock).",
        413: "The request body is over the size cap.",
        500: "The store or a model failed; the message says what to do.",
        502: "The chat model failed.",
        503: "The line to the model is full; retry after the Retry-After header's seconds.",
    }.items()
}


class ChatPart(BaseModel):
    """One part of a message's content; only text parts are read."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ChatPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(part.text or "" for part in self.content if part.type == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatRequest(BaseModel):
    """An OpenAI chat completion request. Sampling options are accepted and ignored: rag's answers are
    verified quotes, not samples."""

    model_config = ConfigDict(extra="allow", strict=True)

    model: str = Field(json_schema_extra={"enum": ["rag"]}, description="The one model served: rag.")
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
