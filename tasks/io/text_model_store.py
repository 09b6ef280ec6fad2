"""A company text model folder: the model in use at its root, earlier and refused ones beside it.

Layout of ``DIR`` (what ``patronage text train -o DIR`` writes and ``--model DIR`` or the
nightly's ``text.model_dir`` reads)::

    DIR/model.json, DIR/heads.npz     the model in use
    DIR/history/<version>/            each model it replaced (to roll back: copy one up)
    DIR/candidates/<version>/         models refused because they judged worse
    DIR/versions.jsonl                one line per training: version, figures, promoted or not
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from patronage.tasks.transforms.text.text_classifier import TextModel
from patronage.tasks.transforms.text.text_training import Judgement

MODEL_FILES = ("model.json", "heads.npz")


def read_model_in_use(folder: Path) -> TextModel | None:
    """The model at ``folder``'s root, or ``None`` when the folder holds none yet."""
    if not (folder / "model.json").is_file():
        return None
    return TextModel.load(folder)


def _log(folder: Path, model: TextModel, judgement: Judgement, in_use: str, promoted: bool):
    line = {
        "version": model.version,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "trained_on": model.trained_on,
        "holdout_rows": judgement.holdout_rows,
        "macro_f1": judgement.candidate_macro_f1,
        "in_use": in_use,
        "in_use_macro_f1": judgement.in_use_macro_f1,
        "promoted": promoted,
    }
    with (folder / "versions.jsonl").open("a", encoding="utf-8") as log:
        log.write(json.dumps(line) + "\n")


def promote_model(folder: Path, model: TextModel, judgement: Judgement, in_use: str) -> None:
    """Make ``model`` the one in use; the one it replaces moves to ``history/``."""
    folder.mkdir(parents=True, exist_ok=True)
    previous = read_model_in_use(folder)
    staged = folder / f".staging-{model.version}"
    model.save(staged)
    if previous is not None:
        archive = folder / "history" / previous.version
        archive.mkdir(parents=True, exist_ok=True)
        for name in MODEL_FILES:
            shutil.copy2(folder / name, archive / name)
    for name in MODEL_FILES:
        (staged / name).replace(folder / name)
    staged.rmdir()
    _log(folder, model, judgement, in_use, promoted=True)


def keep_refused_model(folder: Path, model: TextModel, judgement: Judgement, in_use: str) -> Path:
    """Store a refused ``model`` under ``candidates/`` (the model in use stays); returns where."""
    target = folder / "candidates" / model.version
    model.save(target)
    _log(folder, model, judgement, in_use, promoted=False)
    return target
