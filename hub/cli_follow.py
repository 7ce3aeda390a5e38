"""What the `psa … run` commands share: parse the period named on the command line, follow the run through
Temporal, and turn bad input or an unreachable Temporal into a red line and exit code 2."""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from rich.console import Console

from hub.temporal.errors import WorkflowRejected, WorkflowUnavailable

P = TypeVar("P")
BAD_INPUT = 2


def follow_period(
    console: Console, text: str, parse: Callable[[str], str], follow: Callable[[str], Coroutine[Any, Any, P]]
) -> tuple[str, P] | None:
    """(the canonical period, what `follow` returned), or None after printing why not."""
    try:
        period = parse(text)
    except ValueError as err:
        console.print(f"[red]{err}[/red]")
        return None
    try:
        return period, asyncio.run(follow(period))
    except (WorkflowUnavailable, RuntimeError) as err:
        console.print(f"[red]Temporal is not reachable: {err}[/red]")
    except WorkflowRejected as err:
        console.print(f"[red]{err}[/red]")
    return None
