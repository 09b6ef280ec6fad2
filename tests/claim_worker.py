"""A worker process for the concurrent-claim test: waits for a common start time, then claims
until the queue is empty and prints one claimed key per line."""

import sys
import time

from patronage.database import make_engine
from patronage.work import claim_next

if __name__ == "__main__":
    database_url, worker, start_at = sys.argv[1], sys.argv[2], float(sys.argv[3])
    engine = make_engine(database_url)
    time.sleep(max(0.0, start_at - time.time()))
    while (key := claim_next(engine, "retention", worker)) is not None:
        sys.stdout.write(key + "\n")
    engine.dispose()
