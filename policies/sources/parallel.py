"""HCL parsed on every CPU: tree-sitter's model of many files computed in forked worker
processes. The parent reads each file through the gatekeeper and sends only its text; a worker
parses it, checks its nesting and stores it in the parse cache (`finish`, the parent's, run in
the worker). Whatever a worker does not settle the parent parses itself, so errors, fallbacks
and counts are the serial path's."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

Model = dict[str, Any]
_finish: Callable[[str, Model], None] | None = None  # set in each worker

MIN_TEXTS = 64  # fewer are parsed serially: a worker's start costs ~20 ms


def workers_for(count: int) -> int:
    """Worker processes for `count` texts: one per CPU this process may use, at least
    MIN_TEXTS / 2 texts each; none where fork is not safe (Linux only, no other thread
    running: a thread holding a lock at fork would leave it held in the child)."""
    if count < MIN_TEXTS or sys.platform != "linux" or threading.active_count() > 1:
        return 0
    cpus = len(os.sched_getaffinity(0))
    return min(cpus, count // (MIN_TEXTS // 2)) if cpus > 1 else 0


class Running:
    """Texts being parsed by worker processes; `models()` waits for them."""

    def __init__(self, pool: ProcessPoolExecutor, results: Iterator[Model | None], n: int):
        self._pool, self._results, self._n = pool, results, n

    def models(self) -> list[Model | None]:
        """Each text's model in order (None where not settled, all None if the workers
        failed); the workers end."""
        try:
            return list(self._results)
        except (BrokenProcessPool, OSError):
            return [None] * self._n
        finally:
            self.cancel()

    def cancel(self) -> None:
        """Drop the texts not started; wait for the ones being parsed (a chunk at most), so no
        worker outlives the run."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def start(texts: list[str], finish: Callable[[str, Model], None]) -> Running | None:
    """Start parsing the texts (policies.hcl_ts.loads) in worker processes, each model passed
    to `finish` in the worker (it raises for a model the run refuses); None when the texts are
    too few or fork is not safe here."""
    workers = workers_for(len(texts))
    if not workers:
        return None
    context = multiprocessing.get_context("fork")  # the workers inherit `finish`, not a copy
    chunk = max(1, len(texts) // (workers * 4))
    try:
        pool = ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start_worker, initargs=(finish,)
        )
        return Running(pool, pool.map(_model, texts, chunksize=chunk), len(texts))
    except OSError:
        return None


def parse_texts(texts: list[str], finish: Callable[[str, Model], None]) -> list[Model | None]:
    """The texts' models parsed in worker processes (start, then wait), every one None when
    they are too few or the workers fail."""
    running = start(texts, finish)
    return running.models() if running is not None else [None] * len(texts)


def _start_worker(finish: Callable[[str, Model], None]) -> None:
    """The parent handles Ctrl-C and SIGTERM (it ends the pool); a worker just ends."""
    global _finish
    _finish = finish
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _model(text: str) -> Model | None:
    from policies.hcl_ts import loads

    try:
        model = loads(text)
        if _finish is not None:
            _finish(text, model)
    except Exception:  # noqa: BLE001 - the parent parses it again and reports what it finds
        return None
    return model
