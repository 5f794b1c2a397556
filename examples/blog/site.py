"""What one blog app keeps: where its data lives, and its live feed."""
from __future__ import annotations

import os
from typing import Any

from examples.blog.feed import LiveFeed

MAX_IMAGE_BYTES = 2 * 1024 * 1024  # an image larger than this is refused (the body limit is above it)


class Site:
    """The data folder (``blog.sqlite3`` and ``uploads/``) and the open feed streams."""

    def __init__(self, data_dir: str) -> None:
        self.data_dir = os.path.abspath(data_dir)
        self.database = os.path.join(self.data_dir, "blog.sqlite3")
        self.uploads = os.path.join(self.data_dir, "uploads")
        self.feed = LiveFeed()
        os.makedirs(self.uploads, exist_ok=True)


def site_of(request: Any) -> Site:
    """The ``Site`` of the app answering ``request``."""
    return request.app.blog_site
