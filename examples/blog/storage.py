"""sqlite storage (the standard library's ``sqlite3``): the schema, one connection per
request (opened on first use, closed by the ``teardown_request`` hook), and the queries."""
from __future__ import annotations

import sqlite3
import time
from typing import Any, List, Optional

from examples.blog.site import site_of

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS posts (
    id INTEGER PRIMARY KEY,
    author_id INTEGER NOT NULL REFERENCES users(id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    image TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
"""
_POST_COLUMNS = ("SELECT posts.id, posts.author_id, users.name AS author, posts.title, posts.body, "
                 "posts.image, posts.created, posts.updated FROM posts JOIN users ON users.id = posts.author_id")


def _connect(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=10)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA foreign_keys = ON")
    return connection


def create_schema(path: str) -> None:
    """Create the tables if they are missing (at start-up)."""
    connection = _connect(path)
    try:
        connection.execute("PRAGMA journal_mode = WAL")  # readers do not wait for a writer
        connection.executescript(SCHEMA)
        connection.commit()
    finally:
        connection.close()


def db(request: Any) -> sqlite3.Connection:
    """The request's connection, opened on first use (pages that need none open none)."""
    connection = request.__dict__.get("blog_db")
    if connection is None:
        connection = request.blog_db = _connect(site_of(request).database)
    return connection


def close_db(request: Any, exc: Optional[BaseException]) -> None:
    """``teardown_request`` hook: close the request's connection, if it opened one."""
    connection = request.__dict__.pop("blog_db", None)
    if connection is not None:
        connection.close()


def create_user(request: Any, name: str, password_hash: str) -> Optional[int]:
    """The new user's id, or ``None`` when the name is taken."""
    connection = db(request)
    try:
        with connection:
            cursor = connection.execute("INSERT INTO users (name, password_hash) VALUES (?, ?)",
                                        (name, password_hash))
    except sqlite3.IntegrityError:
        return None
    return cursor.lastrowid


def user_by_name(request: Any, name: str) -> Optional[sqlite3.Row]:
    return db(request).execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()


def user_by_id(request: Any, user_id: int) -> Optional[sqlite3.Row]:
    return db(request).execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()


def create_post(request: Any, author_id: int, title: str, body: str, image: Optional[str]) -> int:
    now = time.time()
    connection = db(request)
    with connection:
        cursor = connection.execute(
            "INSERT INTO posts (author_id, title, body, image, created, updated) VALUES (?, ?, ?, ?, ?, ?)",
            (author_id, title, body, image, now, now))
    return int(cursor.lastrowid or 0)


def update_post(request: Any, post_id: int, title: str, body: str, image: Optional[str]) -> None:
    connection = db(request)
    with connection:
        connection.execute("UPDATE posts SET title = ?, body = ?, image = ?, updated = ? WHERE id = ?",
                           (title, body, image, time.time(), post_id))


def post_by_id(request: Any, post_id: int) -> Optional[sqlite3.Row]:
    return db(request).execute(_POST_COLUMNS + " WHERE posts.id = ?", (post_id,)).fetchone()


def recent_posts(request: Any, limit: int = 20) -> List[sqlite3.Row]:
    return db(request).execute(_POST_COLUMNS + " ORDER BY posts.id DESC LIMIT ?", (limit,)).fetchall()


def posts_after(request: Any, post_id: int, limit: int = 100) -> List[sqlite3.Row]:
    """Posts newer than ``post_id``, oldest first (what a reconnecting feed missed)."""
    return db(request).execute(_POST_COLUMNS + " WHERE posts.id > ? ORDER BY posts.id LIMIT ?",
                               (post_id, limit)).fetchall()
