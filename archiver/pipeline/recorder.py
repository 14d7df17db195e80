"""Verdicts into link state as they come (the Recorder), what is due, and per-link report extras."""

from __future__ import annotations

import datetime as dt

from ..history.linkstate import Change, LinkState, apply_result, new_state
from ..history.schedule import resting, select_due
from ..history.shards import Shard
from ..history.store import StateStore
from ..liveness.network import CheckRun
from ..models import FAILING_STATUSES, CheckResult, Link
from ..options import HistoryOptions
from ..reportmodel import LinkExtras
from ..support.timefmt import iso


def result_extras(results: dict[str, CheckResult]) -> dict[str, LinkExtras]:
    """Per-link fields the contract allows beyond its own: timing, content type, connection failure."""
    return {key: LinkExtras(elapsed=result.elapsed, content_type=result.content_type,
                            connection_failure=result.connection_failure, body_truncated=result.body_truncated)
            for key, result in results.items()}


def _copy(state: LinkState) -> LinkState:
    return LinkState.from_dict(state.to_dict())


class Recorder:
    """Applies verdicts to link states and persists each one as soon as it is final.

    A failure (dead, soft_404) is written at once as *not counted*, then counted at the
    end of the run if the network turned out fine; a connection-level failure (DNS,
    refused) waits for the run's network state. So a killed run never leaves a failure
    counted that the network state would have discounted.
    """

    def __init__(self, store: StateStore, links: dict[str, Link], options: HistoryOptions, now: dt.datetime) -> None:
        self.store, self.links, self.options, self.now = store, links, options, now
        self.changes: list[Change] = []
        self._pending_failures: list[tuple[LinkState, CheckResult]] = []
        self._pending_connection: list[str] = []

    def state_for(self, key: str) -> LinkState:
        state = self.store.states.get(key)
        if state is None:
            link = self.links[key]
            state = new_state(link.url, key, self.now)
        return state

    def record(self, link: Link, result: CheckResult) -> None:
        key = link.normalized_url
        if result.connection_failure:
            self._pending_connection.append(key)
            return
        state = self.state_for(key)
        if result.status in FAILING_STATUSES:
            self._pending_failures.append((_copy(state), result))
            apply_result(state, result, self.options, counted=False)
        else:
            self.changes.extend(apply_result(state, result, self.options))
        self.store.save(state)

    def finish(self, run: CheckRun) -> None:
        counted = run.network.status == "ok"
        for before, result in self._pending_failures:
            if counted:
                self.changes.extend(apply_result(before, result, self.options))
                self.store.save(before)
        if not counted:
            # with the network down or degraded, a DNS or connection failure says nothing about
            # the link: its state keeps its last real verdict (and the link stays due)
            return
        for key in self._pending_connection:
            checked = run.results.get(key)
            if checked is None:
                continue
            state = self.state_for(key)
            self.changes.extend(apply_result(state, checked, self.options))
            self.store.save(state)


def select_links(catalog_links: list[Link], store: StateStore, now: dt.datetime, options: HistoryOptions,
                 shard: Shard | None) -> tuple[list[Link], list[Link]]:
    """(links this run reports on, links due now in priority order)."""
    scope = [link for link in catalog_links if shard is None or shard.holds(link)]
    checkable = {link.normalized_url: link for link in scope if link.checkable}
    due_keys = select_due(store.states, list(checkable), now, options)
    return scope, [checkable[key] for key in due_keys]


def waiting_note(store: StateStore, scope: list[Link], now: dt.datetime, options: HistoryOptions) -> str | None:
    """One line on the failing and inconclusive links left alone because they were checked a few hours
    ago (a same-night rerun), or None."""
    count, again = resting(store.states, [link.normalized_url for link in scope if link.checkable], now, options)
    if not count or again is None:
        return None
    return (f"{count} failing or inconclusive link{'s' if count != 1 else ''} checked less than "
            f"{options.failing_recheck_hours:g} h ago (failing_recheck_hours) not rechecked; the first is due "
            f"again at {iso(again)}")
