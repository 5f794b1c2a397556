"""EventStream routes for the SSE tests.

``/events``: a stream that first sends ``welcome`` (with the client's Last-Event-ID) and
is kept in ``STREAMS``; ``/broadcast?data=..&event=..&id=..`` sends to every open one;
``/count``: how many are open and how many ``on_close`` calls ran; ``/multi``: one event
with multi-line data, an id and a retry, then the stream closes; ``/close``: closes every
stream; ``/hello``: plain HTTP, to check the server still serves; ``/page``
(``tests/pages/event_source.html``), ``/done``, ``/hold``: the browser test.
"""
import os
import threading
import time

from outside import EventStream, FilePath, OutsideHTTP, Response

app = OutsideHTTP(("127.0.0.1", 0))
STREAMS = set()
CLOSED = []
LOCK = threading.Lock()


def _closed(stream):
    with LOCK:
        STREAMS.discard(stream)
        CLOSED.append(stream)


ACCEPTED = []  # the Accept-Encoding of each /events request


def events(request):
    ACCEPTED.append(request.headers.get("Accept-Encoding", ""))
    stream = EventStream(request, on_close=_closed)
    stream.send(f"last={stream.last_event_id}", event="welcome")
    with LOCK:
        STREAMS.add(stream)
    return stream.response()


def broadcast(request):
    query = request.params
    with LOCK:
        streams = list(STREAMS)
    retry = int(query["retry"]) if "retry" in query else None
    taken = sum(stream.send(query.get("data", ""), event=query.get("event"), id=query.get("id"),
                            retry=retry)
                for stream in streams)
    return Response(200, {}, f"{taken}")


def big(request):
    """Sends ``kib`` KiB of events to every stream (to fill a slow reader's buffer)."""
    size = int(request.params.get("kib", "64"))
    with LOCK:
        streams = list(STREAMS)
    chunk = "y" * 1023
    taken = 0
    for stream in streams:
        for _ in range(size):
            taken += stream.send(chunk)
    return Response(200, {}, f"{taken}")


def count(request):
    with LOCK:
        return Response(200, {}, {"open": len(STREAMS), "closed": len(CLOSED),
                                  "closed_flags": sum(stream.closed for stream in CLOSED)})


def accepted(request):
    return Response(200, {}, {"accepted": ACCEPTED})


def multi(request):
    stream = EventStream()
    stream.send("line one\nline two\r\nline three\rline four", event="multi", id="7", retry=2500)
    stream.send(id="8")
    stream.close()
    return stream.response()


def close_all(request):
    with LOCK:
        streams = list(STREAMS)
    for stream in streams:
        stream.close()
    return Response(200, {}, f"{len(streams)}")


SHARED = EventStream()  # returned by /twice to every request: only the first gets it


def twice(request):
    return SHARED.response()


DONE = threading.Event()


def done(request):
    DONE.set()
    return Response(200, {}, "ok")


def hold(request):
    """Answered once the browser page called /done: holds the page's load event."""
    DONE.wait(30)
    time.sleep(0.2)
    return Response(404, {}, "")


def hello(request):
    return Response(200, {}, "hello")


app.set_route("/events", events)
app.set_route("/broadcast", broadcast)
app.set_route("/big", big)
app.set_route("/count", count)
app.set_route("/accepted", accepted)
app.set_route("/multi", multi)
app.set_route("/close", close_all)
app.set_route("/hello", hello)
app.set_route("/done", done)
app.set_route("/twice", twice)
app.set_route("/bad-header", lambda request: EventStream().response({"Bad Name": "x"}))
app.set_route("/bad-headers", lambda request: Response(200, [("X", "1")], EventStream()))
app.set_route("/hold", hold)
app.set_route("/page", lambda request: Response(200, {}, FilePath(
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pages", "event_source.html"))))
