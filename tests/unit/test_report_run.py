"""The run summary artifact says what the night redid and what it kept from earlier nights."""

from __future__ import annotations

from patronage.tasks.io.report_run import render_run_summary

SUMMARY = {
    "run_id": "r1",
    "as_of": "2026-11-01",
    "published": True,
    "datasets": {
        "orders": {"read": 10, "valid": 9, "quarantined": 1, "unknown_columns": 0,
                   "validated_before": 7},
        "customers": {"read": 4, "valid": 4, "quarantined": 0, "unknown_columns": 0,
                      "validated_before": 3},
    },
    "stages": {"validate": {"rows": 14, "seconds": 1.5, "peak_mib": 300.0}},
    "text_vectors": {"stored_before": 120, "encoded": 2, "languages_identified": 2},
    "record_linkage": {"trained": "", "authors_compared": 2, "authors_kept": 60,
                       "customers_compared": 1},
    "queues": {"retention": 3},
}  # fmt: skip


def test_the_summary_counts_what_was_redone_and_what_was_kept():
    markdown = render_run_summary(SUMMARY)
    section = markdown.split("## What tonight redid")[1].split("\n## ")[0]
    assert "| rows validated | 3 | 10 |" in section
    assert "| texts encoded | 2 | 120 |" in section
    assert "| authors compared with every customer | 2 | 60 |" in section
    assert "| customers compared | 1 | |" in section
    assert "Record linkage model: stored" in section


def test_a_night_that_trained_the_model_says_why():
    trained = {
        **SUMMARY,
        "record_linkage": {**SUMMARY["record_linkage"], "trained": "no model stored"},
    }
    assert "Record linkage model: trained tonight (no model stored)" in render_run_summary(trained)
