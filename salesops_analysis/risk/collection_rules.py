"""The collections rules: dunning stage, promise status, next action and rank.

Each rule is a small pure function over named columns (one value per invoice, or per customer)
and reads as the collections policy does:

* **dunning stage**: the configured ladder's last stage whose ``from_days`` the days past due
  have reached (:class:`DunningLadder`);
* **promise status**: *pending* while the latest promise to pay is for today or later,
  *broken* once that day has passed (:func:`promise_status`);
* **next action** of an invoice, the first that applies: resolve a dispute; call about a broken
  promise; wait for a pending promise; a courtesy call when it is not yet due but more likely
  late than not; else the dunning stage's own action (:func:`invoice_next_action`). A customer
  (:func:`account_next_action`) follows the same order, and has no action while nothing is
  overdue or likely late;
* **rank**: largest expected late amount first, then largest open amount (:func:`worklist_order`).

Actions are returned as :class:`Action` codes; :data:`ACTION_TEXT` and the ladder's
:attr:`DunningLadder.actions` say them in collectors' words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

__all__ = [
    "ACTION_BY_STAGE",
    "ACTION_TEXT",
    "LIKELY_LATE",
    "Action",
    "DunningLadder",
    "Promise",
    "account_next_action",
    "account_order",
    "invoice_next_action",
    "likely_late_before_due",
    "promise_status",
    "worklist_order",
]

#: The next action of each dunning stage (another stage: its own name).
ACTION_BY_STAGE = {
    "not due": "no action yet",
    "reminder": "send a payment reminder",
    "call": "call the customer",
    "final notice": "send the final notice",
    "escalate": "escalate to the credit manager",
}

#: A probability of paying late from which an invoice not yet due gets a courtesy call.
LIKELY_LATE = 0.5


class Promise(IntEnum):
    """The status of the latest promise to pay."""

    NONE = 0
    PENDING = 1
    BROKEN = 2


class Action(IntEnum):
    """What the collector does next."""

    DUNNING_STAGE = 0  # the dunning stage's own action (ACTION_BY_STAGE)
    RESOLVE_DISPUTE = 1
    CALL_BROKEN_PROMISE = 2
    WAIT_FOR_PROMISE = 3  # said with the promised date
    COURTESY_CALL = 4
    NO_ACTION = 5


#: The words of each action that does not depend on the stage or the promised date.
ACTION_TEXT = {
    Action.RESOLVE_DISPUTE: "resolve the dispute before chasing payment",
    Action.CALL_BROKEN_PROMISE: "call: the promise to pay was broken",
    Action.COURTESY_CALL: "courtesy call before the due date",
    Action.NO_ACTION: "no action yet",
}


@dataclass(frozen=True)
class DunningLadder:
    """The dunning stages, each from a number of days past due on (``from_days``, ascending).

    Examples
    --------
    >>> ladder = DunningLadder.of([{"stage": "reminder", "from_days": 1},
    ...                            {"stage": "not due", "from_days": -10_000}])
    >>> [ladder.names[i] for i in ladder.stage(np.array([-3, 0, 1, 40]))]
    ['not due', 'not due', 'reminder', 'reminder']
    >>> ladder.actions
    ('no action yet', 'send a payment reminder')
    """

    names: tuple[str, ...]
    from_days: tuple[int, ...]

    @classmethod
    def of(cls, stages: Sequence[Mapping[str, Any]]) -> DunningLadder:
        """Return the ladder of the configured ``dunning`` stages (any order)."""
        ladder = sorted(stages, key=lambda s: s["from_days"])
        return cls(tuple(str(s["stage"]) for s in ladder), tuple(s["from_days"] for s in ladder))

    def stage(self, days_past_due: np.ndarray) -> np.ndarray:
        """Return the position in :attr:`names` of each invoice's stage: the last stage whose
        ``from_days`` its days past due have reached (the first stage below them all)."""
        reached = np.searchsorted(np.array(self.from_days), days_past_due, side="right")
        return np.maximum(reached - 1, 0)

    @property
    def actions(self) -> tuple[str, ...]:
        """Return each stage's own next action (:data:`ACTION_BY_STAGE`, else its name)."""
        return tuple(ACTION_BY_STAGE.get(s, s) for s in self.names)


def promise_status(has_promise: np.ndarray, promised_day: np.ndarray, today: int) -> np.ndarray:
    """Return the :class:`Promise` status of each latest promise to pay: pending while it is
    for today or later, broken once that day has passed.

    Examples
    --------
    >>> promise_status(np.array([False, True, True]), np.array([0, 10, 9]), 10).tolist()
    [0, 1, 2]
    """
    return np.select(
        [~has_promise, promised_day >= today], [Promise.NONE, Promise.PENDING], Promise.BROKEN
    )


