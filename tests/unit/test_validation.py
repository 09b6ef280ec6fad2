"""Staging and the Great Expectations contracts: what is quarantined, what breaches."""

from datetime import date

import pandas as pd
import pytest

from patronage.schemas.contracts import CONTRACTS
from patronage.tasks.io.read_exports import ExportReadError, read_export
from patronage.tasks.transforms.validation.stage_dataset import _cast, stage_dataset
from patronage.tasks.transforms.validation.storable_text import BYTE_BASE, may_be_unstorable
from patronage.tasks.transforms.validation.validate_dataset import validate_dataset

AS_OF = date(2026, 10, 31)


def raw_orders(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["order_id", "customer_id", "ordered_at", "amount"])


def validate_orders(raw: pd.DataFrame, max_reject_share: float = 0.5):
    return validate_dataset(
        stage_dataset(raw, CONTRACTS["orders"]),
        CONTRACTS["orders"],
        AS_OF,
        {"customers": {"C1", "C2"}},
        max_reject_share,
    )


def test_bad_rows_are_quarantined_with_reasons_and_good_rows_kept():
    raw = raw_orders(
        [
            ("O1", "C1", "2026-10-01T10:00:00Z", "12.50"),
            ("O2", "C1", "2026-10-02T10:00:00Z", "abc"),
            ("O3", "C9", "2026-10-03T10:00:00Z", "5"),
            ("O4", "C2", "2099-01-01T00:00:00Z", "5"),
            ("O5", "C2", "2026-10-05T10:00:00Z", "-3"),
            ("O6", "C2", "2026-10-06T10:00:00Z", "7"),
            ("O7", "C2", "2026-10-07T10:00:00Z", "8"),
            ("O8", "C1", "2026-10-08T10:00:00Z", "9"),
        ]
    )
    result = validate_orders(raw)
    assert result.breaches == []
    assert list(result.valid["order_id"]) == ["O1", "O6", "O7", "O8"]
    reasons = dict(zip(result.rejected["row_key"], result.rejected["reasons"], strict=True))
    assert reasons == {
        "O2": ["cast:amount", "expect_column_values_to_not_be_null:amount"],
        "O3": ["references:customers.customer_id"],
        "O4": ["expect_column_values_to_be_between:ordered_at"],
        "O5": ["expect_column_values_to_be_between:amount"],
    }


def test_missing_column_is_a_breach_naming_dataset_and_column():
    raw = raw_orders([("O1", "C1", "2026-10-01T10:00:00Z", "1")]).drop(columns="amount")
    result = validate_orders(raw)
    assert result.breaches == ["orders: missing column(s) amount"]


def test_reject_share_over_threshold_is_a_breach_with_example_ids():
    raw = raw_orders(
        [
            ("O1", "C1", "2026-10-01T10:00:00Z", "1"),
            ("O2", "C1", "2026-10-01T10:00:00Z", "x"),
            ("O3", "C1", "2026-10-01T10:00:00Z", "y"),
        ]
    )
    result = validate_orders(raw, max_reject_share=0.05)
    assert len(result.breaches) == 1
    assert result.breaches[0].startswith("orders: 66.7% of rows rejected (threshold 5%)")
    assert "example row ids: O2, O3" in result.breaches[0]


def test_stale_orders_breach_freshness():
    raw = raw_orders([("O1", "C1", "2026-01-01T10:00:00Z", "1")])
    result = validate_orders(raw)
    assert result.breaches == [
        "orders: newest ordered_at is 303 days old at 2026-10-31 (freshness limit 30 days)"
    ]


