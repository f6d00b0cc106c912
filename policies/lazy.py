"""Session resources provided on first use, in a test's call phase.

A session fixture that fails in setup turns every test using it into a JUnit <error>, which is
reserved for the suite's own faults. Fixtures therefore return a `Lazy`: the first test that
calls `.get()` brings the resource up; if it cannot be had (a tool missing, an endpoint
unreachable, a refused tree), that test and every later one fails or skips with the same one-line
reason, recorded as the test's own result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import pytest

T = TypeVar("T")
_SKIP, _FAIL = pytest.skip.Exception, pytest.fail.Exception


class Lazy(Generic[T]):
    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._value: T | None = None
        self._done = False
        self._outcome: tuple[type[BaseException], str] | None = None

    def get(self) -> T:
        """The resource; raises the skip or failure its bring-up ended in, every time."""
        if self._outcome is not None:
            kind, reason = self._outcome
            if kind is _SKIP:
                pytest.skip(reason)
            pytest.fail(reason, pytrace=False)
        if not self._done:
            try:
                self._value = self._make()
            except (_SKIP, _FAIL) as exc:
                self._outcome = (_SKIP if isinstance(exc, _SKIP) else _FAIL, str(exc.msg))
                raise
            self._done = True
        return self._value  # type: ignore[return-value]

    @property
    def started(self) -> bool:
        """Whether the resource was brought up (for the fixture's teardown)."""
        return self._done

    @property
    def value(self) -> T | None:
        return self._value if self._done else None
