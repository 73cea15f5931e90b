"""How often CPython's cyclic garbage collector runs in gongkai's own processes.

CPython collects its youngest generation every 700 net allocations of container objects, and
every tenth of those collections goes on to the next generation. Importing Prefect, pydantic
and SQLAlchemy makes millions of such objects, nearly all of them kept for the life of the
process, so the collector walks them again and again while they are made. Measured with
`gc.callbacks` over `gongkai ingest` of 1,000 documents:

- the command's own process: 0.97 s of CPU in 686 collections; 0.27 s in 6 with the youngest
  generation's threshold at 50,000;
- the local Prefect server: 1.06 s in 866 collections (0.74 s of it in 6 full ones); 0.28 s
  in 10.

A young generation of 50,000 objects is a few megabytes at most, and every generation is
still collected (gc.freeze, elsewhere, keeps the modules out of the full collections).
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000


def collect_less_often(young: int = YOUNG_THRESHOLD) -> None:
    """Raise the youngest generation's threshold to `young` (never lower it); the older
    generations keep theirs. Called first thing by the `gongkai` command and by the local
    Prefect server, before their imports."""
    current, middle, old = gc.get_threshold()
    if current < young:
        gc.set_threshold(young, middle, old)