def test_dataset_level_checks_count_with_the_expectations():
    fresh = validate_orders(raw_orders([("O1", "C1", "2026-10-30T10:00:00Z", "1")]))
    stale = validate_orders(raw_orders([("O1", "C1", "2026-01-01T10:00:00Z", "1")]))
    rejecting = validate_orders(
        raw_orders(
            [("O1", "C1", "2026-10-30T10:00:00Z", "1"), ("O2", "C1", "2026-10-30T10:00:00Z", "x")]
        ),
        0.05,
    )
    missing = validate_orders(
        raw_orders([("O1", "C1", "2026-10-30T10:00:00Z", "1")]).drop(columns="amount")
    )

    def checks(result):
        return {
            r["expectation"]: (r["success"], r["unexpected_count"])
            for r in result.expectations
            if not r["expectation"].startswith(("expect_", "references_"))
        }

    assert checks(fresh) == {"reject_share_at_most_threshold": (True, 0), "freshness": (True, 0)}
    assert checks(stale) == {"reject_share_at_most_threshold": (True, 0), "freshness": (False, 0)}
    assert checks(rejecting) == {
        "reject_share_at_most_threshold": (False, 1),
        "freshness": (True, 0),
    }
    assert checks(missing) == {"columns_present": (False, 0)}


def test_duplicate_keys_quarantine_every_conflicting_row():
    raw = raw_orders(
        [
            ("O1", "C1", "2026-10-01T10:00:00Z", "1"),
            ("O1", "C2", "2026-10-02T10:00:00Z", "2"),
            ("O2", "C2", "2026-10-02T10:00:00Z", "2"),
        ]
    )
    result = validate_orders(raw, max_reject_share=1.0)
    assert list(result.valid["order_id"]) == ["O2"]
    assert list(result.rejected["row_key"]) == ["O1", "O1"]


def test_unknown_columns_are_ignored_and_reported():
    raw = raw_orders([("O1", "C1", "2026-10-01T10:00:00Z", "1")]).assign(coupon="X")
    result = validate_orders(raw)
    assert result.unknown_columns == ["coupon"] and result.breaches == []


def test_hostile_text_is_kept_as_is():
    text = '\'; DROP TABLE orders; -- =HYPERLINK("x") <script>alert(1)</script> 🙂 مرحبا'
    raw = pd.DataFrame(
        [
            {
                "idea_id": "I1",
                "author_email": "",
                "author_handle": "h",
                "title": text,
                "body": text,
                "votes": "1",
                "created_at": "2026-10-01T00:00:00Z",
            }
        ]
    )
    result = validate_dataset(stage_dataset(raw, CONTRACTS["ideas"]), CONTRACTS["ideas"], AS_OF)
    assert result.valid["title"].tolist() == [text]


def test_malformed_json_line_names_file_and_line(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text('{"post_id": "P1"}\n{"post_id": \n')
    with pytest.raises(ExportReadError, match=r"posts\.jsonl:2: not valid JSON"):
        read_export(path)


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("orders.csv", b"order_id,amount\nO1,1\nO2,caf\xe9\n", r"row 2 \(line 3\)"),
        ("posts.jsonl", b'{"post_id": "P1"}\n{"text": "caf\xe9"}\n', "line 2"),
    ],
)
def test_bytes_that_are_not_utf8_name_the_file_and_row(tmp_path, name, content, where):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ExportReadError, match=rf"{name}: {where} is not UTF-8 text \(byte 0xe9\)"):
        read_export(path)


def test_missing_export_names_the_file(tmp_path):
    with pytest.raises(ExportReadError, match=r"orders\.csv: export not found"):
        read_export(tmp_path / "orders.csv")


