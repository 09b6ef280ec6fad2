"""Files: CSV, Parquet or JSON Lines from a local path or an fsspec URL."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import Field

from patronage.tasks.io.read_exports import ExportReadError, parse_export
from patronage.tasks.io.sources.base import (
    Extraction,
    SourceConfig,
    SourceError,
    advance_watermark,
    require_watermark_column,
    rows_since,
    watermark_in_future,
)


class FileSource(SourceConfig):
    """A file export. ``columns`` maps staging columns to the file's own column names."""

    kind: Literal["files"] = "files"
    path: str = Field(
        ...,
        description="Local path or fsspec URL (s3://…, gcs://… where the library is installed).",
    )
    format: Literal["csv", "parquet", "jsonl"] | None = Field(
        None, description="File format; by default from the file's suffix."
    )
    watermark_column: str | None = Field(
        None,
        description="Staging column with a timestamp: only rows at or after the stored watermark are read.",
    )

    def _read(self) -> pd.DataFrame:
        fmt = self.format or {
            ".csv": "csv",
            ".parquet": "parquet",
            ".jsonl": "jsonl",
            ".ndjson": "jsonl",
        }.get(Path(self.path.split("?")[0]).suffix)
        if fmt is None:
            raise SourceError(f"{self.name}: cannot tell the format of {self.path}; set format")
        if "://" in self.path:
            try:
                import fsspec
            except ImportError as exc:
                raise SourceError(
                    f"{self.name}: reading {self.path.split('://')[0]}:// URLs needs fsspec: "
                    "pip install fsspec (and the filesystem's package, e.g. s3fs)"
                ) from exc
            with fsspec.open(self.path, "rb") as handle:
                data = handle.read()
        elif not Path(self.path).exists():
            raise SourceError(f"{self.name}: {self.path}: export not found")
        else:
            data = Path(self.path).read_bytes()
        if fmt == "parquet":
            frame = pd.read_parquet(io.BytesIO(data))
            return frame.astype("string").fillna("").astype(object)
        # A byte that is not UTF-8 quarantines its row, not the whole file.
        return parse_export(data, fmt, self.path, strict=False)

    def extract(self, state: dict[str, str | None], full_refresh: bool) -> Extraction:
        mapping = self.column_map()
        try:
            raw = self._read()
        except (ExportReadError, FileNotFoundError) as exc:
            raise SourceError(f"{self.name}: {exc}") from exc
        rename = {
            source: column
            for column, source in mapping.items()
            if isinstance(source, str) and source != column
        }
        frame = raw.rename(columns=rename)
        previous = None if full_refresh else state.get("watermark")
        if self.watermark_column is None:
            return Extraction(self.name, self.dataset, frame, {}, incremental=False)
        warning = watermark_in_future(previous, self.name)
        if warning:
            return Extraction(
                self.name, self.dataset, frame.iloc[0:0], dict(state), True, warnings=[warning]
            )
        require_watermark_column(frame, self.watermark_column, self.name)
        frame = rows_since(frame, self.watermark_column, previous)
        return Extraction(
            self.name,
            self.dataset,
            frame,
            {"watermark": advance_watermark(frame, self.watermark_column, previous)},
            incremental=True,
            watermark_values=frame[self.watermark_column],
            previous_watermark=previous,
        )
