"""What the `psa … run` commands share: parse the period named on the command line, follow the run through
Temporal, and turn bad input or an unreachable Temporal into a red line and exit code 2."""

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from domain.contracts.qbr import RunCounts
from hub.temporal.errors import WorkflowRejected, WorkflowUnavailable

P = TypeVar("P")
R = TypeVar("R", bound=RunCounts)
BAD_INPUT = 2
POLL_SECONDS = 1.0


async def progress_bar(console: Console, verb: str, poll: Callable[[], Awaitable[tuple[R, str]]]) -> R:
    """Show a run's progress (`poll`: its counts and Temporal status) until it has finished or stopped running."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(verb, total=None)
        while True:
            progress, status = await poll()
            bar.update(task, total=progress.total or None, completed=progress.done + progress.failed,
                       description=f"{verb} ({progress.label()})")  # fmt: skip
            if status != "running" or progress.finished:
                return progress
            await asyncio.sleep(POLL_SECONDS)


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