def test_json_lines_keep_unicode_line_separators_inside_values(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text('{"post_id": "P1", "text": "one\u2028two"}\n', encoding="utf-8")
    assert read_export(path)["text"].tolist() == ["one\u2028two"]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # Text, whole numbers, true/false, null and missing keys (Arrow's reader).
        (
            '{"id": "P1", "likes": 3, "ok": true, "at": "2026-01-02T03:04:05Z"}\n\n'
            '{"id": "P2", "likes": -1, "ok": false, "at": null, "new": "x"}\n',
            {"id": ["P1", "P2"], "likes": ["3", "-1"], "ok": ["True", "False"],
             "at": ["2026-01-02T03:04:05Z", ""], "new": ["", "x"]},
        ),
        # What Python spells its own way (decimals, nested values, NaN, a number in a text
        # column, 21 digits) is read line by line, as before.
        ('{"id": "P1", "x": 1.0}\n{"id": "P2", "x": 2}\n', {"id": ["P1", "P2"], "x": ["1.0", "2"]}),
        ('{"id": "P1", "x": {"a": 1}}\n', {"id": ["P1"], "x": ["{'a': 1}"]}),
        ('{"id": "P1", "x": NaN}\n', {"id": ["P1"], "x": ["nan"]}),
        ('{"id": "P1"}\n{"id": 2}\n', {"id": ["P1", "2"]}),
        ('{"id": 123456789012345678901}\n', {"id": ["123456789012345678901"]}),
        ('{"id": "2026-01-02"}\n{"id": "P2"}\n', {"id": ["2026-01-02", "P2"]}),
    ],
)  # fmt: skip
def test_json_lines_read_every_value_as_python_spells_it(tmp_path, lines, expected):
    path = tmp_path / "posts.jsonl"
    path.write_text(lines, encoding="utf-8")
    got = read_export(path)
    assert {c: got[c].tolist() for c in got.columns} == expected
    assert list(got.columns) == list(expected)


def test_json_lines_fields_first_met_after_the_first_lines_read_as_written(tmp_path, monkeypatch):
    """Arrow's reader learns which fields hold times from the file's first lines; a field
    that first appears later is still read as its text, in the order fields first appear."""
    from patronage.tasks.io import read_exports

    monkeypatch.setattr(read_exports, "_PROBE_BYTES", 40)
    path = tmp_path / "posts.jsonl"
    path.write_text(
        '{"id": "P1", "at": "2026-01-02T03:04:05Z"}\n{"id": "P2", "at": "2026-01-03"}\n'
        '{"id": "P3", "late": "2026-01-04T05:06:07Z", "n": 1}\n',
        encoding="utf-8",
    )
    got = read_export(path)
    assert {c: got[c].tolist() for c in got.columns} == {
        "id": ["P1", "P2", "P3"],
        "at": ["2026-01-02T03:04:05Z", "2026-01-03", ""],
        "late": ["", "", "2026-01-04T05:06:07Z"],
        "n": ["", "", "1"],
    }
    assert list(got.columns) == ["id", "at", "late", "n"]


def test_rows_validated_before_skip_the_expectations_with_the_same_outcome():
    """Rows known valid skip Great Expectations; what passes and fails is as for all rows:
    a new row repeating a known row's key rejects both, a known row whose customer left is
    rejected by the references that count every row."""
    from patronage.tasks.transforms.validation.validate_dataset import rows_to_check

    raw = raw_orders(
        [
            ("O1", "C1", "2026-10-01T10:00:00Z", "12.50"),  # known
            ("O2", "C2", "2026-10-02T10:00:00Z", "3"),  # known
            ("O3", "C9", "2026-10-03T10:00:00Z", "5"),  # known, its customer gone
            ("O4", "C2", "2026-10-04T10:00:00Z", "-1"),  # new, bad amount
            ("O2", "C1", "2026-10-05T10:00:00Z", "4"),  # new, repeats O2's key
            ("O6", "C1", "2026-10-06T10:00:00Z", "6"),  # new
        ]
    )
    known = pd.Series([True, True, True, False, False, False]).to_numpy()
    staged = stage_dataset(raw, CONTRACTS["orders"])
    assert rows_to_check(staged.frame, CONTRACTS["orders"], known).tolist() == [
        False, True, False, True, True, True,
    ]  # fmt: skip
    full = validate_orders(raw, max_reject_share=1.0)
    reused = validate_dataset(
        staged, CONTRACTS["orders"], AS_OF, {"customers": {"C1", "C2"}}, 1.0, known_valid=known
    )
    assert reused.validated_before == 2 and full.validated_before == 0
    assert reused.valid.equals(full.valid)
    assert list(reused.valid["order_id"]) == ["O1", "O6"]
    assert reused.rejected.to_dict("list") == full.rejected.to_dict("list")
    assert dict(zip(reused.rejected["row_index"], reused.rejected["reasons"], strict=True)) == {
        1: ["expect_column_values_to_be_unique:order_id"],
        2: ["references:customers.customer_id"],
        3: ["expect_column_values_to_be_between:amount"],
        4: ["expect_column_values_to_be_unique:order_id"],
    }


