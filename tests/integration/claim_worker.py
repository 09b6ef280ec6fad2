"""A worker process for the concurrent-claim test: connects, waits until every worker is ready
(one file each in a barrier folder), then claims until the queue is empty and prints one
claimed key per line, then the start and end of its claiming (epoch seconds) on the last."""

import sys
import time
from pathlib import Path

from patronage.resources.database import make_engine
from patronage.work import claim_next

if __name__ == "__main__":
    database_url, worker, barrier, workers = (
        sys.argv[1],
        sys.argv[2],
        Path(sys.argv[3]),
        int(sys.argv[4]),
    )
    engine = make_engine(database_url)
    with engine.connect():
        pass
    (barrier / worker).touch()
    deadline = time.time() + 120
    while len(list(barrier.iterdir())) < workers and time.time() < deadline:
        time.sleep(0.005)
    started = time.time()
    while (key := claim_next(engine, "retention", worker)) is not None:
        sys.stdout.write(key + "\n")
    sys.stdout.write(f"{started} {time.time()}\n")
    engine.dispose()
