"""Work waiting on some datasets' valid rows (``WhenValid``): started once, as soon as they are
all valid, never on a breached dataset."""

import pandas as pd

from patronage.tasks.stages.validate_datasets import WhenValid

POSTS = pd.DataFrame({"post_id": ["p1", "p2"]})
TICKETS = pd.DataFrame({"ticket_id": ["t1"]})
ORDERS = pd.DataFrame({"order_id": ["o1", "o2", "o3"]})


def _recording() -> tuple[WhenValid, list[dict[str, pd.DataFrame]]]:
    calls: list[dict[str, pd.DataFrame]] = []

    def start(valid: dict[str, pd.DataFrame]) -> int:
        calls.append(valid)
        return len(calls)

    return WhenValid(("social_posts", "tickets"), start), calls


def test_starts_once_when_every_dataset_it_reads_is_valid_and_gets_only_those():
    waiting, calls = _recording()
    waiting.offer({"social_posts": POSTS}, {})
    assert calls == []
    waiting.offer({"social_posts": POSTS, "tickets": TICKETS, "orders": ORDERS}, {})
    waiting.offer({"social_posts": POSTS, "tickets": TICKETS, "orders": ORDERS}, {})
    assert len(calls) == 1
    assert sorted(calls[0]) == ["social_posts", "tickets"]
    assert calls[0]["tickets"] is TICKETS
    assert waiting.result({}) == 1
    assert len(calls) == 1


def test_a_breached_dataset_keeps_it_from_starting_early():
    waiting, calls = _recording()
    waiting.offer({"social_posts": POSTS, "tickets": TICKETS}, {"tickets": ["tickets: breach"]})
    assert calls == []


def test_result_starts_it_with_the_nights_rows_when_it_never_started():
    waiting, calls = _recording()
    assert waiting.result({"social_posts": POSTS, "tickets": TICKETS, "orders": ORDERS}) == 1
    assert sorted(calls[0]) == ["social_posts", "tickets"]


def test_work_that_returns_nothing_still_starts_once():
    calls: list[object] = []
    waiting = WhenValid(("tickets",), calls.append)  # returns None
    waiting.offer({"tickets": TICKETS}, {})
    waiting.offer({"tickets": TICKETS, "orders": ORDERS}, {})
    assert waiting.result({"tickets": TICKETS}) is None
    assert len(calls) == 1
