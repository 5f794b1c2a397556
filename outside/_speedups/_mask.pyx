# cython: language_level=3, boundscheck=False, wraparound=False
"""RFC 6455 masking in C: XOR with a 4-byte key, 32 bytes per step.

The twin of ``outside.websocket.mask`` (same functions, same results). The loop works on
64-bit words through ``memcpy``, which compilers turn into plain (unaligned) loads and
stores, so it is both fast and free of aliasing assumptions. Buffers of at least
``GIL_RELEASE_SIZE`` bytes are processed without the GIL: the buffer protocol locks
their size while we hold them, so another thread cannot resize them under us.
"""
from cpython.buffer cimport PyBUF_SIMPLE, PyBUF_WRITABLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.stdint cimport uint32_t, uint64_t
from libc.string cimport memcpy

# Below this the GIL round trip costs more than it frees up for other threads.
DEF _GIL_RELEASE_SIZE = 256 * 1024
GIL_RELEASE_SIZE = _GIL_RELEASE_SIZE


cdef inline void _xor(const unsigned char* src, unsigned char* dst, Py_ssize_t size,
                      const unsigned char* key) noexcept nogil:
    """dst[i] = src[i] ^ key[i % 4]; src and dst may be the same buffer."""
    cdef uint32_t key32
    cdef uint64_t key64, w0, w1, w2, w3
    cdef Py_ssize_t i = 0
    memcpy(&key32, key, 4)
    key64 = (<uint64_t>key32 << 32) | key32
    while i + 32 <= size:
        memcpy(&w0, src + i, 8)
        memcpy(&w1, src + i + 8, 8)
        memcpy(&w2, src + i + 16, 8)
        memcpy(&w3, src + i + 24, 8)
        w0 ^= key64
        w1 ^= key64
        w2 ^= key64
        w3 ^= key64
        memcpy(dst + i, &w0, 8)
        memcpy(dst + i + 8, &w1, 8)
        memcpy(dst + i + 16, &w2, 8)
        memcpy(dst + i + 24, &w3, 8)
        i += 32
    while i + 8 <= size:
        memcpy(&w0, src + i, 8)
        w0 ^= key64
        memcpy(dst + i, &w0, 8)
        i += 8
    while i < size:  # i is a multiple of 8 here, so key[i % 4] restarts at key[0]
        dst[i] = src[i] ^ key[i & 3]
        i += 1


cdef inline const unsigned char* _key(bytes mask) except NULL:
    if PyBytes_GET_SIZE(mask) != 4:
        raise ValueError("a WebSocket mask is exactly 4 bytes")
    return <const unsigned char*>PyBytes_AS_STRING(mask)


cpdef mask_in_place(object data, bytes mask):
    """XOR ``data`` (a bytearray or any writable buffer) with ``mask``, in place."""
    cdef const unsigned char* key = _key(mask)
    cdef unsigned char* buf
    cdef Py_ssize_t size
    cdef Py_buffer view
    if type(data) is bytearray and PyByteArray_GET_SIZE(data) < _GIL_RELEASE_SIZE:
        buf = <unsigned char*>PyByteArray_AS_STRING(data)
        _xor(buf, buf, PyByteArray_GET_SIZE(data), key)
        return
    try:
        PyObject_GetBuffer(data, &view, PyBUF_WRITABLE)
    except BufferError:  # read-only: the same TypeError as the pure twin's slice assignment
        raise TypeError("mask_in_place needs a writable buffer") from None
    try:
        buf = <unsigned char*>view.buf
        size = view.len
        if size >= _GIL_RELEASE_SIZE:
            with nogil:
                _xor(buf, buf, size, key)
        else:
            _xor(buf, buf, size, key)
    finally:
        PyBuffer_Release(&view)


cpdef bytes apply_mask(object data, bytes mask):
    """Return ``data`` (any bytes-like object) XORed with ``mask``, as new bytes."""
    cdef const unsigned char* key = _key(mask)
    cdef bytes result
    cdef unsigned char* out
    cdef Py_buffer view
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        result = PyBytes_FromStringAndSize(NULL, view.len)
        out = <unsigned char*>PyBytes_AS_STRING(result)
        if view.len >= _GIL_RELEASE_SIZE:
            with nogil:
                _xor(<const unsigned char*>view.buf, out, view.len, key)
        else:
            _xor(<const unsigned char*>view.buf, out, view.len, key)
    finally:
        PyBuffer_Release(&view)
    return result
