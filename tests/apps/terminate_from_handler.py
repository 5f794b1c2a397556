"""``GET /stop`` answers ``bye`` and calls ``app.terminate()`` from another thread soon
after; once ``run()`` returns the program prints ``run returned`` (tests/test_server_process.py).

A program (it runs the server itself): start it with ``servers.start_program``.
"""
import threading

from outside import OutsideHTTP, Response

app = OutsideHTTP(("127.0.0.1", 0))
app.config["workers"] = 1


def stop(request):
    threading.Timer(0.1, app.terminate).start()
    return Response(200, {}, "bye")


app.set_route("/stop", stop)
app.run()
print("run returned", flush=True)
