"""The ``patronage`` command: one module per command group, the shared options in ``common``."""

from patronage.cli import admin, outbox, pipeline, web, work  # noqa: F401 - each registers its commands
from patronage.cli.common import app
from patronage.cli.text import text_app

app.add_typer(text_app, name="text")

__all__ = ["app"]
