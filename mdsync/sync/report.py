"""What a run did: one outcome per action, the report of a run, and the exit code it ends with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mdsync.vocabulary import ACTIONS, ActionKind, Change, ExitCode, Standing, Status


@dataclass
class Outcome:
    action: str  # an ActionKind
    path: str
    status: str  # a Status
    message: str = ""
    page_id: str | None = None
    new_path: str | None = None
    diff: str | None = None
    changes: frozenset[Change] = frozenset()  # what the planner found changed, and where

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value not in (None, "") and key != "changes"}

    @property
    def standing(self) -> Standing:
        """Where the outcome's file stands against its page, from the planner's facts."""
        if {Change.HERE, Change.THERE} <= self.changes:
            return Standing.CHANGED_BOTH  # whichever side a policy let win
        if self.action == ActionKind.PULL and self.new_path:
            return Standing.MOVED_THERE
        kind = ActionKind(self.action) if self.action in ActionKind._value2member_map_ else None
        return ACTIONS[kind].standing if kind is not None else Standing.IN_STEP


@dataclass
class Report:
    mode: str  # a Mode, or "status"
    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    dry_run: bool = False
    check: bool = False
    notes: list[str] = field(default_factory=list)  # what a run did besides its actions (kept a broken state aside)
    unreached: bool = False  # Confluence could not be asked (a status shows the files' side only)

    @property
    def conflicts(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.status == Status.CONFLICT]

    @property
    def failures(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.status == Status.FAILED]

    @property
    def out_of_step(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.standing != Standing.IN_STEP]

    @property
    def exit_code(self) -> ExitCode:
        if self.problems or self.failures or self.unreached:
            return ExitCode.FAILURE
        if self.conflicts:
            return ExitCode.CONFLICT
        if self.check and self.out_of_step:
            return ExitCode.DIFFERENCES
        return ExitCode.OK

    def as_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            counts[outcome.action] = counts.get(outcome.action, 0) + 1
        actions = [{**outcome.as_dict(), **({"state": str(outcome.standing)} if self.mode == "status" else {})}
                   for outcome in self.outcomes if outcome.action != ActionKind.NOOP]
        return {"mode": self.mode, "dry_run": self.dry_run, "exit_code": int(self.exit_code),
                "problems": self.problems, "notes": self.notes, "counts": counts, "actions": actions}
