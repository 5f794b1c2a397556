"""A small WebSocket load client: closed-loop echo over raw sockets.

Each client sends one pre-built masked binary frame, waits for the whole echo, records the
round trip and sends the frame again. One epoll loop drives every client, and the only
work per reply is counting its bytes, so the client stays well below the servers' rates
(its CPU share is reported so a reader can check). When that share nears 1.0 the client,
not the server, sets the rate; given the server's process ids, the run also reports the
server's CPU time per echoed message, which does not depend on how fast the client is.

    python -m benchmarks.wsload --port 8081 --clients 50 --size 32 --duration 5
    python -m benchmarks.wsload --port 8081 --clients 50 --server-pid 12345
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import selectors
import socket
import statistics
import time
from array import array
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

OPCODE_BINARY = 0x2
FIN = 0x80


def process_cpu_seconds(pids: Iterable[int]) -> float:
    """User plus system CPU time (s) of the processes ``pids``, all their threads included
    (fields 14 and 15 of ``/proc/<pid>/stat``); a process that is gone counts 0."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15; 3 is [0])
    return total / os.sysconf("SC_CLK_TCK")


def client_frame(payload: bytes, mask: bytes) -> bytes:
    """One final binary frame from a client: masked, as RFC 6455 requires."""
    length = len(payload)
    if length < 126:
        head = bytes([FIN | OPCODE_BINARY, 0x80 | length])
    elif length < 1 << 16:
        head = bytes([FIN | OPCODE_BINARY, 0x80 | 126]) + length.to_bytes(2, "big")
    else:
        head = bytes([FIN | OPCODE_BINARY, 0x80 | 127]) + length.to_bytes(8, "big")
    repeated = (mask * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(length, "big")
    return head + mask + masked


def frame_header(head: bytes) -> Optional[Tuple[int, int, bool, int]]:
    """(header size, payload length, fin, opcode) of the frame starting ``head``, or None
    while ``head`` is too short to tell."""
    if len(head) < 2:
        return None
    short = head[1] & 0x7F
    extra = 2 if short == 126 else 8 if short == 127 else 0
    size = 2 + extra + (4 if head[1] & 0x80 else 0)
    if len(head) < size:
        return None
    length = int.from_bytes(head[2:2 + extra], "big") if extra else short
    return size, length, bool(head[0] & FIN), head[0] & 0x0F


class ReplyCounter:
    """Counts whole data messages in a server's byte stream without keeping payloads."""

    def __init__(self) -> None:
        self._head = b""
        self._remaining = 0
        self._ends_message = False

    def feed(self, data: bytes) -> int:
        """Consume ``data``; return how many messages it completed."""
        done, pos, end = 0, 0, len(data)
        while pos < end:
            if self._remaining:
                take = min(self._remaining, end - pos)
                self._remaining -= take
                pos += take
                done += self._remaining == 0 and self._ends_message
                continue
            chunk = data[pos:pos + 14]  # no header is longer
            header = frame_header(self._head + chunk)
            if header is None:
                self._head += chunk
                pos += len(chunk)
                continue
            size, length, fin, opcode = header
            pos += size - len(self._head)
            self._head = b""
            self._remaining = length
            self._ends_message = fin and opcode < 0x8  # control frames (ping, close) are not replies
            done += length == 0 and self._ends_message
        return done


def connect(host: str, port: int, path: str, timeout: float = 10.0) -> Tuple[socket.socket, bytes]:
    """Open a WebSocket; return the socket and any frame bytes that came with the 101."""
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    received = b""
    while b"\r\n\r\n" not in received:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed during the handshake")
        received += data
    head, _, rest = received.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    if b" 101 " not in status + b" ":
        raise ConnectionError(f"handshake refused: {status.decode(errors='replace')}")
    return sock, rest


def read_message(sock: socket.socket, buffered: bytes) -> bytes:
    """Read one whole data message (blocking, fragments joined); for checking echoes."""
    data, payload = bytearray(buffered), bytearray()
    while True:
        header = frame_header(bytes(data[:14]))
        if header is not None and len(data) >= header[0] + header[1]:
            size, length, fin, opcode = header
            if opcode < 0x8:
                payload += data[size:size + length]
            del data[:size + length]
            if fin and opcode < 0x8:
                return bytes(payload)
            continue
        more = sock.recv(1 << 20)
        if not more:
            raise ConnectionError("closed before the echo")
        data += more


def check_echo(host: str, port: int, path: str, size: int = 32) -> None:
    """Raise unless the server echoes one message of ``size`` bytes exactly."""
    payload = os.urandom(size)
    sock, rest = connect(host, port, path)
    with sock:
        sock.sendall(client_frame(payload, os.urandom(4)))
        if read_message(sock, rest) != payload:
            raise ValueError("the echo differs from the message sent")


def close(sock: socket.socket) -> None:
    """Close as a polite client does: a close frame, then wait for the server's end."""
    try:
        sock.setblocking(True)
        sock.settimeout(1.0)
        sock.sendall(client_frame_close())
        while sock.recv(1 << 20):
            pass
    except OSError:
        pass
    finally:
        sock.close()


def client_frame_close() -> bytes:
    """A masked close frame with status 1000 (normal closure)."""
    frame = bytearray(client_frame((1000).to_bytes(2, "big"), os.urandom(4)))
    frame[0] = FIN | 0x8
    return bytes(frame)


class Client:
    """One closed-loop client: at most one message in flight."""

    def __init__(self, sock: socket.socket, frame: bytes) -> None:
        self.sock, self.frame = sock, frame
        self.counter = ReplyCounter()
        self.sent_at = 0.0
        self.unsent = memoryview(b"")

    def send(self, selector: selectors.BaseSelector) -> None:
        self.sent_at = time.perf_counter()
        self.unsent = memoryview(self.frame)
        self.flush(selector)

    def flush(self, selector: selectors.BaseSelector) -> None:
        try:
            sent = self.sock.send(self.unsent)
        except BlockingIOError:
            sent = 0
        self.unsent = self.unsent[sent:]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if self.unsent else 0)
        selector.modify(self.sock, events, self)


