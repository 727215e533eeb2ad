"""The search benchmark's code works: at a tiny size, the console's search, the plain search and
the raw indexed SQL it is compared with find the same visits in the same order. Correctness only:
no timing is asserted here, or anywhere in tests (speed goals live in bench/, DESIGN §9)."""

from __future__ import annotations

import sys
from pathlib import Path

from kiosk import paths
from kiosk.domain.model import Packet
from kiosk.storage.db import open_database

sys.path.insert(0, str(paths.PROJECT_ROOT / "bench"))

import bench_search


def test_search_bench_compares_like_with_like(tmp_path: Path, packet: Packet) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'search.sqlite3'}", key_dir=tmp_path / "keys")
    population = bench_search.Population(db, packet)
    population.grow_to(1_000)
    searches = bench_search.Searches(db, packet)
    try:
        assert population.count == 1_000
        for prefix in (bench_search.typical_prefix, bench_search.short_prefix):
            targets = population.targets(prefix)
            assert len(targets) == bench_search.PLANTED
            assert bench_search.same_results(searches, targets) == []
            for target in targets:  # each planted patient is found, all three visits
                assert len(searches.raw_query(target)) >= bench_search.VISITS_PER_PLANTED
        targets = population.targets(bench_search.typical_prefix)
        times = bench_search.time_searches(searches, targets, runs=1)
        assert set(times) == set(bench_search.KINDS)
    finally:
        searches.close()
        db.dispose()
