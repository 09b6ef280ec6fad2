"""``patronage text``: try the text models on your own exports, train and evaluate a company model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

text_app = typer.Typer(
    help="Intent, sentiment and idea grouping on your own texts (CSV in, CSV out).",
    no_args_is_help=True,
)
console = Console(width=150)

ModelDir = Annotated[
    Path | None,
    typer.Option(
        "--model",
        help="Folder written by `patronage text train` (default: the shipped seed model).",
    ),
]


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]{escape(message)}[/red]")
    return typer.Exit(code=2)


def _read(path: Path, required: list[str]):
    from patronage.tasks.io.read_text_csv import TextFileError, read_text_csv

    try:
        return read_text_csv(path, required)
    except TextFileError as exc:
        raise _fail(str(exc)) from None


def _models(model: Path | None):
    from patronage.tasks.transforms.text.text_encoder import EncoderUnavailable
    from patronage.tasks.transforms.text.text_signals import text_model

    try:
        return text_model(model)
    except (EncoderUnavailable, FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from None


def _check_intents(frame, path: Path) -> None:
    from patronage.tasks.transforms.text.text_classifier import INTENTS, SENTIMENTS

    bad = frame.index[~frame["intent"].isin(INTENTS)]
    if len(bad):
        row = int(bad[0]) + 1
        raise _fail(
            f"{path}: row {row}: intent {frame.loc[bad[0], 'intent']!r} is not one of "
            f"{', '.join(INTENTS)} ({len(bad)} such row(s))"
        )
    if "sentiment" in frame:
        bad = frame.index[(frame["sentiment"] != "") & ~frame["sentiment"].isin(SENTIMENTS)]
        if len(bad):
            raise _fail(
                f"{path}: row {int(bad[0]) + 1}: sentiment {frame.loc[bad[0], 'sentiment']!r} "
                f"is not one of {', '.join(SENTIMENTS)} (or empty)"
            )


@text_app.command("classify")
def classify(
    file: Annotated[Path, typer.Argument(help="CSV with columns id,text.")],
    out: Annotated[
        Path,
        typer.Option(
            "-o",
            "--out",
            help="CSV to write: id,intent,intent_confidence,sentiment,sentiment_label.",
        ),
    ],
    model: ModelDir = None,
) -> None:
    """Intent (with confidence) and sentiment for every row."""
    from patronage.tasks.transforms.text.text_signals import classify_texts

    frame = _read(file, ["id", "text"])
    encoder, _ = _models(model)
    signals = classify_texts(frame["text"].tolist(), model, encoder)
    signals.insert(0, "id", frame["id"].to_numpy())
    signals.to_csv(out, index=False)
    counts = signals["intent"].value_counts().to_dict()
    console.print(
        f"{len(signals)} row(s) classified into {out}: "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    )


@text_app.command("train")
def train(
    file: Annotated[
        Path, typer.Argument(help="CSV with columns text,intent (optional sentiment).")
    ],
    out: Annotated[
        Path,
        typer.Option(
            "-o",
            "--out",
            help="Model folder: the new model goes in use there unless it judges worse than the one in use.",
        ),
    ],
    without_seed: Annotated[
        bool,
        typer.Option(
            "--without-seed",
            help="Fit on your rows only, not on your rows plus the shipped seed set.",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Put the new model in use even if it judges worse."),
    ] = False,
) -> None:
    """Fit a company model from labelled rows (plus the seed set, so no intent is left unknown).

    A fifth of your rows is first held out: the new model and the one in use (the folder's, or
    the seed model) are both scored on them, and the new model goes in use only if its macro-F1
    is not lower. A refused model is kept under OUT/candidates/; every training is logged in
    OUT/versions.jsonl, and replaced models are kept under OUT/history/.
    """
    from datetime import UTC, datetime

    import pandas as pd

    from patronage.tasks.io.text_model_store import (
        keep_refused_model,
        promote_model,
        read_model_in_use,
    )
    from patronage.tasks.transforms.text.text_classifier import read_seed
    from patronage.tasks.transforms.text.text_signals import seed_model
    from patronage.tasks.transforms.text.text_training import train_and_judge

    frame = _read(file, ["text", "intent"])
    if frame.empty:
        raise _fail(f"{file}: no labelled rows")
    _check_intents(frame, file)
    labelled = frame[frame["text"].str.strip() != ""].reset_index(drop=True)
    if "sentiment" in labelled:
        labelled["sentiment"] = labelled["sentiment"].replace("", None)
    extra = labelled.iloc[0:0] if without_seed else read_seed()
    if pd.concat([labelled["intent"], extra["intent"]]).nunique() < 2:
        raise _fail(f"{file}: all rows have one intent; a model needs at least two")
    encoder, _ = _models(None)
    try:
        in_use = read_model_in_use(out)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise _fail(f"{out}: the model in use cannot be read ({exc})") from None
    if in_use is not None and in_use.encoder_id != encoder.model_id:
        in_use = None  # a model for another encoder cannot score these vectors: not judged
    in_use = in_use or seed_model(encoder)
    model, judgement = train_and_judge(
        encoder.encode(labelled["text"].tolist()),
        labelled,
        encoder.encode(extra["text"].tolist()),
        extra,
        in_use,
        encoder.model_id,
        datetime.now(UTC).strftime("%Y%m%dT%H%M%S"),
    )
    figures = (
        f"macro-F1 {judgement.candidate_macro_f1:.3f} vs {judgement.in_use_macro_f1:.3f} for "
        f"{in_use.version} in use, on {judgement.holdout_rows} held-out row(s)"
        if judgement.judged
        else f"not judged: {judgement.holdout_rows} row(s) could be held out, 10 are needed"
    )
    if not judgement.better_or_equal and not force:
        where = keep_refused_model(out, model, judgement, in_use.version)
        console.print(
            f"model {model.version} NOT put in use ({figures}); {in_use.version} stays. "
            f"It is kept in {where}; --force puts it in use anyway."
        )
        raise typer.Exit(code=1)
    promote_model(out, model, judgement, in_use.version)
    console.print(
        f"model {model.version} in use in {out} ({figures}): {len(labelled)} of your row(s)"
        + ("" if without_seed else f" + {len(extra)} seed row(s)")
    )


@text_app.command("evaluate")
def evaluate(
    file: Annotated[Path, typer.Argument(help="CSV with columns text,intent.")],
    model: ModelDir = None,
) -> None:
    """Per-intent precision, recall and F1, and the confusion matrix, on labelled rows."""
    from patronage.tasks.transforms.text.text_classifier import evaluate_intents
    from patronage.tasks.transforms.text.text_signals import classify_texts

    frame = _read(file, ["text", "intent"])
    if frame.empty:
        raise _fail(f"{file}: no labelled rows")
    _check_intents(frame, file)
    encoder, _ = _models(model)
    predicted = classify_texts(frame["text"].tolist(), model, encoder)["intent"]
    scores, matrix = evaluate_intents(frame["intent"], predicted)
    table = Table(title=f"{len(frame)} labelled row(s)", title_justify="left")
    for col in scores.columns:
        table.add_column(col)
    for row in scores.itertuples(index=False):
        table.add_row(*(str(v) for v in row))
    console.print(table)
    confusion = Table(title="confusion (rows: labelled, columns: predicted)", title_justify="left")
    confusion.add_column("")
    for col in matrix.columns:
        confusion.add_column(col)
    for label, row in matrix.iterrows():
        confusion.add_row(label, *(str(v) for v in row))
    console.print(confusion)


@text_app.command("group")
def group(
    file: Annotated[Path, typer.Argument(help="CSV with columns id,text.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="CSV to write: id,idea_key.")],
    threshold: Annotated[
        float | None,
        typer.Option(
            min=0.0, max=1.0, help="Cosine similarity to merge (default: the shipped 0.40)."
        ),
    ] = None,
) -> None:
    """Group mentions of the same idea by meaning; each group is keyed by its first mention's id."""
    from patronage.tasks.transforms.queues.idea_grouping import DEFAULT_THRESHOLD, group_texts

    frame = _read(file, ["id", "text"])
    duplicated = frame["id"].duplicated()
    if duplicated.any():
        raise _fail(
            f"{file}: row {int(duplicated.idxmax()) + 1}: id {frame.loc[duplicated.idxmax(), 'id']!r} "
            "appears more than once; ids must be unique"
        )
    encoder, _ = _models(None)
    readable = frame["text"].str.strip() != ""
    groups = group_texts(
        frame.loc[readable, "text"].tolist(),
        encoder.encode,
        DEFAULT_THRESHOLD if threshold is None else threshold,
    )
    keys = _idea_key_table(frame, readable, groups)
    keys.to_csv(out, index=False)
    console.print(
        f"{len(frame)} mention(s) in {keys['idea_key'].nunique()} idea(s) written to {out}"
        + (
            f"; {int((~readable).sum())} empty text(s) kept as ideas of their own"
            if (~readable).any()
            else ""
        )
    )


def _idea_key_table(frame, readable, groups):
    """``id,idea_key`` for every row; an empty text is an idea of its own (nothing to compare)."""
    import numpy as np
    import pandas as pd

    from patronage.tasks.transforms.queues.idea_grouping import idea_keys

    labels = np.empty(len(frame), dtype=np.int64)
    labels[readable.to_numpy()] = groups
    labels[~readable.to_numpy()] = groups.max(initial=-1) + 1 + np.arange(int((~readable).sum()))
    ids = frame["id"].reset_index(drop=True)
    return pd.DataFrame({"id": ids, "idea_key": idea_keys(ids, labels).to_numpy()})
