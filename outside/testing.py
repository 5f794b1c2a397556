"""``TestClient``: requests to an outside app without sockets, for unit tests.

    client = server.test_client()
    response = client.post("/users", json={"name": "Ada"})
    assert response.status_code == 201 and response.json()["name"] == "Ada"

The request goes through the same steps as on the wire: trusted proxies, routing,
handlers, error handlers, ``pre_send`` and ``render`` (so HEAD, ranges, conditional
requests and cookies behave as they do on a socket), by way of the app's WSGI adapter
(``outside.wsgi``), and the response shows the HTTP/1.1 head the server would send.
WebSocket routes need a real server.
"""
from __future__ import annotations

import io
import json as json_module
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Union
from urllib.parse import unquote_to_bytes, urlencode

from .http.cookies import parse_cookie
from .http.headers import Headers
from .http.writer import ResponseHead

if TYPE_CHECKING:  # the app imports this module on demand
    from .app import OutsideHTTP

HeaderInput = Union[Mapping[str, str], Iterable[tuple[str, str]], None]
QueryInput = Union[Mapping[str, Any], Iterable[tuple[str, Any]], None]


class TestResponse:
    """What the app answered: ``status_code``, ``status`` (``"200 OK"``), ``headers``
    (case-insensitive; repeated fields joined; ``Set-Cookie`` is left to ``cookies``),
    ``header_list`` (every field in order, ``Set-Cookie`` lines included), ``content``
    (bytes, without transfer framing), ``text``, ``json()`` and ``cookies`` (name ->
    value set by this response).

    The fields are those of the HTTP/1.1 head the server would send to a keep-alive
    HTTP/1.1 request: ``Date``, ``Server`` and the framing (``Content-Length`` or
    ``Transfer-Encoding: chunked``, ``Connection: close`` when the response closes)
    included. ``head`` is that ``outside.http.writer.ResponseHead`` (``framing``,
    ``keep_alive``...), ``None`` for a response built by hand.
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, status: str, header_list: list[tuple[str, str]], content: bytes,
                 head: ResponseHead | None = None) -> None:
        self.head = head
        self.status = status
        self.status_code = int(status.split(" ", 1)[0])
        self.header_list = header_list
        self.headers = Headers.from_pairs([pair for pair in header_list if pair[0].lower() != "set-cookie"])
        self.content = content
        self.cookies: dict[str, str] = {}
        for name, value in header_list:
            if name.lower() == "set-cookie":
                cookie_name, _, rest = value.partition("=")
                self.cookies[cookie_name.strip()] = rest.partition(";")[0].strip()

    @property
    def text(self) -> str:
        """``content`` decoded with the charset of ``Content-Type`` (UTF-8 by default)."""
        charset = "utf-8"
        for parameter in self.headers.get("Content-Type", "").split(";")[1:]:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip('"')
        return self.content.decode(charset, "replace")

    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` when it is not valid JSON (as ``Request.json``)."""
        try:
            return json_module.loads(self.content)
        except (ValueError, RecursionError):
            return None

    def __repr__(self) -> str:
        return f"<TestResponse {self.status} {len(self.content)} bytes>"


