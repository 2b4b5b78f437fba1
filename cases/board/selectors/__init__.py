"""Reads of the operations board: a whole snapshot in five statements, whatever the numbers of
calls and units; the changes since a board's cursor in at most five; "nothing changed" in one.

The cursor (`BoardCursor`) is transaction-based, not clock-based: every write to a call, a
unit, an assignment or a position is stamped by a trigger (responders 0007, cases 0040) with
its transaction's id and a sequence number, and the cursor records the database snapshot it was
read in. What a board has not seen is exactly what that snapshot did not: rows of transactions
in progress then (`xip`) or begun after (`>= xmax`). A row committed late with an earlier
`updated_at` is not missed (docs/architecture.md, "The operations board").

The board is for desk roles, who see every call and unit (docs/security.md); the scope is the
view's (`views.desk_page`). Calls carry their address and coordinates, never a resident.

By concern: `urgency` (the clocks), `cursor` (where a board stands), `reads` (the rows) and
`updates` (what a board is sent). Every public name is importable from here.
"""

from cases.board.selectors.cursor import STAMPED, BoardCursor, board_cursor, board_version
from cases.board.selectors.reads import (
    RESOURCES_LIMIT,
    board_calls,
    board_figures_today,
    board_resources,
    board_units,
)
from cases.board.selectors.updates import board_delta, board_snapshot, board_update
from cases.board.selectors.urgency import (
    ON_SCENE_STEPS,
    OPEN,
    WAITING,
    WORKING,
    Thresholds,
    call_urgency,
)

__all__ = [
    "ON_SCENE_STEPS",
    "OPEN",
    "RESOURCES_LIMIT",
    "STAMPED",
    "WAITING",
    "WORKING",
    "BoardCursor",
    "Thresholds",
    "board_calls",
    "board_cursor",
    "board_delta",
    "board_figures_today",
    "board_resources",
    "board_snapshot",
    "board_units",
    "board_update",
    "board_version",
    "call_urgency",
]
