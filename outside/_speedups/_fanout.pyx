# cython: language_level=3
"""The compiled twin of ``outside.pubsub.fan_out_py``: the per-subscriber loop of a
publish. For a plain socket with nothing queued and no writer in the middle of a send,
it checks the connection's state and calls ``send(2)`` on the descriptor itself
(non-blocking, no SIGPIPE): a subscriber costs a few attribute reads and a system call,
no Python frame. TLS sockets, queued bytes, a busy writer and partial sends take the
outbox's Python methods, as the pure twin does for every subscriber.

Why no lock is taken on the fast path: it runs holding the GIL and calls no Python code
from the checks to ``send(2)``, so no other thread runs meanwhile; a thread in the
middle of a write (the GIL released in its system call) holds the send lock, which the
checks see (``locked()``). For the same reason the descriptor cannot be closed and
reused under it: ``socket.close()`` gives up its number before releasing the GIL.
"""
import logging

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from libc.errno cimport EAGAIN, EINTR, errno

cdef extern from "<errno.h>":
    int EWOULDBLOCK

cdef extern from "<sys/socket.h>" nogil:
    ssize_t send(int fd, const void *buf, size_t n, int flags)
    int MSG_DONTWAIT
    int MSG_NOSIGNAL

logger = logging.getLogger("outside")


cdef bint _send_direct(object outbox, object sock, bytes data) except -1:
    """Send what the socket takes now (the checks passed); False when the outbox
    refuses the rest (past its limit) or the socket failed."""
    cdef Py_ssize_t size = PyBytes_GET_SIZE(data)
    cdef Py_ssize_t sent
    cdef int fd = sock.fileno()  # a C method: the GIL stays held
    if fd < 0:
        return True
    sent = send(fd, PyBytes_AS_STRING(data), <size_t>size, MSG_DONTWAIT | MSG_NOSIGNAL)
    if sent == size:
        return True
    if sent < 0:
        if errno != EAGAIN and errno != EWOULDBLOCK and errno != EINTR:
            outbox.failed = True  # the peer is gone: its reader sees the end
            return False
        sent = 0
    lock = outbox._send_lock
    lock.acquire(False)  # free (checked, nothing ran since): the rest goes in front
    try:
        taken = outbox.sent_part(data, sent)
    finally:
        lock.release()
    outbox.drain()  # watched by the flusher until the socket takes it
    return bool(taken) and not outbox.failed


def fan_out(subscribers, frames, list generic, list overflowed):
    """Offer each subscriber's form of ``frames`` to its outbox; see ``fan_out_py``."""
    cdef bytes data
    cdef bint taken
    plain = None
    for subscriber in subscribers:
        try:
            outbox = getattr(subscriber, "outbox", None)
            if outbox is None:
                generic.append(subscriber)
                continue
            form = subscriber.form
            if form == 0:
                if plain is None:
                    plain = frames[0]
                data = plain
            else:
                data = frames[form]
            sock = outbox.direct
            owner = outbox.state_owner
            if (sock is None or owner is None or outbox.failed or len(outbox._buffer)
                    or outbox._send_lock.locked()):
                taken = outbox.offer(data, outbox.is_open)
            elif owner.state is not outbox.open_state:
                taken = True  # closing: nothing may follow the close frame
            else:
                taken = _send_direct(outbox, sock, data)
            if not taken:
                overflowed.append(subscriber)
        except Exception:  # one subscriber's failure must not starve the others
            logger.exception("pubsub delivery to %r failed", subscriber)
