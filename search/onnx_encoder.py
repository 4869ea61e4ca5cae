"""The ONNX Runtime encoder: the same sentence-transformers model, exported once, run without torch.

sentence-transformers' own ONNX backend needs optimum-onnx, whose releases require transformers < 4.58
while sentence-transformers 6 requires transformers 5; the two cannot be installed together. So kb
exports the model's transformer with ``torch.onnx`` itself, quantises it with onnxruntime's own
``quantize_dynamic`` when asked, and reproduces the two steps that follow the transformer in
sentence-transformers (mean pooling over real tokens, L2 normalisation). The export checks itself
against the torch model before it is used: see :func:`export_onnx`.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from search.cpu import int8_saturates
from search.encoder import resolve_model_path
from search.onnx_graph import drop_nan_guards, fuse_attention
from search.onnx_quantize import quantize
from search.staging import remove_abandoned, staging_folder

if TYPE_CHECKING:  # torch and sentence-transformers load only to export, never to serve
    from onnxruntime import InferenceSession
    from sentence_transformers import SentenceTransformer
    from tokenizers import Encoding

log = logging.getLogger(__name__)

MODEL_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "kb-onnx.json"
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
WORKERS = min(os.cpu_count() or 1, 4)
"""Threads that embed many texts at once, each text alone, one thread per run (see ``OnnxEncoder._side_by_side``)."""

FP32_MIN_COSINE = 0.9999
"""An fp32 export must give the torch model's vectors (cosine ≥ this on the probe texts), or it is refused."""
INT8_MIN_COSINE = 0.95
"""int8 moves vectors a little (per-token: 0.998 worst case over 360 BEIR texts; `search/onnx_quantize.py`); far below is broken."""

EXPORT_FORMAT = 4
"""Bumped when an export's files or what they mean change; an export of another format is made again."""

_PROBES = [
    "How do I reset my password?",
    "Error E1042 when the sync stops halfway through a large upload",
    "請求書をダウンロードする方法を教えてください",
    "Can I export my data to CSV and keep the formatting of every column intact when I re-import it later?",
]


class OnnxExportError(RuntimeError):
    """The model cannot be exported, or its export does not reproduce the torch model's vectors."""


