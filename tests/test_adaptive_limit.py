"""The adaptive limit of the SOC inbox's hand-overs: grows while answers are fast, halves on a slow or failed one
(once per burst), serves urgent waiters first without starving the others, and never loses a slot."""

import asyncio

import pytest

from hub.adaptive_limit import AdaptiveLimit


async def test_fast_answers_grow_the_limit_slow_or_failed_ones_halve_it():
    limit = AdaptiveLimit(initial=4, maximum=8, fast_s=0.05, slow_s=0.05, cut_interval_s=0.0)
    for _ in range(40):
        async with limit.slot(urgent=True):
            pass
    assert limit.limit == 8  # capped at the maximum
    async with limit.slot(urgent=True):
        await asyncio.sleep(0.06)  # slow
    assert limit.limit == 4
    with pytest.raises(RuntimeError):
        async with limit.slot(urgent=True):
            raise RuntimeError("server unavailable")
    assert limit.limit == 2 and limit.in_use == 0
    async with limit.slot(urgent=True) as outcome:
        outcome.failed = True  # a failure the caller handled itself
    assert limit.limit == 1 and limit.in_use == 0


async def test_one_burst_of_slow_answers_cuts_once():
    limit = AdaptiveLimit(initial=8, maximum=8, fast_s=0.01, slow_s=0.02, cut_interval_s=60)

    async def slow() -> None:
        async with limit.slot(urgent=True):
            await asyncio.sleep(0.03)

    await asyncio.gather(*(slow() for _ in range(8)))
    assert limit.limit == 4 and limit.in_use == 0


async def test_urgent_waiters_go_first_and_every_fourth_grant_serves_the_others():
    limit = AdaptiveLimit(initial=1, maximum=1, fast_s=0, slow_s=10, fair_every=4)
    order: list[str] = []
    gate = asyncio.Event()

    async def work(name: str, urgent: bool) -> None:
        async with limit.slot(urgent=urgent):
            order.append(name)
            if name == "first":
                await gate.wait()

    first = asyncio.create_task(work("first", True))
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(work(f"n{i}", False)) for i in range(2)]
    await asyncio.sleep(0)
    waiting += [asyncio.create_task(work(f"u{i}", True)) for i in range(6)]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(first, *waiting)
    # Queued normal work arrived first, yet urgent work is served before it, with a normal turn every 4th grant
    # (counting every grant, the first included).
    assert order == ["first", "u0", "u1", "n0", "u2", "u3", "u4", "n1", "u5"]


async def test_urgent_waiters_are_served_by_rank_then_in_arrival_order():
    limit = AdaptiveLimit(initial=1, maximum=1, fast_s=0, slow_s=10)
    order: list[str] = []
    gate = asyncio.Event()

    async def work(name: str, rank: int) -> None:
        async with limit.slot(urgent=True, rank=rank):
            order.append(name)
            if name == "first":
                await gate.wait()

    tasks = [asyncio.create_task(work("first", 3))]
    await asyncio.sleep(0)
    for name, rank in (("p3-a", 3), ("p2", 2), ("p1", 1), ("p3-b", 3)):
        tasks.append(asyncio.create_task(work(name, rank)))
        await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*tasks)
    assert order == ["first", "p1", "p2", "p3-a", "p3-b"]


async def test_a_cancelled_waiter_leaves_no_slot_behind_and_blocks_nobody():
    limit = AdaptiveLimit(initial=1, maximum=1, fast_s=0, slow_s=10)
    gate = asyncio.Event()

    async def hold() -> None:
        async with limit.slot(urgent=True):
            await gate.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    cancelled = asyncio.create_task(hold())
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    gate.set()
    await holder
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert limit.in_use == 0
    # Its entry is still queued (skipped lazily); a newcomer must get the free slot at once.
    async with asyncio.timeout(1):
        async with limit.slot(urgent=True):
            assert limit.in_use == 1
