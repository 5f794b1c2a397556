"""Publish/subscribe across worker processes (tests/test_pubsub_server.py).

``/ws`` (``WS_MODE``: ``blocking`` or ``events``): greets with ``pid <worker pid>``;
``sub <topic>`` subscribes (answer ``subscribed <topic> <sorted topics>``), ``unsub
<topic>`` unsubscribes (``unsubscribed <topic>``), ``pub <topic> <text>`` publishes.
``/publish?topic=&prefix=&count=`` publishes ``<prefix> <n>`` for n < count
(``binary=1``: as bytes; ``pad=N``: plus a space and N ``x``; ``pause=S``: sleep S
seconds after every 100); ``/events?topic=`` is an
``EventStream`` subscribed to ``topic`` (its first event: ``pid <pid>``); ``/stats``
the worker's counters as JSON (with its ``pid``); ``/bad?case=`` answers the error a
bad ``publish``/``subscribe`` raises. For the browser test: ``/tab`` is
``tests/pages/pubsub_tab.html``; ``/report?tab=`` stores what a tab saw in
``PUBSUB_REPORTS`` (a directory: the tabs may talk to different workers) and ``/hold?tab=``
answers once that tab reported.
"""
import os
import time

from outside import EventStream, FilePath, OutsideHTTP, Response, WebSocket, pubsub

app = OutsideHTTP(("127.0.0.1", 0))
ws = WebSocket()


def command(connection, message):
    if isinstance(message, bytes):
        message = message.decode()
    word, _, rest = message.partition(" ")
    if word == "sub":
        connection.subscribe(rest)
        connection.send(f"subscribed {rest} {','.join(sorted(connection.topics))}")
    elif word == "unsub":
        connection.unsubscribe(rest)
        connection.send(f"unsubscribed {rest}")
    elif word == "pub":
        topic, _, text = rest.partition(" ")
        app.publish(topic, text)


if os.environ.get("WS_MODE", "blocking") == "blocking":
    @ws.on_connection
    def serve(connection):
        connection.send(f"pid {os.getpid()}")
        for message in connection:
            command(connection, message)
else:
    ws.on_connection(lambda connection: connection.send(f"pid {os.getpid()}"))
    ws.on_message(command)


def publish(request):
    topic = request.params.get("topic", "news")
    prefix = request.params.get("prefix", "m")
    binary = request.params.get("binary") == "1"
    count = int(request.params.get("count", "1"))
    padding = " " + "x" * int(request.params.get("pad", "0"))
    pause = float(request.params.get("pause", "0"))  # seconds after every 100 messages
    for number in range(count):
        if pause and number % 100 == 99:
            time.sleep(pause)
        text = f"{prefix} {number}{padding if len(padding) > 1 else ''}"
        app.publish(topic, text.encode() if binary else text)
    return Response(200, {}, {"pid": os.getpid(), "published": count})


def events(request):
    stream = EventStream(request)
    stream.send(f"pid {os.getpid()}")
    stream.subscribe(request.params.get("topic", "news"))
    return stream.response()


def stats(request):
    return Response(200, {}, dict(pubsub.stats(), pid=os.getpid()))


BAD_CASES = {
    "topic_int": lambda: app.publish(42, "x"),
    "topic_empty": lambda: app.publish("", "x"),
    "topic_long": lambda: app.publish("t" * 257, "x"),
    "message_int": lambda: app.publish("news", 42),
    "message_none": lambda: app.publish("news", None),
    "subscribe_int": lambda: EventStream().subscribe(7),
}


def bad(request):
    try:
        BAD_CASES[request.params["case"]]()
    except (TypeError, ValueError) as exc:
        return Response(200, {}, {"error": type(exc).__name__, "message": str(exc)})
    return Response(200, {}, {"error": None})


TAB_PAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pages",
                        "pubsub_tab.html")
REPORTS = os.environ.get("PUBSUB_REPORTS", "")


def report_path(request):
    tab = request.params.get("tab", "")
    if not REPORTS or not tab.isalnum():
        return None
    return os.path.join(REPORTS, tab + ".json")


def report(request):
    path = report_path(request)
    if path is None:
        return Response(400, {}, "no report directory or tab")
    with open(path, "wb") as file:
        file.write(request.content)
    return Response(204, {}, b"")


def hold(request):
    path = report_path(request)
    deadline = time.monotonic() + 40
    while path is not None and not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    return Response(200, {}, "over")


app.set_route("/tab", lambda request: Response(200, {}, FilePath(TAB_PAGE)))
app.set_route("/report", report)
app.set_route("/hold", hold)
app.set_route("/ws", ws)
app.set_route("/publish", publish)
app.set_route("/events", events)
app.set_route("/stats", stats)
app.set_route("/bad", bad)
