# cython: language_level=3
"""The compiled twin of ``outside.pubsub.fan_out_py``: the per-subscriber loop of a
publish. For a plain socket with nothing queued and no other writer it calls
``send(2)`` on the descriptor itself (non-blocking, no SIGPIPE), so a subscriber costs
no Python frame; TLS sockets, queued bytes, a busy writer and partial sends take the
outbox's Python methods, as the pure twin does for every subscriber."""
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


cdef bint _send_direct(object outbox, bytes data) except -1:
    """Under the outbox's send lock: send what the socket takes now; False when the
    outbox refuses the rest (past its limit) or the socket failed."""
    cdef Py_ssize_t size = PyBytes_GET_SIZE(data)
    cdef Py_ssize_t sent
    cdef int fd
    if not outbox.is_open():  # closing: nothing may follow the close frame
        return True
    # no Python call from here to send(2): with the GIL held, no thread can close the
    # descriptor (socket.close() gives up its number before closing it) and reuse it
    fd = outbox._sock.fileno()
    if fd < 0:
        return True
    sent = send(fd, PyBytes_AS_STRING(data), <size_t>size, MSG_DONTWAIT | MSG_NOSIGNAL)
    if sent < 0:
        if errno == EAGAIN or errno == EWOULDBLOCK or errno == EINTR:
            sent = 0
        else:  # the peer is gone: the connection's reader sees the end
            outbox.failed = True
            return False
    if sent == size:
        return True
    return bool(outbox.sent_part(data, sent))


def fan_out(subscribers, frames, list generic, list overflowed):
    """Offer each subscriber's form of ``frames`` to its outbox; see ``fan_out_py``."""
    cdef bytes data
    cdef bint taken
    for subscriber in subscribers:
        try:
            try:
                outbox = subscriber.outbox
            except AttributeError:
                outbox = None
            if outbox is None:
                generic.append(subscriber)
                continue
            data = frames[subscriber.form]
            if outbox.failed or not outbox.direct or len(outbox._buffer):
                taken = outbox.offer(data, outbox.is_open)
            else:
                lock = outbox._send_lock
                if not lock.acquire(False):  # another thread writes: queue behind it
                    taken = outbox.offer(data, outbox.is_open)
                else:
                    try:
                        taken = _send_direct(outbox, data)
                    finally:
                        lock.release()
                    if taken and len(outbox._buffer):  # a rest, or what others queued meanwhile
                        outbox.drain()
                        taken = not outbox.failed
            if not taken:
                overflowed.append(subscriber)
        except Exception:  # one subscriber's failure must not starve the others
            logger.exception("pubsub delivery to %r failed", subscriber)
