"""The tests' own PostgreSQL server: a real database per test, reachable from other processes."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

# Filled by the first of the two separation tests, checked by the second (they run in file order).
seen: dict[str, str] = {}


def test_a_table_keeps_what_is_written(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE answers (id serial PRIMARY KEY, text text NOT NULL)")
        conn.execute("INSERT INTO answers (text) VALUES (%s), (%s)", ("batching", "caching"))
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT text FROM answers ORDER BY id").fetchall()
    assert rows == [("batching",), ("caching",)]


def test_each_test_gets_its_own_database_first(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE marker (owner text)")
        conn.execute("INSERT INTO marker VALUES ('first')")
        seen["first"] = conn.execute("SELECT current_database()").fetchone()[0]


def test_each_test_gets_its_own_database_second(pg_url: str) -> None:
    if "first" not in seen:
        pytest.skip("runs after test_each_test_gets_its_own_database_first")
    with psycopg.connect(pg_url) as conn:
        name = conn.execute("SELECT current_database()").fetchone()[0]
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'marker'"
        ).fetchone()[0]
    assert name != seen["first"]
    assert tables == 0


def test_a_child_process_reaches_the_same_database(pg_url: str) -> None:
    """Replicas of the app run as separate processes against one server."""
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE sessions (id text PRIMARY KEY)")
    child = (
        "import sys, psycopg\n"
        "with psycopg.connect(sys.argv[1]) as conn:\n"
        "    conn.execute(\"INSERT INTO sessions VALUES ('from-child')\")\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", child, pg_url], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT id FROM sessions").fetchall() == [("from-child",)]
