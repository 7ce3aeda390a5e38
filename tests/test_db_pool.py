"""The embedded SQLite engine keeps a connection per concurrent thread: reconnecting per checkout (the default pool of
five) costs an open, the pragmas and a schema parse each time, on every webhook and every activity under load."""

import threading
from pathlib import Path

from sqlalchemy import event, text

from hub.db import make_engine


def test_concurrent_threads_reuse_their_sqlite_connections(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path}/pool.db")
    opened = []
    event.listen(engine, "connect", lambda *_: opened.append(1))
    barrier = threading.Barrier(12)

    def use() -> None:
        with engine.connect() as conn:
            barrier.wait(timeout=10)  # all 12 hold a connection at once
            conn.execute(text("select 1"))

    for _ in range(3):
        threads = [threading.Thread(target=use) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(opened) == 12  # the first round opens them; later rounds find them in the pool
    engine.dispose()
