"""The blog of ``examples/blog`` (``create_app``), its data in ``BLOG_DATA_DIR``."""
import os

from examples.blog.app import create_app

app = create_app(os.environ["BLOG_DATA_DIR"], host=("127.0.0.1", 0))
