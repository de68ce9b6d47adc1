"""Fault knobs of the mock portal (latency, errors, expiry, surveys) and their seeded dice."""

from __future__ import annotations

import random
import threading
from collections import deque
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["page", "json"]
LATENCY_LOG_SIZE = 100_000


class FailRule(BaseModel):
    """Answer 500 to the next `count` JSON calls whose path contains `path_contains`.

    `when="after"` applies the change first and then answers 500 (a retry must not submit twice).
    """

    model_config = ConfigDict(extra="forbid")

    path_contains: str
    count: int = Field(default=1, ge=0)
    when: Literal["before", "after"] = "before"


class Faults(BaseModel):
    """Every fault knob; all zero (the `none` profile) by default."""

    model_config = ConfigDict(extra="forbid")

    page_latency_ms: int = Field(default=0, ge=0)
    page_jitter_ms: int = Field(default=0, ge=0)
    json_latency_ms: int = Field(default=0, ge=0)
    json_jitter_ms: int = Field(default=0, ge=0)
    json_error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    # Of the json_error_rate errors that hit a call changing state (the submit), the share that
    # applies the change first and then answers 500, as FailRule when="after" does.
    json_error_applied_fraction: float = Field(default=0.0, ge=0.0, le=1.0)
    session_ttl_s: float | None = Field(default=None, gt=0)
    expire_sessions_now: bool = False
    survey_probability: float = Field(default=0.0, ge=0.0, le=1.0)
    fail_next: list[FailRule] = Field(default_factory=list)
    # A portal that shows an assignment late: the change is made at once, but reads of the
    # order's assignments show it only this many seconds after the submission.
    assignment_visible_after_s: float = Field(default=0.0, ge=0.0)
    # Not a fault but a release variant (the `compact` release turns it on): the global search
    # opens a single match's Order Details directly instead of listing it.
    single_match_opens_details: bool = False
    # A portal that answers a search that found nothing in words of its own (not the
    # reference's "No results found" / "No Smart Accounts found"): an agent must not wait for
    # words it knows, nor read these as a "no".
    no_orders_words: str | None = Field(default=None, min_length=1)
    no_accounts_words: str | None = Field(default=None, min_length=1)


PROFILES: dict[str, Faults] = {
    "none": Faults(),
    "portal-like": Faults(
        page_latency_ms=600,
        page_jitter_ms=300,
        json_latency_ms=300,
        json_jitter_ms=200,
        json_error_rate=0.02,
        survey_probability=0.05,
    ),
}


class FaultEngine:
    """The current faults plus seeded dice; each kind of decision has its own random stream.

    Separate streams keep, say, the error sequence identical whether or not surveys are enabled.
    """

    def __init__(self, seed: int, faults: Faults | None = None) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self._initial = (faults or Faults()).model_copy(deep=True)
        self.reset()

    def reset(self) -> None:
        """Back to the initial faults, reseeded dice and an empty latency log."""
        with self._lock:
            self._faults = self._initial.model_copy(deep=True)
            self._latency_rng = random.Random(f"{self._seed}:latency")
            self._error_rng = random.Random(f"{self._seed}:errors")
            self._applied_rng = random.Random(f"{self._seed}:applied")
            self._survey_rng = random.Random(f"{self._seed}:survey")
            self._log: deque[dict[str, Any]] = deque(maxlen=LATENCY_LOG_SIZE)
            self._totals: dict[str, int] = {"page": 0, "json": 0}

    @property
    def faults(self) -> Faults:
        with self._lock:
            return self._faults.model_copy(deep=True)

    def replace(self, faults: Faults) -> bool:
        """Install new faults; returns whether sessions must be expired now (one-shot knob)."""
        with self._lock:
            self._faults = faults.model_copy(update={"expire_sessions_now": False}, deep=True)
        return faults.expire_sessions_now

    def merge(self, changes: dict[str, Any]) -> Faults:
        """The current faults with `changes` (a partial Faults JSON) validated on top."""
        with self._lock:
            current = self._faults.model_dump()
        return Faults.model_validate({**current, **changes})

    def latency_ms(self, kind: Kind, path: str) -> int:
        """Draw and record the latency to impose on this request."""
        with self._lock:
            f = self._faults
            base, jitter = (
                (f.page_latency_ms, f.page_jitter_ms)
                if kind == "page"
                else (f.json_latency_ms, f.json_jitter_ms)
            )
            ms = base
            if jitter:
                ms = max(0, round(base + self._latency_rng.uniform(-jitter, jitter)))
            self._log.append({"path": path, "kind": kind, "ms": ms})
            self._totals[kind] += ms
            return ms

    def random_error(self) -> bool:
        """Whether this portal JSON call fails with a 500 by json_error_rate."""
        with self._lock:
            rate = self._faults.json_error_rate
            return rate > 0 and self._error_rng.random() < rate

    def error_applies_change(self) -> bool:
        """Whether a json_error_rate error on a state-changing call applies the change first."""
        with self._lock:
            fraction = self._faults.json_error_applied_fraction
            return fraction > 0 and self._applied_rng.random() < fraction

    def assignment_delay_s(self) -> float:
        with self._lock:
            return self._faults.assignment_visible_after_s

    def take_fail_rule(self, path: str) -> Literal["before", "after"] | None:
        """Consume one count of the first fail_next rule matching path, if any."""
        with self._lock:
            for rule in self._faults.fail_next:
                if rule.count > 0 and rule.path_contains in path:
                    rule.count -= 1
                    return rule.when
            return None

    def survey(self) -> bool:
        """Whether the Feedback survey shows after the screen this response renders."""
        with self._lock:
            p = self._faults.survey_probability
            return p > 0 and self._survey_rng.random() < p

    def session_ttl_s(self) -> float | None:
        with self._lock:
            return self._faults.session_ttl_s

    def latency_log(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._log)

    def latency_totals(self) -> dict[str, int]:
        with self._lock:
            return dict(self._totals)
