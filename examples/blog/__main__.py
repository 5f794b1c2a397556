"""``python -m examples.blog [PORT]``: run the blog (see README.md)."""
from examples.blog.app import main

main()
