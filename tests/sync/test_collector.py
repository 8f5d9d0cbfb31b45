"""A pass keeps older objects out of the collector's scans only while it runs: whatever
way it ends (done, failed, overlapping another pass), nothing stays frozen after it."""

from __future__ import annotations

import gc
import threading

import pytest

from bridge.sync import SyncEngine, SyncSpec
from bridge.sync.collector import older_objects_frozen


def test_objects_are_frozen_during_a_pass_and_handed_back_after(make_pair) -> None:
    pair = make_pair(records=250)
    source, target = pair.connectors()
    seen: list[int] = []
    read = source.read_changes

    def watched(*args, **kwargs):
        for page in read(*args, **kwargs):
            seen.append(gc.get_freeze_count())
            yield page

    source.read_changes = watched

    with source, target:
        report = SyncEngine(pair.store, SyncSpec("members", source, target)).run()
    assert report.totals.created == 250
    assert seen and all(count > 0 for count in seen)
    assert gc.get_freeze_count() == 0


def test_a_failing_pass_hands_the_objects_back() -> None:
    with pytest.raises(RuntimeError), older_objects_frozen():
        assert gc.get_freeze_count() > 0
        raise RuntimeError("the pass failed")
    assert gc.get_freeze_count() == 0


def test_overlapping_passes_keep_them_frozen_until_the_last_ends() -> None:
    first_in, second_done = threading.Event(), threading.Event()
    counts: dict[str, int] = {}

    def first() -> None:
        with older_objects_frozen():
            first_in.set()
            second_done.wait(10)
            counts["first, after the second ended"] = gc.get_freeze_count()

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(10)
    with older_objects_frozen():
        counts["second"] = gc.get_freeze_count()
    second_done.set()
    thread.join(10)
    assert counts["second"] > 0
    assert counts["first, after the second ended"] > 0
    assert gc.get_freeze_count() == 0
