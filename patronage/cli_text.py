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
    from tasks.io.read_text_csv import TextFileError, read_text_csv

    try:
        return read_text_csv(path, required)
    except TextFileError as exc:
        raise _fail(str(exc)) from None


def _models(model: Path | None):
    from tasks.transforms.text_encoder import EncoderUnavailable
    from tasks.transforms.text_signals import text_model

    try:
        return text_model(model)
    except (EncoderUnavailable, FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from None


def _check_intents(frame, path: Path) -> None:
    from tasks.transforms.text_classifier import INTENTS, SENTIMENTS

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
    from tasks.transforms.text_signals import classify_texts

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
    out: Annotated[Path, typer.Option("-o", "--out", help="Folder to write the model into.")],
    without_seed: Annotated[
        bool,
        typer.Option(
            "--without-seed",
            help="Fit on your rows only, not on your rows plus the shipped seed set.",
        ),
    ] = False,
) -> None:
    """Fit a company model from labelled rows (plus the seed set, so no intent is left unknown)."""
    import pandas as pd

    from tasks.transforms.text_classifier import fit_text_model, read_seed

    frame = _read(file, ["text", "intent"])
    if frame.empty:
        raise _fail(f"{file}: no labelled rows")
    _check_intents(frame, file)
    labelled = frame[frame["text"].str.strip() != ""].copy()
    if "sentiment" in labelled:
        labelled["sentiment"] = labelled["sentiment"].replace("", None)
    rows = labelled if without_seed else pd.concat([labelled, read_seed()], ignore_index=True)
    if rows["intent"].nunique() < 2:
        raise _fail(f"{file}: all rows have one intent; a model needs at least two")
    encoder, _ = _models(None)
    model = fit_text_model(
        encoder.encode(rows["text"].tolist()), rows, encoder.model_id, version=out.name
    )
    model.save(out)
    console.print(
        f"model {out.name} written to {out}: {len(labelled)} of your row(s)"
        + ("" if without_seed else f" + {len(rows) - len(labelled)} seed row(s)")
    )


@text_app.command("evaluate")
def evaluate(
    file: Annotated[Path, typer.Argument(help="CSV with columns text,intent.")],
    model: ModelDir = None,
) -> None:
    """Per-intent precision, recall and F1, and the confusion matrix, on labelled rows."""
    from tasks.transforms.text_classifier import evaluate_intents
    from tasks.transforms.text_signals import classify_texts

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
    from tasks.transforms.idea_grouping import DEFAULT_THRESHOLD, group_vectors

    frame = _read(file, ["id", "text"])
    duplicated = frame["id"].duplicated()
    if duplicated.any():
        raise _fail(
            f"{file}: row {int(duplicated.idxmax()) + 1}: id {frame.loc[duplicated.idxmax(), 'id']!r} "
            "appears more than once; ids must be unique"
        )
    encoder, _ = _models(None)
    readable = frame["text"].str.strip() != ""
    groups = group_vectors(
        encoder.encode(frame.loc[readable, "text"].tolist()),
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

    from tasks.transforms.idea_grouping import idea_keys

    labels = np.empty(len(frame), dtype=np.int64)
    labels[readable.to_numpy()] = groups
    labels[~readable.to_numpy()] = groups.max(initial=-1) + 1 + np.arange(int((~readable).sum()))
    ids = frame["id"].reset_index(drop=True)
    return pd.DataFrame({"id": ids, "idea_key": idea_keys(ids, labels).to_numpy()})
