"""GroupCommit: the writes of concurrent requests share one transaction; a failing job fails alone (its request
hears of it, nothing of it is stored) and the others still commit."""

import asyncio
import uuid

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from hub.db import GroupCommit
from models import WebhookDelivery


def delivery(marker: uuid.UUID, reason: str) -> WebhookDelivery:
    return WebhookDelivery(source="generic", integration_id=marker, accepted=True, reason=reason)


def stored(engine, marker: uuid.UUID) -> list[str]:
    with Session(engine) as s:
        return sorted(s.exec(select(WebhookDelivery.reason).where(WebhookDelivery.integration_id == marker)).all())


async def test_concurrent_jobs_commit_together_and_a_failing_one_fails_alone(engine):
    commits = GroupCommit(lambda: engine)
    marker = uuid.uuid4()

    def job(reason: str):  # noqa: ANN202
        def write(session: Session) -> str:
            session.add(delivery(marker, reason))
            if reason == "bad":
                session.flush()
                raise ValueError("this request's data is bad")
            return reason

        return write

    results = await asyncio.gather(*(commits.run(job(r)) for r in ("a", "bad", "b", "c")), return_exceptions=True)
    assert results[0] == "a" and results[2:] == ["b", "c"]
    assert isinstance(results[1], ValueError)
    assert stored(engine, marker) == ["a", "b", "c"]  # nothing of the failed job, all of the others


async def test_jobs_share_a_transaction_when_they_arrive_together(engine):
    commits = GroupCommit(lambda: engine)
    marker = uuid.uuid4()
    sessions: list[int] = []

    def write(session: Session) -> int:
        sessions.append(id(session))
        session.add(delivery(marker, "x"))
        return session.exec(select(func.count()).select_from(WebhookDelivery)).one()

    await asyncio.gather(*(commits.run(write) for _ in range(10)))
    assert len(stored(engine, marker)) == 10
    assert len(set(sessions)) < 10  # batched: fewer transactions than jobs


async def test_a_failing_database_fails_every_waiting_request(engine):
    def broken():  # noqa: ANN202
        raise RuntimeError("database away")

    commits = GroupCommit(broken)
    with pytest.raises(RuntimeError, match="database away"):
        await commits.run(lambda session: None)
