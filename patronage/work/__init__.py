"""The work API: what people do with queue items (claim, note, resolve, merge ideas…), one
module per queue, and the admin work on quarantined rows (``patronage.work.quarantine``).
Each call is one transaction on an engine from the ``PatronageDatabase`` block."""

from patronage.work.export import (
    escape_formula,
    export_queue,
)
from patronage.work.ideation import (
    IDEA_STATUSES,
    IDEA_TRANSITIONS,
    merge_ideas,
    set_idea_status,
    split_idea,
)
from patronage.work.queue_items import (
    EXPORT_COLUMNS,
    FORMULA_PREFIXES,
    QUEUES,
    AlreadyClaimed,
    InvalidTransition,
    ItemNotFound,
    Queue,
    WorkError,
    add_note,
    claim,
    claim_next,
    get_item,
    list_items,
    notes,
    release,
    snooze,
)
from patronage.work.retention import (
    CORRECTED_INTENT,
    RESOLVE_OUTCOMES,
    resolve_case,
)

__all__ = [
    "FORMULA_PREFIXES",
    "WorkError",
    "ItemNotFound",
    "AlreadyClaimed",
    "InvalidTransition",
    "Queue",
    "QUEUES",
    "EXPORT_COLUMNS",
    "list_items",
    "get_item",
    "claim_next",
    "claim",
    "release",
    "snooze",
    "add_note",
    "notes",
    "RESOLVE_OUTCOMES",
    "CORRECTED_INTENT",
    "resolve_case",
    "IDEA_STATUSES",
    "IDEA_TRANSITIONS",
    "set_idea_status",
    "merge_ideas",
    "split_idea",
    "escape_formula",
    "export_queue",
]
