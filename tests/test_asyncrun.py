"""archiver.support.asyncrun: a stage's result comes back without ever being formatted."""

from __future__ import annotations

from archiver.support import asyncrun


class _Loud:
    """A result that records every repr of itself."""

    reprs = 0

    def __repr__(self) -> str:
        type(self).reprs += 1
        return "_Loud()"


def test_run_returns_the_result_without_formatting_it() -> None:
    async def stage() -> _Loud:
        return _Loud()

    result = asyncrun.run(stage())
    assert isinstance(result, _Loud)
    assert _Loud.reprs == 0  # asyncio.run's SIGINT restore reprs its main task's result on 3.11


def test_run_propagates_the_stage_error() -> None:
    async def stage() -> None:
        raise ValueError("boom")

    try:
        asyncrun.run(stage())
    except ValueError as exc:
        assert str(exc) == "boom"
    else:  # pragma: no cover
        raise AssertionError("the error was swallowed")
