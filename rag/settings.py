"""One typed Settings object: the only place rag reads its configuration from the environment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from rag.errors import ConfigError

Backend = Literal["auto", "openai", "local", "extractive"]
EmbeddingBackend = Literal["minilm", "openai"]


class BriefingSettings(BaseModel):
    """How a briefing is assembled (RAG_BRIEFING__<FIELD>); defaults were tuned on the seeds and checked by evals/."""

    same_claim: float = Field(0.95, description="Cosine plus IDF word overlap at which two claims say the same thing.")
    same_claim_cosine: float = Field(0.55, description="Least cosine for shared words to count at all.")
    clause_gain: float = Field(0.1, description="How much better other outlets must cover one clause of a "
                                                "sentence than all of it for a point to show only that clause.")
    differ_pair: float = Field(0.95, description="The same score for two claims compared for differing numbers.")
    wording_ratio: float = Field(0.6, description="Least word-sequence similarity for two readings of one quotation.")
    min_points: int = Field(3, description="Fewest key points.")
    max_points: int = Field(6, description="Most key points.")
    points_per_section: int = Field(2, description="Most key points taken from one section.")
    max_sections: int = Field(7, description="Most sections.")
    section_merge: float = Field(0.35, description="Topic similarity above which sections always merge.")
    section_join: float = Field(0.2, description="Least topic similarity for a fact to join a section.")
    facts_per_section: int = Field(6, description="Most facts listed under one section.")
    single_source_differences: int = Field(3, description="Most single-outlet claims listed as differences.")
    topic_chunks: int = Field(12, description="Chunks retrieved for a topic-focused briefing.")
    topic_similarity: float = Field(0.3, description="Least cosine between a claim and the topic.")
    call_tokens: int = Field(550, description="Prompt token budget of one model call (small local windows).")
    max_calls: int = Field(8, description="Most model calls per briefing (shortening, section titles, headline).")
    model_seconds: float = Field(150.0, description="No further model call starts after this long: a busy machine "
                                                    "gets a briefing in the articles' own words rather than none.")
    min_call_seconds: float = Field(10.0, description="No model call is started with less time than this left.")
    rewrite_per_section: int = Field(0, description="Facts per section the model may shorten (key points always); "
                                                    "0 keeps sections verbatim, the safest with a small model.")
    rewrite_similarity: float = Field(0.6, description="Least cosine between a model sentence and its source.")
    rewrite_max_novel: float = Field(0.34, description="Most share of a model sentence's words not in its source.")
    max_title_words: int = Field(4, description="Most words of a section title: a label names a topic, "
                                                "it does not assert something.")
    max_headline_words: int = Field(18, description="Most words of a model-written headline.")
    title_context_words: int = Field(30, description="Words of each of a section's two lead sentences the model "
                                                     "sees when naming it.")
    headline_points: int = Field(2, description="Key points the model sees when writing the headline.")
    tokens_per_line: int = Field(40, description="Most tokens the model may write per shortened sentence or headline.")
    tokens_per_title: int = Field(12, description="Most tokens the model may write per section title.")
    claim_min_words: int = Field(6, description="Fewest words of a sentence taken as a claim: shorter ones are "
                                                "section headings and datelines.")
    quotation_min_words: int = Field(3, description="Fewest words two readings of one quotation must share.")
    quotation_min_content: int = Field(2, description="Fewest content words among those shared words.")
    unrelated_share: float = Field(0.85, description="A single-outlet claim this share of the pair threshold close "
                                                     "to another outlet's claim is not listed as only one outlet's.")


class SelectionSettings(BaseModel):
    """How source sentences are scored for a question (RAG_SELECTION__<FIELD>): the extractive answer, and
    the sentences a chat model reads."""

    lexical_weight: float = Field(0.3, description="Weight of the share of the question's content words a "
                                                   "sentence has, added to its cosine.")
    subject_verb_weight: float = Field(0.3, description="Bonus for a sentence where the question's subject does "
                                                        "the question's verb.")
    runner_up: float = Field(0.9, description="A second sentence must score at least this share of the best one.")
    repeat_similarity: float = Field(0.8, description="Cosine above which a second sentence repeats the first.")


class FetchSettings(BaseModel):
    """How pages are fetched by URL (RAG_FETCH__<FIELD>): `rag ingest https://...`, feeds and URL lists."""

    timeout: float = Field(10.0, gt=0, description="Seconds to wait for a connection, and for each read.")
    deadline: float = Field(30.0, gt=0, description="Seconds one URL may take in all, redirects and body included.")
    max_mb: float = Field(10.0, gt=0, description="Largest page body read, in MB; reading stops past it.")
    max_redirects: int = Field(5, ge=0, description="Most redirects followed for one URL.")
    max_feed_entries: int = Field(200, ge=1, description="Most entry pages fetched from one feed URL (newest first, "
                                  "as the feed lists them); the rest are reported as left out.")
    user_agent: str = Field("rag/0.1 (news question answering; fetches pages a user asked to ingest)",
                            description="User-Agent header sent with every request.")


class ServeSettings(BaseModel):
    """How `rag serve` serves HTTP (RAG_SERVE__<FIELD>); the Bearer key is RAG_API_KEY."""

    host: str = Field("127.0.0.1", description="Address to bind; anything but loopback needs RAG_API_KEY.")
    port: int = Field(8000, ge=0, le=65535, description="Port to bind (0: any free port).")
    model_workers: int = Field(1, ge=1, description="Requests answered by the model at once; the rest wait in "
                                                    "line, first come first served.")
    queue_size: int = Field(16, ge=0, description="Requests that may wait for the model; past it a request gets "
                                                  "503 with Retry-After.")
    retry_after: int = Field(5, ge=1, description="Seconds a client is told to wait when the queue is full.")
    max_request_kb: float = Field(64.0, gt=0, description="Largest JSON request body, in KB.")
    max_upload_mb: float = Field(20.0, gt=0, description="Largest upload to /ingest (all files together), in MB.")
    max_messages: int = Field(64, ge=1, description="Most messages in one chat request.")
    history_turns: int = Field(6, ge=0, description="Earlier turns of a conversation used to understand a follow-up.")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS (JSON list); "
                                                                      "empty: CORS off.")


class Settings(BaseSettings):
    """Effective configuration; every field can be set as RAG_<FIELD> in the environment, and a field of a
    section as RAG_<SECTION>__<FIELD> (RAG_BRIEFING__MAX_POINTS=4)."""

    model_config = SettingsConfigDict(env_prefix="RAG_", env_nested_delimiter="__", extra="forbid",
                                      populate_by_name=True)

    # Storage
    data_dir: Path = Field(Path(".rag"), description="Where the catalog, Chroma data and model files live.")
    cache_dir: Path = Field(
        Path.home() / ".cache" / "rag",
        description="Shared caches (tiktoken encodings, the joined local model) reused across data dirs.",
    )
    tiktoken_cache_dir: Path | None = Field(
        None, validation_alias=AliasChoices("RAG_TIKTOKEN_CACHE_DIR", "TIKTOKEN_CACHE_DIR"),
        description="Where tiktoken's encodings are kept (filled from the packaged copies); default <cache_dir>/tiktoken.",
    )
    chroma_url: str | None = Field(None, description="Chroma server URL (http://host:port); embedded when unset.")

    max_file_mb: float = Field(20.0, gt=0, description="Files larger than this are refused at ingest.")

    # Embeddings
    embedding_backend: EmbeddingBackend = Field("minilm", description="minilm (packaged, offline) or openai.")
    openai_embedding_model: str = Field("text-embedding-3-small", description="OpenAI embedding model name.")
    embed_batch_size: int = Field(
        8, ge=1, description="Texts per embedding batch (8 embeds 200-token chunks ~15% faster than 32 on 2 cores; "
        "sentences alike)."
    )
    embed_max_tokens: int = Field(256, ge=16, description="MiniLM truncation length in wordpiece tokens.")

    # Chunking
    encoding: str = Field("cl100k_base", description="tiktoken encoding used to count tokens.")
    chunk_tokens: int = Field(200, ge=32, description="Target chunk size in tokens.")
    chunk_overlap: int = Field(40, ge=0, description="Tokens of overlap between consecutive chunks.")

    # Near-duplicates
    duplicate_sentence_similarity: float = Field(
        0.8, description="Cosine above which two sentences count as the same sentence in other words."
    )
    duplicate_chunk_similarity: float = Field(
        0.6, description="Cosine a chunk of another article must reach for the two to be compared sentence by "
        "sentence (a retold chunk stays close to its original; unrelated articles are never compared).",
    )
    duplicate_coverage: float = Field(
        0.5, description="Share of an article's sentences matched in another for it to count as derived."
    )

    # Retrieval
    search_k: int = Field(6, ge=1, description="Chunks returned by a search.")
    fetch_k: int = Field(30, ge=1, description="Candidates each retriever contributes before fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")

    # Answering
    backend: Backend = Field("auto", description="Chat backend: openai, local, extractive, or auto.")
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("RAG_OPENAI_API_KEY", "OPENAI_API_KEY"), description="OpenAI API key."
    )
    openai_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("RAG_OPENAI_BASE_URL", "OPENAI_BASE_URL"),
        description="Any OpenAI-compatible server to use instead of api.openai.com.",
    )
    openai_model: str = Field("gpt-4.1-mini", description="Chat model for the openai backend.")
    request_timeout: float = Field(120.0, gt=0, description="Seconds before a chat request is abandoned.")
    max_retries: int = Field(2, ge=0, description="Retries (with backoff) on 429/5xx/timeouts.")
    temperature: float = Field(0.0, ge=0, description="Sampling temperature; 0 keeps answers repeatable.")
    seed: int = Field(7, description="Sampling seed, for servers that honour it.")
    answer_max_tokens: int = Field(300, ge=16, description="Most tokens an answer may generate.")
    context_tokens: int = Field(1400, ge=100, description="Token budget for the source sentences in a prompt.")
    source_sentences: int = Field(8, ge=1, description="Best source sentences a chat model reads per question.")
    min_relevance: float = Field(
        0.35, description="Abstain without asking a model when no source sentence is this close to the question."
    )
    support_similarity: float = Field(0.5, description="Least cosine between a claim and a cited sentence.")
    support_max_novel: float = Field(0.5, description="Most share of a claim's content words absent from its sources.")

    api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("RAG_API_KEY"),
        description="Bearer key `rag serve` requires of clients; it must be set to bind beyond 127.0.0.1.",
    )

    # Local model (llama.cpp server on 127.0.0.1)
    model_dir: Path | None = Field(None, description="Where the joined GGUF lives; default <data_dir>/models.")
    local_n_ctx: int = Field(4096, ge=512, description="Context window of the local model server.")
    local_threads: int = Field(0, ge=0, description="Threads for llama.cpp; 0 means all cores.")
    local_start_timeout: float = Field(180.0, gt=0, description="Seconds to wait for the local server to be ready.")

    # Sections
    selection: SelectionSettings = Field(default_factory=SelectionSettings)
    briefing: BriefingSettings = Field(default_factory=BriefingSettings)
    fetch: FetchSettings = Field(default_factory=FetchSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)

    @model_validator(mode="after")
    def _overlap_below_chunk_size(self) -> Settings:
        if self.chunk_overlap >= self.chunk_tokens:  # each chunk would advance by nothing, or go backwards
            raise ValueError(f"RAG_CHUNK_OVERLAP ({self.chunk_overlap}) must be smaller than "
                             f"RAG_CHUNK_TOKENS ({self.chunk_tokens})")
        return self

    @property
    def models_path(self) -> Path:
        return self.model_dir or self.data_dir / "models"

    @property
    def tiktoken_path(self) -> Path:
        return self.tiktoken_cache_dir or self.cache_dir / "tiktoken"

    def ensure_dirs(self) -> None:
        """Create the data and cache directories."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.cache_dir.mkdir(parents=True, exist_ok=True)

    def masked(self) -> dict[str, object]:
        """Settings as plain values with secrets masked, for `rag config`; a section's fields as 'section.field'."""
        out: dict[str, object] = {}
        for name, value in self.model_dump().items():
            if isinstance(value, dict):
                out.update({f"{name}.{key}": inner for key, inner in value.items()})
                continue
            if isinstance(value, SecretStr):
                value = "****" + value.get_secret_value()[-4:] if value.get_secret_value() else ""
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, str) and "://" in value:
                value = mask_url(value)
            out[name] = value
        return out


