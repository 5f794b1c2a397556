"""``config["pubsub"] = "redis://host:port/db"``: every server on the same Redis.

Each worker process publishes its messages to one Redis channel (``CHANNEL``) and
reads that channel in a thread of its own; a message carries its origin (this
process's id) so the publisher's own process, which delivered it locally at once, skips
its echo. The record is the relay's (``pubsub_relay.encode``) behind the origin.

Delivery is at most once across a Redis failure, as Redis pub/sub is: while Redis is
unreachable, messages for other processes are lost and counted (``hub.stats["lost"]``);
local delivery goes on. The reader reconnects with backoff (0.1 s doubling to 5 s) and
subscribes again; log lines say when the bus was lost and regained. The ``redis``
package is the optional extra ``outside[redis]``.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from ..pubsub import Hub, Published, turn
from .pubsub_relay import decode, encode
from .settings import ConfigError

logger = logging.getLogger("outside")

CHANNEL = "outside:pubsub"
BACKOFF_START, BACKOFF_MAX = 0.1, 5.0
CONNECT_TIMEOUT = 2.0


def _client(url: str) -> Any:
    try:
        import redis
    except ImportError:
        raise ConfigError(f"config['pubsub'] = {url!r} needs the redis package: "
                          "pip install 'outside[redis]'") from None
    return redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT,
                                socket_timeout=CONNECT_TIMEOUT, health_check_interval=10)


def check_reachable(url: str) -> None:
    """At start-up: raise ``ConfigError`` (one line) if Redis at ``url`` does not answer."""
    client = _client(url)
    try:
        client.ping()
    except Exception as exc:
        raise ConfigError(f"config['pubsub'] = {url!r}: Redis does not answer ({exc})") from None
    finally:
        client.close()


class RedisBus:
    """A worker's link to Redis: ``send`` publishes, a thread delivers what arrives."""

    def __init__(self, hub: Hub, url: str, origin: int) -> None:
        self._hub = hub
        self._url = url
        self._origin = b"%d:%s:" % (origin, os.urandom(4).hex().encode())
        self._client = _client(url)
        self._down = False       # the publisher's view: Redis failed, not yet back
        self._down_lock = threading.Lock()
        self._stopped = False
        threading.Thread(target=self._run, name="outside-pubsub-redis", daemon=True).start()

    def send(self, message: Published) -> None:
        try:
            self._client.publish(CHANNEL, self._origin + encode(message))
        except Exception as exc:  # redis.ConnectionError, TimeoutError...
            self._hub.stats["lost"] += 1
            self._went_down(exc)
            return
        if self._down:
            self._came_back()

    def _went_down(self, exc: BaseException) -> None:
        with self._down_lock:
            if self._down:
                return
            self._down = True
        logger.error("pubsub: lost the Redis bus at %s (%s): messages to other servers are lost "
                     "until it is back", self._url, exc)

    def _came_back(self) -> None:
        with self._down_lock:
            if not self._down:
                return
            self._down = False
            self._hub.stats["reconnects"] += 1  # the bus is back: one recovery
        logger.warning("pubsub: Redis bus at %s is back (%d messages lost so far)",
                       self._url, self._hub.stats["lost"])

    def _run(self) -> None:
        delay = BACKOFF_START
        origin = self._origin
        deliver = self._hub.deliver
        while not self._stopped:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(CHANNEL)
                if self._down:
                    self._came_back()
                delay = BACKOFF_START
                while not self._stopped:
                    item = pubsub.get_message(timeout=1.0)
                    if item is None or item.get("type") != "message":
                        continue
                    data = item["data"]
                    if data.startswith(origin):
                        continue  # ours: delivered locally when it was published
                    _, _, rest = data.partition(b":")
                    _, _, record = rest.partition(b":")
                    with turn():  # delivered from this thread: no hop through the flusher
                        deliver(decode(record))
            except Exception as exc:
                self._went_down(exc)
                time.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
            finally:
                try:
                    pubsub.close()
                except Exception:
                    pass

    def close(self) -> None:
        self._stopped = True
