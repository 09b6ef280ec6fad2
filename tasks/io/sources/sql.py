"""SQL: a table or a query in any database SQLAlchemy reaches (a CRM's own database)."""

from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import Field, model_validator
from sqlalchemy import Engine, bindparam, column, select, table, text
from sqlalchemy.engine import make_url

from patronage.tasks.io.sources.base import (
    Extraction,
    SourceConfig,
    SourceError,
    parse_watermark,
    watermark_in_future,
)
from patronage.tasks.transforms.validation.map_records import map_records


class SqlSource(SourceConfig):
    """Rows from a table or query; ``columns`` maps staging columns to result columns."""

    kind: Literal["sql"] = "sql"
    url: str | None = Field(None, description="SQLAlchemy URL without a password.")
    password_secret: str | None = Field(
        None, description="Secret block holding the password for url."
    )
    connector_block: str | None = Field(
        None, description="prefect-sqlalchemy SqlAlchemyConnector block to use instead of url."
    )
    table: str | None = Field(None, description="Table (or schema.table) to read.")
    query: str | None = Field(None, description="SELECT to read instead of a table.")
    watermark_column: str | None = Field(
        None,
        description="Result column with a timestamp or increasing value: only rows at or after the stored watermark are read.",
    )

    @model_validator(mode="after")
    def _check(self) -> SqlSource:
        if (self.table is None) == (self.query is None):
            raise ValueError(f"{self.name}: set exactly one of table or query")
        if (self.url is None) == (self.connector_block is None):
            raise ValueError(f"{self.name}: set exactly one of url or connector_block")
        if self.url and make_url(self.url).password:
            raise ValueError(f"{self.name}: url must not contain a password; use password_secret")
        return self

    def _engine(self) -> Engine:
        if self.connector_block:
            from prefect_sqlalchemy import SqlAlchemyConnector

            return SqlAlchemyConnector.load(self.connector_block).get_engine()
        from patronage.resources.database import load_secret, make_engine

        return make_engine(self.url, load_secret(self.password_secret))

    def _check_watermark_column(self, engine) -> None:
        """Name the table's columns when the watermark column is not one of them."""
        from sqlalchemy import inspect

        schema, _, name = self.table.rpartition(".")
        try:
            columns = [c["name"] for c in inspect(engine).get_columns(name, schema=schema or None)]
        except Exception as exc:  # noqa: BLE001 - the driver's error text, never the password
            engine.dispose()
            raise SourceError(
                f"{self.name}: reading {self.table} failed: {type(exc).__name__}"
            ) from exc
        if self.watermark_column not in columns:
            engine.dispose()
            raise SourceError(
                f"{self.name}: watermark_column {self.watermark_column!r} is not a column of "
                f"{self.table} (columns: {', '.join(columns)})"
            )

    def _statement(self, since: str | None, dialect: str):
        if self.table:
            schema, _, name = self.table.rpartition(".")
            source = table(name, schema=schema or None)
        else:
            source = text(self.query).columns().subquery("src")
        stmt = select(text("*")).select_from(source)
        if self.watermark_column:
            wm = column(self.watermark_column)
            if since is not None:
                stmt = stmt.where(
                    wm >= bindparam("since", since if dialect == "sqlite" else _typed(since))
                )
            stmt = stmt.order_by(wm)
        return stmt

    def extract(self, state: dict[str, str | None], full_refresh: bool) -> Extraction:
        previous = None if full_refresh else state.get("watermark")
        if self.watermark_column:
            warning = watermark_in_future(previous, self.name)
            if warning:
                empty = pd.DataFrame(columns=list(self.column_map()), dtype=object)
                return Extraction(
                    self.name, self.dataset, empty, dict(state), True, warnings=[warning]
                )
        engine = self._engine()
        if self.watermark_column and self.table:
            self._check_watermark_column(engine)
        try:
            with engine.connect() as conn:
                result = pd.read_sql(self._statement(previous, engine.dialect.name), conn)
        except (
            Exception
        ) as exc:  # a driver error text can include the statement, never the password
            raise SourceError(
                f"{self.name}: reading {self.table or 'query'} failed: "
                f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
            ) from exc
        finally:
            engine.dispose()
        records = result.astype(object).where(result.notna(), None).to_dict("records")
        frame, unknown = map_records(records, self.dataset, self.column_map(), self.name)
        new_state: dict[str, str | None] = {}
        if self.watermark_column:
            values = result[self.watermark_column].dropna()
            new_state["watermark"] = _as_text(values.max()) if len(values) else previous
        return Extraction(
            self.name,
            self.dataset,
            frame,
            new_state,
            incremental=self.watermark_column is not None,
            unknown_fields=unknown,
            watermark_values=result[self.watermark_column].map(_as_text).set_axis(frame.index)
            if self.watermark_column
            else None,
            previous_watermark=previous,
        )


def _typed(watermark: str) -> object:
    """A stored watermark as the value the database compares with: a number or a datetime if
    it is one (an integer column does not compare with text on PostgreSQL).

    SQLite keeps timestamps as text, so there the watermark stays the text it was read as.
    """
    parsed = parse_watermark(watermark)
    if isinstance(parsed, float):
        return int(parsed) if parsed.is_integer() else parsed
    try:
        stamp = pd.Timestamp(watermark)
    except (ValueError, TypeError):
        return watermark
    return stamp.to_pydatetime()


def _as_text(value: object) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
