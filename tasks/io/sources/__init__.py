"""Sources Patronage reads from, and a registry of source kinds.

Built in: ``files`` (CSV, Parquet, JSON Lines; local or fsspec), ``sql`` (any SQLAlchemy URL or
prefect-sqlalchemy connector block), ``zendesk_tickets``, ``hubspot_objects`` and ``json_api``.
A plugin adds a kind with ``register_source_kind``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from patronage.schemas.raw_layout import RAW_LAYOUT
from patronage.tasks.io.sources.base import Extraction, SourceConfig, SourceError
from patronage.tasks.io.sources.files import FileSource
from patronage.tasks.io.sources.rest import (
    HubSpotObjectsSource,
    JsonApiSource,
    ZendeskTicketsSource,
)
from patronage.tasks.io.sources.sql import SqlSource

AnySource = Annotated[
    FileSource | SqlSource | ZendeskTicketsSource | HubSpotObjectsSource | JsonApiSource,
    Field(discriminator="kind"),
]

SOURCE_KINDS: dict[str, type[SourceConfig]] = {
    "files": FileSource,
    "sql": SqlSource,
    "zendesk_tickets": ZendeskTicketsSource,
    "hubspot_objects": HubSpotObjectsSource,
    "json_api": JsonApiSource,
}


def register_source_kind(kind: str, config_class: type[SourceConfig]) -> None:
    """Make a new source kind available to ``sources.yaml`` files."""
    SOURCE_KINDS[kind] = config_class


class SourcesFile(BaseModel):
    """The YAML file's shape: ``sources: [ {kind: …, name: …, dataset: …, …}, … ]``."""

    sources: list[dict] = Field(default_factory=list)


def parse_sources(entries: list[dict], where: str = "sources") -> list[SourceConfig]:
    """Typed source configs from plain dicts; errors name the entry and the field."""
    parsed = []
    for position, entry in enumerate(entries, start=1):
        kind = entry.get("kind")
        if kind not in SOURCE_KINDS:
            raise ValueError(
                f"{where}: entry {position} has unknown kind {kind!r}; "
                f"known: {', '.join(sorted(SOURCE_KINDS))}"
            )
        try:
            parsed.append(TypeAdapter(SOURCE_KINDS[kind]).validate_python(entry))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or kind}: {e['msg']}" for e in exc.errors()
            )
            raise ValueError(
                f"{where}: entry {position} ({entry.get('name', kind)}): {problems}"
            ) from None
    names = [s.name for s in parsed]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{where}: source names must be unique; repeated: {', '.join(duplicates)}")
    return parsed


def load_sources_file(path: str | Path) -> list[SourceConfig]:
    """Read ``deployments/sources.yaml``-style configuration."""
    data = yaml.safe_load(Path(path).read_text()) or {}
    return parse_sources(SourcesFile.model_validate(data).sources, where=str(path))


def default_file_sources(data_location: str) -> list[SourceConfig]:
    """One file source per dataset in the standard export layout."""
    return [
        FileSource(
            name=f"files-{dataset.replace('_', '-')}",
            dataset=dataset,
            path=str(Path(data_location) / rel),
        )
        for dataset, rel in RAW_LAYOUT.items()
    ]


def resolve_sources(
    sources: list[SourceConfig], sources_file: str | None, data_location: str
) -> list[SourceConfig]:
    """Configured sources, else the sources file, else the export files in ``data_location``."""
    if sources:
        return list(sources)
    if sources_file:
        return load_sources_file(sources_file)
    return default_file_sources(data_location)


__all__ = [
    "AnySource",
    "Extraction",
    "SOURCE_KINDS",
    "SourceConfig",
    "SourceError",
    "default_file_sources",
    "load_sources_file",
    "parse_sources",
    "register_source_kind",
    "resolve_sources",
]
