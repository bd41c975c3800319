"""The recogniser's thread pool runs below the event loop's priority."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from speech.asr_engine import DECODE_NICENESS, decode_executor


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_decode_threads_and_their_children_are_nicer_than_the_caller() -> None:
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def nice_here() -> tuple[int, int]:
        child: list[int] = []
        t = threading.Thread(
            target=lambda: child.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        )
        t.start()
        t.join()
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id()), child[0]

    with decode_executor() as pool:
        worker, child = pool.submit(nice_here).result()
    assert worker == child == min(19, mine + DECODE_NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine  # caller unchanged