def test_with_every_row_validated_before_the_expectations_are_reported_met():
    raw = raw_orders(
        [("O1", "C1", "2026-10-01T10:00:00Z", "1"), ("O2", "C2", "2026-10-02T10:00:00Z", "2")]
    )
    result = validate_dataset(
        stage_dataset(raw, CONTRACTS["orders"]), CONTRACTS["orders"], AS_OF,
        {"customers": {"C1", "C2"}}, known_valid=pd.Series([True, True]).to_numpy(),
    )  # fmt: skip
    assert result.breaches == [] and result.validated_before == 2
    assert list(result.valid["order_id"]) == ["O1", "O2"]
    checks = {(r["expectation"], r["column"]): r["success"] for r in result.expectations}
    assert checks[("expect_column_values_to_be_between", "amount")] is True
    assert checks[("expect_column_values_to_be_unique", "order_id")] is True
    assert all(checks.values())


def test_staged_text_stays_arrow_text_with_codes_into_its_distinct_values():
    raw = pd.DataFrame(
        {
            "order_id": ["O1", "O2", "O3", "O4"],
            "customer_id": [" C1", "C1 ", "", "C2"],
            "ordered_at": ["2026-10-01T10:00:00Z"] * 4,
            "amount": ["1", "2", "3", "4"],
        },
        dtype="str",
    )
    result = stage_dataset(raw, CONTRACTS["orders"])
    staged = result.frame
    customers = [None if pd.isna(v) else v for v in staged["customer_id"]]
    assert customers == ["C1", "C1", None, "C2"]
    assert staged["customer_id"].dtype == "str" and staged["order_id"].dtype == "str"
    codes, distinct = result.distinct["customer_id"]
    assert codes.tolist() == [0, 0, -1, 1] and distinct.tolist() == ["C1", "C2"]
    assert "order_id" not in result.distinct  # codes only where a reference reads them
    assert staged["order_id"].tolist() == ["O1", "O2", "O3", "O4"]


def test_references_are_looked_up_once_per_distinct_id_with_the_same_outcome():
    raw = pd.DataFrame(
        {
            "order_id": ["O1", "O2", "O3", "O4", "O5"],
            "customer_id": ["C1", "C9", "", "C9 ", "C2"],
            "ordered_at": ["2026-10-01T10:00:00Z"] * 5,
            "amount": ["1", "2", "3", "4", "5"],
        },
        dtype="str",
    )
    staged = stage_dataset(raw, CONTRACTS["orders"])
    codes, distinct = staged.distinct["customer_id"]
    assert codes.tolist() == [0, 1, -1, 1, 2] and distinct.tolist() == ["C1", "C9", "C2"]
    assert "order_id" not in staged.distinct  # codes only where a reference reads them
    result = validate_orders(raw)
    reasons = dict(zip(result.rejected["row_key"], result.rejected["reasons"], strict=True))
    assert reasons == {
        "O2": ["references:customers.customer_id"],
        "O3": ["expect_column_values_to_not_be_null:customer_id"],
        "O4": ["references:customers.customer_id"],
    }
    # Without staging's codes (a frame typed elsewhere), the same rows are orphans.
    staged.distinct.clear()
    again = validate_dataset(staged, CONTRACTS["orders"], AS_OF, {"customers": {"C1", "C2"}}, 0.9)
    assert again.rejected["row_key"].tolist() == ["O2", "O3", "O4"]


