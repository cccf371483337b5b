"""One process of a fleet runs the timed jobs: the holder of the jobs' lock.

Two ``Leadership`` objects stand for two processes (each holds its lock on a connection
of its own, as two processes on two hosts would). On PostgreSQL exactly one leads; when
the leader lets go, or its session is terminated (its host died, its connection dropped),
the other takes over at its next try. SQLite serves one host: its process always leads.
"""

from __future__ import annotations

import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.worker.leadership import Leadership


def _terminate_lock_sessions(potok: Potok) -> int:
    with potok.engine.connect() as connection:
        ended = connection.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'potok-jobs-lock' AND datname = current_database()"
            )
        ).scalar_one()
        connection.commit()
    return int(ended)


def test_one_process_leads_and_another_takes_over(potok: Potok) -> None:
    first, second = Leadership(potok.engine), Leadership(potok.engine)
    try:
        if potok.engine.dialect.name == "sqlite":
            assert (first.held(), second.held()) == (True, True)
            return
        assert first.held() is True
        assert second.held() is False
        assert first.held() is True  # still, at its next round
        first.release()
        assert second.held() is True
        assert first.held() is False
    finally:
        first.release()
        second.release()


def test_a_leader_whose_session_ends_is_replaced(potok: Potok) -> None:
    if potok.engine.dialect.name == "sqlite":
        return
    first, second = Leadership(potok.engine), Leadership(potok.engine)
    try:
        assert first.held() is True
        assert _terminate_lock_sessions(potok) == 1  # what a dead host leaves behind
        assert second.held() is True
        assert first.held() is False  # it notices, and does not run a round beside it
    finally:
        first.release()
        second.release()