class TestClient:
    """Calls an ``OutsideHTTP`` app in-process, like Flask's test client.

    ``address``: the client's ``(ip, port)`` (``request.address``). ``scheme``:
    ``"http"`` or ``"https"``. ``host``: the ``Host`` header sent. With ``use_cookies``
    the client keeps the cookies responses set (by name; a ``Max-Age=0`` deletes) and
    sends them back, as a browser would.
    """

    __test__ = False

    def __init__(self, app: OutsideHTTP, address: tuple[str, int] = ("127.0.0.1", 50000),
                 scheme: str = "http", host: str = "localhost", use_cookies: bool = True) -> None:
        self.app = app
        self.address = address
        self.scheme = scheme
        self.host = host
        self.cookie_jar: dict[str, str] | None = {} if use_cookies else None

    def request(self, method: str, path: str, *, query: QueryInput = None, headers: HeaderInput = None,
                data: bytes | str | Mapping[str, Any] | None = None, json: Any = None) -> TestResponse:
        """Send one request and return the ``TestResponse``.

        ``path`` may hold a query string; ``query`` (a dict or pairs; list values
        repeat the name) is added to it. ``data``: the body as bytes, str (UTF-8) or a
        dict sent as an HTML form; ``json``: a value sent as JSON. The matching
        ``Content-Type`` is set unless ``headers`` has one.
        """
        path, _, query_string = path.partition("?")
        if query:
            extra = urlencode(list(query.items()) if isinstance(query, Mapping) else list(query), doseq=True)
            query_string = f"{query_string}&{extra}" if query_string else extra
        fields = list(headers.items()) if isinstance(headers, Mapping) else list(headers or ())
        body, content_type = _body(data, json)
        names = {name.lower() for name, _ in fields}
        if content_type and "content-type" not in names:
            fields.append(("Content-Type", content_type))
        if "host" not in names:
            fields.append(("Host", self.host))
        if self.cookie_jar and "cookie" not in names:
            fields.append(("Cookie", "; ".join(f"{name}={value}" for name, value in self.cookie_jar.items())))
        environ = self._environ(method.upper(), path or "/", query_string, fields, body)
        response = self._call(environ)
        if self.cookie_jar is not None:
            _keep_cookies(self.cookie_jar, response.header_list)
        return response

    def get(self, path: str, **options: Any) -> TestResponse:
        """A GET request (options as for ``request``)."""
        return self.request("GET", path, **options)

    def head(self, path: str, **options: Any) -> TestResponse:
        """A HEAD request."""
        return self.request("HEAD", path, **options)

    def post(self, path: str, **options: Any) -> TestResponse:
        """A POST request."""
        return self.request("POST", path, **options)

    def put(self, path: str, **options: Any) -> TestResponse:
        """A PUT request."""
        return self.request("PUT", path, **options)

    def patch(self, path: str, **options: Any) -> TestResponse:
        """A PATCH request."""
        return self.request("PATCH", path, **options)

    def delete(self, path: str, **options: Any) -> TestResponse:
        """A DELETE request."""
        return self.request("DELETE", path, **options)

    def options(self, path: str, **options: Any) -> TestResponse:
        """An OPTIONS request."""
        return self.request("OPTIONS", path, **options)

    def _environ(self, method: str, path: str, query_string: str,
                 fields: list[tuple[str, str]], body: bytes) -> dict[str, Any]:
        host = next(value for name, value in fields if name.lower() == "host")
        name, _, port = host.partition(":")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query_string,
            "SERVER_NAME": name,
            "SERVER_PORT": port or ("443" if self.scheme == "https" else "80"),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": self.address[0],
            "REMOTE_PORT": str(self.address[1]),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": self.scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        if body or method in ("POST", "PUT", "PATCH"):
            environ["CONTENT_LENGTH"] = str(len(body))
        for field, value in fields:
            key = field.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value
            else:
                key = "HTTP_" + key
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def _call(self, environ: dict[str, Any]) -> TestResponse:
        head, body = self.app.wsgi_app.respond(environ)
        try:
            content = b"".join(body)
        finally:
            body.close()
        return TestResponse(f"{head.status} {head.reason}", list(head.fields), content, head)


def _keep_cookies(jar: dict[str, str], header_list: list[tuple[str, str]]) -> None:
    """Remember the cookies ``Set-Cookie`` sets; forget those it expires (``Max-Age=0``)."""
    for name, value in header_list:
        if name.lower() != "set-cookie":
            continue
        pair, _, attributes = value.partition(";")
        cookie_name, _, cookie_value = pair.partition("=")
        max_age = next((text for key, text in parse_cookie(attributes).items() if key.lower() == "max-age"), None)
        if max_age is not None and max_age.lstrip("-").isdigit() and int(max_age) <= 0:
            jar.pop(cookie_name.strip(), None)
        else:
            jar[cookie_name.strip()] = cookie_value.strip()


def _body(data: Any, json: Any) -> tuple[bytes, str | None]:
    """The request body and its default Content-Type."""
    if json is not None:
        return json_module.dumps(json).encode("utf-8"), "application/json"
    if data is None:
        return b"", None
    if isinstance(data, Mapping):
        return urlencode(list(data.items()), doseq=True).encode("ascii"), "application/x-www-form-urlencoded"
    if isinstance(data, str):
        return data.encode("utf-8"), "text/plain; charset=utf-8"
    return bytes(data), None
