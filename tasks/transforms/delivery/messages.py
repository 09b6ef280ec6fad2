"""Message texts from templates: the company's wording per language (Jinja2, autoescaped
where the text becomes HTML), filled with ids and links only."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from patronage.config.locations import PACKAGE_DIR

TEMPLATES = PACKAGE_DIR / "templates" / "messages"
DEFAULT_LANGUAGE = "en"
STATUS_WORDS = ("under_review", "planned", "shipped", "declined", "new")


@lru_cache(maxsize=8)
def _environment(folder: str | None) -> Environment:
    # The company's folder first; what it lacks comes from Patronage's templates.
    folders = [folder, str(TEMPLATES)] if folder else [str(TEMPLATES)]
    return Environment(
        loader=FileSystemLoader(folders),
        autoescape=select_autoescape(("html",)),
        undefined=StrictUndefined,  # a template naming a field we do not pass fails loudly
        keep_trailing_newline=False,
    )


def render(name: str, language: str | None, folder: Path | str | None = None, **fields) -> str:
    """``<name>.<language>.txt`` from the company's template folder, else Patronage's, falling
    back to English when the language has no template."""
    env = _environment(str(folder) if folder else None)
    candidates = [f"{name}.{(language or DEFAULT_LANGUAGE).lower()[:2]}.txt"]
    candidates.append(f"{name}.{DEFAULT_LANGUAGE}.txt")
    return env.select_template(candidates).render(**fields).strip()


def item_link(base_url: str, kind: str, key: str) -> str:
    """A link to an item on the Patronage web page (never to a customer's message)."""
    return f"{base_url.rstrip('/')}/{kind}/{key}"
