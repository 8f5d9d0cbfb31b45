"""A pass keeps older objects out of the collector's scans and collects less often only
while it runs: whatever way it ends (done, failed, overlapping another pass), nothing
stays frozen and the thresholds are the process's own again after it."""

from __future__ import annotations

import gc
import threading

import pytest

from bridge.sync import SyncEngine, SyncSpec
from bridge.sync.collector import PASS_THRESHOLD, quiet_collector


def test_a_pass_freezes_older_objects_and_collects_less_often_only_while_it_runs(make_pair) -> None:
    pair = make_pair(records=250)
    source, target = pair.connectors()
    seen: list[tuple[int, int]] = []
    read = source.read_changes
    before = gc.get_threshold()

    def watched(*args, **kwargs):
        for page in read(*args, **kwargs):
            seen.append((gc.get_freeze_count(), gc.get_threshold()[0]))
            yield page

    source.read_changes = watched

    with source, target:
        report = SyncEngine(pair.store, SyncSpec("members", source, target)).run()
    assert report.totals.created == 250
    assert seen and all(frozen > 0 and young == PASS_THRESHOLD for frozen, young in seen)
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_a_failing_pass_hands_the_objects_back() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), quiet_collector():
        assert gc.get_freeze_count() > 0
        raise RuntimeError("the pass failed")
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_a_process_with_higher_thresholds_keeps_them() -> None:
    before = gc.get_threshold()
    gc.set_threshold(PASS_THRESHOLD * 2, 20, 30)
    try:
        with quiet_collector():
            assert gc.get_threshold() == (PASS_THRESHOLD * 2, 20, 30)
        assert gc.get_threshold() == (PASS_THRESHOLD * 2, 20, 30)
    finally:
        gc.set_threshold(*before)


def test_overlapping_passes_keep_them_frozen_until_the_last_ends() -> None:
    first_in, second_done = threading.Event(), threading.Event()
    counts: dict[str, int] = {}

    def first() -> None:
        with quiet_collector():
            first_in.set()
            second_done.wait(10)
            counts["first, after the second ended"] = gc.get_freeze_count()
            counts["threshold, after the second ended"] = gc.get_threshold()[0]

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(10)
    with quiet_collector():
        counts["second"] = gc.get_freeze_count()
    second_done.set()
    thread.join(10)
    assert counts["second"] > 0
    assert counts["first, after the second ended"] > 0
    assert counts["threshold, after the second ended"] == PASS_THRESHOLD
    assert gc.get_freeze_count() == 0
