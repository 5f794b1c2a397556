"""A small blog built on outside: accounts, sessions, forms with an image upload, CSRF
tokens, sqlite, Jinja2 templates and a live feed of new posts (Server-Sent Events).

``create_app(data_dir)`` in ``examples.blog.app`` builds it; ``python -m examples.blog``
runs it (see ``README.md``).
"""
