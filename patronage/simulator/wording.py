"""The simulated company's wording, composed by a child process while the rest is drawn.

``Phrasebook`` draws from its own random stream, and nothing else the simulator draws depends
on what it wrote: so its calls can be replayed in order in another process, and their results
put in place once everything else is drawn. At a million customers the wording was a fifth of
``patronage sample``'s time, and the drawing of everything else keeps one core busy.

``DeferredWording`` stands in for the phrasebook: each call returns placeholders (numbers),
sends the call to the child in batches, and ``resolve`` swaps the placeholders for the
child's texts. Where ``fork`` does not exist, the phrasebook itself is used.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection

from patronage.simulator.text import Phrasebook

_BATCH = 20_000
# Parts 0–2 are the items of a (text, intent) or (subject, body, intent) result.
PART_TEXT, PART_LANGUAGE = 3, 4
_PART_SLOTS = 5


def _placeholder(call: int, part: int) -> int:
    """Part ``part`` of the ``call``-th call (``PART_TEXT``: the whole text; ``PART_LANGUAGE``:
    the message's language), as a number: none of the columns it stands in holds numbers, and
    a number costs a tenth of an object per message."""
    return call * _PART_SLOTS + part


def fork_context() -> multiprocessing.context.BaseContext | None:
    """The ``fork`` start method where the platform has it: a child that starts with the
    parent's memory (the tables drawn so far), without pickling it."""
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None


def _compose(book: Phrasebook, conn: Connection) -> None:
    """In the child: replay the calls in order; send back each result and its language."""
    results: list[tuple[object, str]] = []
    while (batch := conn.recv()) is not None:
        for method, args in batch:
            results.append((getattr(book, method)(*args), book.language))
    for start in range(0, len(results), _BATCH):
        conn.send(results[start : start + _BATCH])
    conn.send(None)
    conn.close()


class DeferredWording:
    """A ``Phrasebook`` whose texts are composed by a child process (see the module)."""

    def __init__(self, book: Phrasebook, context: multiprocessing.context.BaseContext):
        parent, child = context.Pipe()
        self._conn = parent
        self._child = context.Process(
            target=_compose, args=(book, child), name="patronage-sample-wording", daemon=True
        )
        self._child.start()
        child.close()
        self._pending: list[tuple[str, tuple]] = []
        self._calls = 0
        self._results: list[tuple[object, str]] | None = None

    @property
    def language(self) -> int:
        """The language of the last message composed (a placeholder)."""
        return _placeholder(self._calls - 1, PART_LANGUAGE)

    def _call(self, method: str, args: tuple, parts: int):
        k = self._calls
        self._calls += 1
        self._pending.append((method, args))
        if len(self._pending) >= _BATCH:
            self._flush()
        base = _placeholder(k, 0)
        if parts == 2:
            return base, base + 1
        if parts == 3:
            return base, base + 1, base + 2
        return base + PART_TEXT

    def _flush(self) -> None:
        self._conn.send(self._pending)
        self._pending = []

    def _collect(self) -> list[tuple[object, str]]:
        if self._results is None:
            self._flush()
            self._conn.send(None)
            results: list[tuple[object, str]] = []
            try:
                while (chunk := self._conn.recv()) is not None:
                    results.extend(chunk)
            except EOFError as error:
                raise RuntimeError(
                    f"composing the sample's texts failed (exit code {self._child.exitcode})"
                ) from error
            self._child.join()
            self._results = results
        return self._results

    def close(self) -> None:
        """Stop the child if its texts were never collected (drawing failed)."""
        if self._child.is_alive():
            self._child.terminate()
            self._child.join()
        self._conn.close()

    def resolve(self, value: object) -> object:
        """``value`` with a placeholder swapped for the text, intent or language it stands for."""
        if type(value) is not int:
            return value
        call, part = divmod(value, _PART_SLOTS)
        result, language = self._collect()[call]
        if part == PART_LANGUAGE:
            return language
        return result if part == PART_TEXT else result[part]

    def resolve_all(self, values: list) -> list:
        """``resolve`` of each of ``values``."""
        return [self.resolve(v) for v in values]


def _deferred(method: str, parts: int):
    def call(self: DeferredWording, *args):
        return self._call(method, args, parts)

    call.__name__ = method
    call.__doc__ = f"Placeholders for ``Phrasebook.{method}``'s result."
    return call


# How many parts each phrasebook call returns: (text, intent), (subject, body, intent) or the
# text alone (1).
_PARTS = {
    "churn_post": 2, "happy_post": 2, "question_post": 2, "critic_post": 2,
    "churn_ticket": 3, "routine_ticket": 3,
    "nudge": 1, "agreement": 1, "brand_reply": 1, "idea_body": 1, "idea_post": 1,
}  # fmt: skip
for _method, _parts in _PARTS.items():
    setattr(DeferredWording, _method, _deferred(_method, _parts))


def wording(book: Phrasebook, in_child: bool = True) -> Phrasebook | DeferredWording:
    """``book`` itself, or a ``DeferredWording`` of it where a child process can be forked."""
    context = fork_context() if in_child else None
    return book if context is None else DeferredWording(book, context)
