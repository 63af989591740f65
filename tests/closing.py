"""A base for test helpers used as `with Helper(...) as helper:`; leaving the block closes it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class ClosesOnExit(ABC):
    @abstractmethod
    def close(self) -> None:
        """Release what the helper holds: servers, threads, processes."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
