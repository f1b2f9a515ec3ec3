"""One of the people logging checks at the same moment: a separate process with several
threads, each an officer logging checks through the library against the database at the given URL.

    python -m tests.support.log_checks_worker URL NAME THREADS PER_THREAD START ASSET...
    python -m tests.support.log_checks_worker URL NAME THREADS correct:CHECK_ID START ASSET

Waits until the wall-clock time START so both processes start together, then prints one JSON
object: the ids logged and the errors met (a correction race expects all but one to lose).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import datetime, timedelta

from access.roles import Principal
from access.scope import acting_as
from registers.checks import log_check
from registers.common import RegisterError
from store.db import get_engine


def main() -> None:
    url, name, threads, work, start, *assets = sys.argv[1:]
    engine = get_engine(url)
    logged: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    correcting = work.startswith("correct:")
    per_thread = 1 if correcting else int(work)
    base = datetime.now().replace(second=0, microsecond=0) - timedelta(days=1)

    def person(thread: int) -> None:
        with acting_as(Principal(f"{name}-{thread}", "officer", source="local")):
            log_for(thread)

    def log_for(thread: int) -> None:
        for i in range(per_thread):
            try:
                result = log_check(
                    engine, asset_id=assets[(thread + i) % len(assets)],
                    checked_at=base + timedelta(minutes=thread * per_thread + i),
                    checked_by=f"{name} thread {thread}", outcome="serviceable",
                    notes=f"{name}/{thread}/{i}",
                    corrects=int(work.split(":")[1]) if correcting else None,
                    recorded_by=name, source="concurrency test")
                with lock:
                    logged.append(result.id)
            except RegisterError as exc:
                with lock:
                    errors.append(str(exc))

    time.sleep(max(0.0, float(start) - time.time()))
    workers = [threading.Thread(target=person, args=(t,)) for t in range(int(threads))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(json.dumps({"logged": logged, "errors": errors}))


if __name__ == "__main__":
    main()
