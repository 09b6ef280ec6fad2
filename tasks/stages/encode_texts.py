"""Encode tonight's new text in partitions on the flow's task runner: threads in-process, or
the workers of a Dask cluster. Text read on earlier nights is not encoded again (its vectors
are stored); the enrichment and idea grouping that follow find every vector already made."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture

from patronage.config import TextConfig
from patronage.tasks.stages.partitioning import runs_apart
from patronage.tasks.transforms.text.text_encoder import load_encoder
from patronage.tasks.transforms.text.text_signals import (
    remember_vectors,
    text_encoder,
    unencoded_partitions,
)

# Texts per task: large enough that a task's overhead is small next to its encoding (a few
# seconds of work), small enough that a million new texts spread over many workers.
PARTITION_TEXTS = 20_000


@task(cache_policy=NO_CACHE, task_run_name="encode-texts-{part}")
def encode_partition(
    texts: list[str],
    encoder_path: str | None,
    tokenizer_path: str | None,
    part: int,
    quantize_activations: bool = True,
) -> np.ndarray:
    """Sentence vectors of one partition (the worker loads the encoder once per process)."""
    return load_encoder(encoder_path, tokenizer_path, quantize_activations).encode(texts)


@dataclass(repr=False)
class TextEncoding:
    """Tonight's new text being encoded on the task runner, started before it is needed so
    that the night's other work runs meanwhile (on one machine the encoder's threads and the
    night's Python share the cores; on Dask the workers encode apart).

    Attributes:
        model_id: The encoder's ``model_id``.
        partitions: The texts of each task.
        futures: One per partition, its vectors.
    """

    model_id: str
    partitions: list[list[str]]
    futures: list[PrefectFuture]

    @property
    def texts(self) -> int:
        return sum(len(p) for p in self.partitions)

    def collect(self) -> int:
        """Wait for every partition and keep its vectors for this process's text models;
        returns how many texts were encoded."""
        for part_texts, future in zip(self.partitions, self.futures, strict=True):
            remember_vectors(self.model_id, part_texts, future.result())
        return self.texts


def start_encoding(texts: list[object], text: TextConfig, size: int | None = None) -> TextEncoding:
    """Submit the texts without a vector yet, one task per partition, all at once. ``size``
    defaults to ``PARTITION_TEXTS`` on Dask and to one partition on the default thread pool."""
    encoder = text_encoder(text)
    size = size or (PARTITION_TEXTS if runs_apart() else max(len(texts), 1))
    partitions = unencoded_partitions(encoder.model_id, texts, size)
    futures = [
        encode_partition.submit(
            part_texts,
            text.encoder_path,
            text.tokenizer_path,
            part,
            encoder.int8_activations,
        )  # fmt: skip
        for part, part_texts in enumerate(partitions)
    ]
    return TextEncoding(encoder.model_id, partitions, futures)