class OnnxEncoder:
    """An :class:`~search.encoder.Encoder` running an exported model in ONNX Runtime.

    It imports neither torch nor transformers, so a server on this backend starts faster and holds
    less memory; vectors equal the torch encoder's (fp32) or stay close to them (int8).
    """

    def __init__(self, name_or_path: str, *, export_dir: Path, quantized: bool = False, quantized_queries: bool = False) -> None:
        """``quantized``: int8 for everything; ``quantized_queries``: fp32 documents, int8 queries."""
        import onnxruntime
        from tokenizers import Tokenizer

        model_file = export_dir / (INT8_FILE if quantized else MODEL_FILE)
        meta = _read_meta(export_dir)
        if not all((export_dir / name).exists() for name in (MODEL_FILE, INT8_FILE)) or meta.get("format") != EXPORT_FORMAT:
            export_in_subprocess(name_or_path, export_dir)
            meta = _read_meta(export_dir)
        self.model_name = name_or_path
        # The embedding cache never mixes backends or export variants: each has its own id, and the
        # int8 id names its weights (8-bit, or 7-bit where the exporting CPU had no VNNI) and the
        # export format, whose changes move int8's vectors a little (fp32's stay the torch model's).
        self.model_id = f"{name_or_path}#onnx-int8-{meta['int8_variant']}" if quantized else f"{name_or_path}#onnx"
        self.dimension = int(meta["dimension"])
        self.max_tokens = int(meta["max_seq_length"])
        self._counter = Tokenizer.from_file(str(export_dir / TOKENIZER_FILE))
        self._counter.no_truncation()
        self._counter.no_padding()
        self._tokenizer = Tokenizer.from_file(str(export_dir / TOKENIZER_FILE))
        self._tokenizer.enable_truncation(self.max_tokens)
        self._tokenizer.no_padding()  # the saved tokenizer may pad to the longest of a call: never here
        # A single text (a query) runs on every core; many texts run side by side, one thread each, on a
        # second session (``_side_by_side``). Queries on one thread each measured slower over HTTP (3.75 ms
        # p50 against 3.33 on the sample), builds on all cores per text slower (78 chunks/s against 96).
        self._model_file = model_file
        self._query_model_file = export_dir / INT8_FILE if quantized_queries else model_file
        self._session = onnxruntime.InferenceSession(str(model_file), providers=["CPUExecutionProvider"])
        self._query_session = self._session
        if self._query_model_file != model_file:
            self._query_session = onnxruntime.InferenceSession(str(self._query_model_file), providers=["CPUExecutionProvider"])
        self._inputs = [node.name for node in self._session.get_inputs()]
        self._pool: ThreadPoolExecutor | None = None
        self._single_threaded: dict[Path, InferenceSession] = {}
        self._workers_lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors in the order given, each text run by itself, so that its vector depends on it alone.

        In a batch, int8's activations share one quantisation scale per call, so a text's vector moved
        with its neighbours (cosine down to 0.961 between alone and in batches of 16, on the sample's
        paragraphs): an index then depended on batch order and a cached vector on the batch that first
        met its text. Alone there is no padding either, and on two cores that is no slower: int8 142
        texts/s alone against 116 in batches (the sample's paragraphs), 55–71 against 51 (BEIR passages);
        fp32 28 against 28.
        """
        if len(texts) < 2 or WORKERS < 2:
            return self._one_after_another(self._session, texts)
        return self._side_by_side(self._model_file, texts)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for search queries, each alone: on the int8 model where asked for.

        Where the CPU's int8 weights must keep to 7 bits (x86 without VNNI), int8 documents fell below
        plain dense retrieval on two sets, but int8 queries against fp32 documents did not (within
        0.0018 nDCG@10 of fp32 on the four English sets measured) while a query's encode took 2.2 ms instead of 3.1
        (`docs/benchmarks.md`). A query's vector still depends on its text alone. One query runs on
        every core (the lowest latency); a batch's run side by side, one thread each, as a build's
        texts do: 32 of the sample's questions in 28–32 ms against 50–63 one after another (int8, two cores).
        """
        if len(texts) < 2 or WORKERS < 2:
            return self._one_after_another(self._query_session, texts)
        return self._side_by_side(self._query_model_file, texts)

    def count_tokens(self, text: str) -> int:
        """Model tokens in ``text`` without truncation, as the chunker needs."""
        # The batch call without offsets: the chunker counts tens of thousands of candidate windows.
        return len(self._counter.encode_batch_fast([text], add_special_tokens=False)[0].ids)

    def _side_by_side(self, model_file: Path, texts: Sequence[str]) -> np.ndarray:
        """Each text alone, on threads that share a single-threaded session of ``model_file``.

        The threads and sessions are made on the first call with many texts (a build, a batch of
        queries): a server that only answers single queries never loads a model a second time. BEIR
        passages, int8: 110 a second on two such threads, 83 on one run of two threads (fp32: 61 and 56).
        """
        pool, session = self._workers(model_file)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        for row, vector in enumerate(pool.map(lambda encoding: self._encode_one(session, encoding), encodings)):
            vectors[row] = vector
        return vectors

    def _workers(self, model_file: Path) -> tuple[ThreadPoolExecutor, InferenceSession]:
        with self._workers_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="kb-encode")
            if model_file not in self._single_threaded:
                import onnxruntime

                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = 1
                self._single_threaded[model_file] = onnxruntime.InferenceSession(
                    str(model_file), options, providers=["CPUExecutionProvider"]
                )
            return self._pool, self._single_threaded[model_file]

    def _one_after_another(self, session: InferenceSession, texts: Sequence[str]) -> np.ndarray:
        """Each text alone on ``session``, one after another (a session of every core runs one text fastest)."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, encoding in enumerate(self._tokenizer.encode_batch(list(texts))):
            vectors[row] = self._encode_one(session, encoding)
        return vectors

    def _encode_one(self, session: InferenceSession, encoding: Encoding) -> np.ndarray:
        feed = {
            "input_ids": np.array([encoding.ids], dtype=np.int64),
            "attention_mask": np.array([encoding.attention_mask], dtype=np.int64),
            "token_type_ids": np.array([encoding.type_ids], dtype=np.int64),
        }
        hidden = session.run(None, {name: feed[name] for name in self._inputs})[0]
        return mean_pool_normalised(hidden, feed["attention_mask"])[0]


def mean_pool_normalised(hidden: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' mean pooling (padding excluded) followed by its Normalize module."""
    mask = attention_mask[..., None].astype(np.float32)
    pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
    return (pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)).astype(np.float32)


def export_in_subprocess(name_or_path: str, destination: Path) -> None:
    """:func:`export_onnx` in a child process: torch, needed only to export, never enters this one.

    A server that exported in its own process would keep torch's few hundred MB for its lifetime.
    Errors (an :class:`OnnxExportError` included) are raised here as the child raised them.
    """
    remove_abandoned(destination.parent, ".export-")  # an export whose process was killed
    log.info("exporting %s to ONNX in %s (once)", name_or_path, destination)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_die_with, initargs=(os.getpid(),)) as pool:
        pool.submit(export_onnx, name_or_path, destination).result()


