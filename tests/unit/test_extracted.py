"""What the extract stage keeps once the night's rows are validated."""

import pandas as pd

from patronage.tasks.io.sources.base import Extraction
from patronage.tasks.stages.extract_datasets import Extracted


def test_release_lets_go_of_snapshots_and_keeps_counts_and_incremental_rows():
    customers = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "email": ["a", "b", "c"]})
    new_orders = pd.DataFrame({"order_id": ["O9"], "customer_id": ["C1"]})
    all_orders = pd.DataFrame({"order_id": ["O1", "O9"], "customer_id": ["C2", "C1"]})
    extracted = Extracted(
        [
            Extraction("crm", "customers", customers),
            Extraction("shop", "orders", new_orders, incremental=True),
        ],
        {"customers": customers, "orders": all_orders},
    )
    extracted.release_snapshots()

    assert extracted.raw["customers"].empty and extracted.raw["orders"].empty
    assert list(extracted.raw["customers"].columns) == ["customer_id", "email"]
    crm, shop = extracted.extractions
    assert crm.frame.empty
    # Publishing stores an incremental source's rows: they stay.
    assert shop.frame["order_id"].tolist() == ["O9"]
    assert extracted.dataset_rows() == {"customers": 3, "orders": 2}
    assert [extracted.rows_of(e) for e in extracted.extractions] == [3, 1]
    assert extracted.rows == 4