def env_name(setting: str) -> str:
    """The environment variable of a setting as `masked()` names it: 'briefing.max_points' -> RAG_BRIEFING__MAX_POINTS."""
    return "RAG_" + setting.replace(".", "__").upper()


def load_settings() -> Settings:
    """Settings from the environment; a bad value is a ConfigError naming its variable and what it expects."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError("; ".join(_explain(e) for e in exc.errors()), hint="fix or unset it") from None
    except SettingsError as exc:  # a section given as one variable that is not JSON
        field = re.search(r'field "(\w+)"', str(exc))
        name = env_name(field.group(1)) if field else "a RAG_ variable"
        raise ConfigError(f"{name} could not be read", hint=f"set its fields one by one, as {name}__<FIELD>") from None


def _explain(error: dict) -> str:
    """One pydantic error as 'RAG_SEARCH_K must be a valid integer (got 'abc')'."""
    loc = [str(part) for part in error["loc"]]
    what = re.sub(r"^Input should be ", "must be ", error["msg"])
    what = re.sub(r"^Value error, |, unable to parse .*$", "", what)
    if error["type"] == "extra_forbidden":
        what = "is not a setting"
    if not loc:  # a check across fields names its variables itself
        return what
    name = loc[0] if loc[0].isupper() else env_name(".".join(loc))
    got = error.get("input")
    shown = f" (got {got!r})" if isinstance(got, str) and len(got) <= 40 and "KEY" not in name else ""
    return f"{name} {what}{shown}"


_URL_USER = re.compile(r"(://)[^/?#@]*@")
_URL_SECRET = re.compile(r"(?i)([?&;][^=&#;]*(?:key|token|secret|pass|auth|sig|cred)[^=&#;]*=)[^&#;]*")


def mask_url(url: str) -> str:
    """A URL with its credentials hidden: user:password@ and query values such as api_key= or token=."""
    return _URL_SECRET.sub(r"\1****", _URL_USER.sub(r"\1****@", url))