def test_a_cell_of_nul_characters_only_is_a_cast_error_and_counted():
    raw = raw_orders(
        [
            ("O1", "C1", "2026-10-01T10:00:00Z", "1"),
            ("O2", "\x00\x00", "2026-10-01T10:00:00Z", "2"),
            ("O3", "C\x002", "2026-10-01T10:00:00Z", "3"),
        ]
    )
    staged = stage_dataset(raw, CONTRACTS["orders"])
    assert staged.normalised_cells == 2
    assert staged.cast_errors == {1: ["customer_id"]}
    assert staged.frame["customer_id"].fillna("(missing)").tolist() == ["C1", "(missing)", "C2"]


@pytest.mark.parametrize(
    ("cells", "kind", "expected"),
    [
        # Plain columns (Arrow reads them) and columns with one irregular cell (pandas does)
        # give the same values.
        (["12.50", "-3", None], "float", [12.5, -3.0, None]),
        (["12.50", "1,5", None], "float", [12.5, None, None]),
        (["12.50", "n/a", "1e3", None], "float", [12.5, None, 1000.0, None]),
        (["3", "4.0", "3.5"], "int", [3, 4, None]),
        (
            ["2026-10-31T09:00:00Z", "2026-10-31T09:00:00+02:00", None],
            "timestamp",
            [pd.Timestamp("2026-10-31 09:00"), pd.Timestamp("2026-10-31 07:00"), None],
        ),
        (
            ["2026-10-31T09:00:00Z", "2026-10-31", "2026-13-01T00:00:00Z"],
            "timestamp",
            [pd.Timestamp("2026-10-31 09:00"), pd.Timestamp("2026-10-31"), None],
        ),
        (
            ["2026-10-31T09:00:00Z", "31 Oct 2026", "2026-10-30", None],
            "timestamp",
            [pd.Timestamp("2026-10-31 09:00"), None, pd.Timestamp("2026-10-30"), None],
        ),
        (
            ["1500-01-01T00:00:00Z", "2026-10-31T09:00Z"],
            "timestamp",
            [None, pd.Timestamp("2026-10-31 09:00")],
        ),  # fmt: skip
        (["2026-10-31T23:30:00-05:00"], "date", [pd.Timestamp("2026-11-01")]),
    ],
    ids=[
        "plain-float",
        "float-with-comma",
        "float-mostly-plain",
        "int",
        "plain-times",
        "irregular-times",
        "times-mostly-plain",
        "time-out-of-range",
        "date",
    ],  # fmt: skip
)
def test_cast_reads_plain_and_irregular_columns_alike(cells, kind, expected):
    text = pd.Series(cells, index=[4, 5, 6, 7][: len(cells)], dtype="string")
    typed, _ = _cast(text, kind)
    assert typed.index.tolist() == text.index.tolist()
    assert [None if pd.isna(v) else v for v in typed] == expected
    assert str(typed.dtype) == {"float": "float64", "int": "Int64"}.get(kind, "datetime64[ns]")


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["C1", None, "C2"], False),
        (["café", "naïve"], False),  # not ASCII, yet nothing a database refuses
        (["C1", "C" + chr(0)], True),
        (["é", "x" + chr(BYTE_BASE + 0x90)], True),  # byte 0x90 kept by patronage-bytes
    ],
    ids=["ascii", "unicode", "nul", "undecodable-byte"],
)
def test_unstorable_cells_are_found_in_any_column(cells, expected):
    assert may_be_unstorable(pd.Series(cells, dtype="str")) is expected


def test_bytes_outside_a_sliced_column_do_not_make_it_unstorable():
    # A slice shares its Arrow buffer with the whole column: the NUL is in the buffer, not in
    # any cell of the slice, so the cell-by-cell look decides.
    column = pd.Series(["C" + chr(0), "C2", "C3"], dtype="str")
    assert may_be_unstorable(column) is True
    assert may_be_unstorable(column.iloc[1:]) is False