def likely_late_before_due(days_past_due: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """Return where an invoice is not yet past due (due today included) and more likely paid
    late than not (a missing probability is not)."""
    return (days_past_due <= 0) & (probability >= LIKELY_LATE)


def invoice_next_action(
    *, in_dispute: np.ndarray, promise: np.ndarray, likely_late_before_due: np.ndarray
) -> np.ndarray:
    """Return each invoice's next :class:`Action`: the first that applies.

    Examples
    --------
    >>> invoice_next_action(
    ...     in_dispute=np.array([True, False, False, False, False]),
    ...     promise=np.array([Promise.BROKEN, Promise.BROKEN, Promise.PENDING, 0, 0]),
    ...     likely_late_before_due=np.array([True, True, True, True, False]),
    ... ).tolist()
    [1, 2, 3, 4, 0]
    """
    return np.select(
        [
            in_dispute,
            promise == Promise.BROKEN,
            promise == Promise.PENDING,
            likely_late_before_due,
        ],
        [
            Action.RESOLVE_DISPUTE,
            Action.CALL_BROKEN_PROMISE,
            Action.WAIT_FOR_PROMISE,
            Action.COURTESY_CALL,
        ],
        Action.DUNNING_STAGE,
    )


def account_next_action(
    *,
    in_dispute: np.ndarray,
    promise: np.ndarray,
    overdue: np.ndarray,
    likely_late_before_due: np.ndarray,
) -> np.ndarray:
    """Return each customer's next :class:`Action`: the first that applies. ``overdue``: an
    open invoice is past due (the stage of the oldest says what to do);
    ``likely_late_before_due``: one not yet due is likely late.

    Examples
    --------
    >>> account_next_action(
    ...     in_dispute=np.array([True, False, False, False, False, False]),
    ...     promise=np.array([Promise.PENDING, Promise.PENDING, Promise.BROKEN, 0, 0, 0]),
    ...     overdue=np.array([True, True, True, True, False, False]),
    ...     likely_late_before_due=np.array([True, True, True, True, True, False]),
    ... ).tolist()
    [1, 3, 2, 0, 4, 5]
    """
    return np.select(
        [
            in_dispute,
            promise == Promise.PENDING,
            promise == Promise.BROKEN,
            overdue,
            likely_late_before_due,
        ],
        [
            Action.RESOLVE_DISPUTE,
            Action.WAIT_FOR_PROMISE,
            Action.CALL_BROKEN_PROMISE,
            Action.DUNNING_STAGE,
            Action.COURTESY_CALL,
        ],
        Action.NO_ACTION,
    )


def worklist_order(
    expected_late_amount: np.ndarray, open_amount: np.ndarray, days_past_due: np.ndarray
) -> np.ndarray:
    """Return the invoices' positions in rank order: expected late amount, then open amount,
    both largest first; ties keep their order. An invoice without an expected late amount
    (no probability: a warehouse with no settled invoice yet) ranks by days past due × open
    amount instead.

    Examples
    --------
    >>> worklist_order(np.array([10.0, 30.0, 30.0]), np.array([50.0, 40.0, 60.0]),
    ...                np.array([0, 0, 0])).tolist()
    [2, 1, 0]
    >>> worklist_order(np.array([np.nan, np.nan]), np.array([100.0, 10.0]),
    ...                np.array([1, 20])).tolist()
    [1, 0]
    """
    key = np.where(
        np.isnan(expected_late_amount),
        np.maximum(days_past_due, 0) * open_amount,
        expected_late_amount,
    )
    return np.lexsort((-open_amount, -key))


def account_order(
    expected_late_amount: np.ndarray, open_amount: np.ndarray, first_row: np.ndarray
) -> np.ndarray:
    """Return the customers' positions in rank order: expected late amount (missing counts
    0), then open amount, both largest first, then the customer's first row on the invoice
    worklist. With no expected late amount at all, in the invoice worklist's order.

    Examples
    --------
    >>> account_order(np.array([5.0, np.nan, 5.0]), np.array([1.0, 9.0, 2.0]),
    ...               np.array([0, 1, 2])).tolist()
    [2, 0, 1]
    """
    if np.isnan(expected_late_amount).all():
        return np.argsort(first_row, kind="stable")
    return np.lexsort((first_row, -open_amount, -np.nan_to_num(expected_late_amount)))