def _die_with(parent: int) -> None:
    """In the export child: be killed when the parent dies, however it dies.

    A child of a killed server would otherwise live on, re-parented, holding torch's memory and
    waiting for work that never comes. On Linux the kernel sends the signal (``PR_SET_PDEATHSIG``,
    tied to the thread that started the child, which waits for the export); elsewhere the child
    only checks that its parent is still there as it starts.
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def export_onnx(name_or_path: str, destination: Path) -> None:
    """Export the model to ``destination`` (fp32 and dynamic int8), checked against torch, written atomically.

    Runs once per model and data folder; it needs torch and the model's weights, which the torch
    backend needs anyway. A model whose pooling is not a plain mean is refused: this encoder would
    compute other vectors than the model's own.
    """
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    model = SentenceTransformer(resolve_model_path(name_or_path), device="cpu")
    _check_supported(model, name_or_path)
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_folder(destination.parent, ".export-")
    try:
        with _quiet():
            _write_export(model, staging)
        expected = model.encode(_PROBES, normalize_embeddings=True, convert_to_numpy=True)
        for quantized, floor in ((False, FP32_MIN_COSINE), (True, INT8_MIN_COSINE)):
            _check_export(staging, name_or_path, expected, quantized=quantized, floor=floor)
        if destination.exists():
            shutil.rmtree(destination)
        os.replace(staging, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_export(model: SentenceTransformer, folder: Path) -> None:
    """The transformer as ONNX (fp32 and int8), its tokenizer, and what pooling needs to know."""
    import onnx
    import torch
    from sentence_transformers.sentence_transformer.modules import Transformer

    transformer = model[0]
    assert isinstance(transformer, Transformer)  # _check_supported refuses any other first module
    tokenizer = model.tokenizer
    max_seq_length = model.max_seq_length
    sample = tokenizer(_PROBES, padding=True, return_tensors="pt")
    names = [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in sample]
    batch, tokens = torch.export.Dim("batch"), torch.export.Dim("tokens", max=max_seq_length)
    with torch.no_grad():
        program = torch.onnx.export(
            transformer.auto_model.eval(),
            tuple(sample[name] for name in names),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_shapes=tuple({0: batch, 1: tokens} for _ in names),
            dynamo=True,
        )
    assert program is not None  # only the legacy exporter (dynamo=False) returns None
    onnx.save(program.model_proto, folder / MODEL_FILE)  # one self-contained file, no external data
    drop_nan_guards(folder / MODEL_FILE)
    fuse_attention(folder / MODEL_FILE, num_heads=transformer.auto_model.config.num_attention_heads)
    # Without VNNI, x86 multiplies u8 × s8 pairs into int16 that can saturate; 7-bit weights avoid it.
    reduce_range = int8_saturates()
    quantize(folder / MODEL_FILE, folder / INT8_FILE, reduce_range=reduce_range)
    tokenizer.backend_tokenizer.save(str(folder / TOKENIZER_FILE))
    meta = {
        "format": EXPORT_FORMAT,
        "int8_variant": f"{'s7' if reduce_range else 's8'}-v{EXPORT_FORMAT}",
        "dimension": model.get_embedding_dimension(),
        "max_seq_length": max_seq_length,
        "pad_token": tokenizer.pad_token,
        "pad_token_id": tokenizer.pad_token_id,
    }
    (folder / META_FILE).write_text(json.dumps(meta, indent=2))


def _read_meta(folder: Path) -> dict:
    """The export's meta file, or {} when there is none or it cannot be read (the export is then made again)."""
    try:
        meta = json.loads((folder / META_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporter and the quantiser print progress and advice meant for their own developers, not kb's users."""
    handlers = list(logging.root.handlers)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)
            # A bare logging.warning() in the quantiser installs a root handler; left there, it would
            # print every library's debug records for the rest of the process.
            logging.root.handlers[:] = handlers


def _check_supported(model: SentenceTransformer, name: str) -> None:
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    modules = list(model)
    pooling = modules[1] if len(modules) > 1 else None
    if not (
        isinstance(modules[0], Transformer)
        and isinstance(pooling, Pooling)
        and pooling.pooling_mode == "mean"
        and all(isinstance(m, Normalize) for m in modules[2:])
    ):
        raise OnnxExportError(
            f"{name}: the ONNX backend runs transformer + mean pooling models only; "
            f"this one is {' → '.join(type(m).__name__ for m in modules)}. Use KB_EMBEDDING_BACKEND=torch."
        )


def _check_export(folder: Path, name: str, expected: np.ndarray, *, quantized: bool, floor: float) -> None:
    exported = OnnxEncoder(name, export_dir=folder, quantized=quantized).encode(_PROBES)
    worst = float((exported * expected).sum(axis=1).min())
    if worst < floor:
        kind = "int8" if quantized else "fp32"
        raise OnnxExportError(
            f"{name}: the {kind} ONNX export gives other vectors than torch (cosine {worst:.4f} < {floor}); "
            f"use KB_EMBEDDING_BACKEND={'onnx' if quantized else 'torch'}"
        )