def run_echo(host: str, port: int, path: str, clients: int, size: int, duration: float,
             server_pids: Sequence[int] = ()) -> Dict[str, float]:
    """Drive ``clients`` closed-loop echo clients for ``duration`` seconds; return the rates,
    and the CPU time of the processes ``server_pids`` over the timed part (connecting and
    closing left out) when any are given."""
    frame = client_frame(os.urandom(size), os.urandom(4))
    selector = selectors.DefaultSelector()
    latencies = array("d")
    errors = 0
    opened: List[Client] = []
    try:
        for _ in range(clients):
            sock, rest = connect(host, port, path)
            client = Client(sock, frame)
            client.counter.feed(rest)
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ, client)
            opened.append(client)
        server_start = process_cpu_seconds(server_pids)
        cpu_start, start = time.process_time(), time.perf_counter()
        for client in opened:
            client.send(selector)
        deadline = start + duration
        while time.perf_counter() < deadline and selector.get_map():
            for key, events in selector.select(timeout=0.2):
                client = key.data
                if events & selectors.EVENT_WRITE:
                    client.flush(selector)
                if events & selectors.EVENT_READ:
                    try:
                        data = client.sock.recv(1 << 20)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        data = b""
                    if not data:
                        errors += 1
                        selector.unregister(client.sock)
                        continue
                    if client.counter.feed(data):
                        latencies.append(time.perf_counter() - client.sent_at)
                        client.send(selector)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        server_cpu = process_cpu_seconds(server_pids) - server_start
    finally:
        selector.close()
        for client in opened:
            close(client.sock)
    result = summarize(latencies, size, elapsed, cpu, errors)
    if server_pids:
        result.update(server_cpu_accounting(server_cpu, result["messages"], elapsed))
    return result


def server_cpu_accounting(server_cpu: float, messages: int, elapsed: float) -> Dict[str, float]:
    """The server's CPU seconds, its share of one core and its CPU microseconds per message."""
    return {"server_cpu_s": server_cpu, "server_cpu": server_cpu / elapsed,
            "server_cpu_us_per_message": server_cpu / messages * 1e6 if messages else float("nan")}


def summarize(latencies: array, size: int, elapsed: float, cpu: float, errors: int) -> Dict[str, float]:
    """Messages per second, bytes per second, p50/p99 round trip (ms), client CPU share."""
    ordered = sorted(latencies)
    def percentile(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else float("nan")
    rate = len(ordered) / elapsed
    return {"rate": rate, "bytes_per_s": rate * size, "p50_ms": percentile(0.50),
            "p99_ms": percentile(0.99), "mean_ms": statistics.fmean(ordered) * 1000 if ordered else float("nan"),
            "messages": len(ordered), "errors": errors, "client_cpu": cpu / elapsed}


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/ws")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--size", type=int, default=32, help="message size in bytes")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds")
    parser.add_argument("--server-pid", type=int, action="append", default=[], metavar="PID",
                        help="a process of the server (repeatable): report its CPU time per message")
    parser.add_argument("--check", action="store_true", help="only check that one echo comes back intact")
    args = parser.parse_args(argv)
    if args.check:
        check_echo(args.host, args.port, args.path, args.size)
        print(json.dumps({"ok": True}))
    else:
        print(json.dumps(run_echo(args.host, args.port, args.path, args.clients, args.size, args.duration,
                                  args.server_pid)))


if __name__ == "__main__":
    main()
