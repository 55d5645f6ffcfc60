"""A progress bar fed with (done, total) counts, for commands whose work reports progress that way
(publishing graphs, exporting entity documents). No bar when stderr is not a terminal."""

from __future__ import annotations

from types import TracebackType

from tqdm import tqdm


class CountBar:
    """``with CountBar("publishing", "graph") as bar: work(on_progress=bar)``; the bar appears
    at the first report, when the total is known, and is closed on leaving the block."""

    def __init__(self, desc: str, unit: str) -> None:
        self.desc, self.unit = desc, unit
        self._bar: tqdm[None] | None = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:  # disable=None: no bar when stderr is not a terminal
            self._bar = tqdm(total=total, desc=self.desc, unit=self.unit, disable=None)
        self._bar.update(done - self._bar.n)

    def __enter__(self) -> CountBar:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.close()
