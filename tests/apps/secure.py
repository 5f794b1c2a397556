"""``GET /`` answers ``secure``; the test turns TLS on through the config
(tests/test_attacks.py: bad TLS clients)."""
from outside import OutsideHTTP, Response

app = OutsideHTTP(("127.0.0.1", 0))
app.set_route("/", lambda request: Response(200, {}, "secure"))
