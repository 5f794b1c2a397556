# C types for the compiled twin of outside/websocket/frames.py (Cython pure-Python mode).
# The build compiles a copy of that file as outside/_speedups/_frames.py; this file gives it
# its types, and swaps the Python mask for the compiled one.
cimport cython

from outside._speedups._mask cimport apply_mask

cdef int _FIN, _RSV1, _RSV2_RSV3, _MASKED


cdef class Frame:
    cdef public bint fin
    cdef public bint rsv1
    cdef public int opcode
    cdef public object payload


cdef class FrameParser:
    cdef public bint masked
    cdef public bint allow_rsv1
    cdef public Py_ssize_t max_payload
    cdef bytearray _buffer
    cdef bint _header_done
    cdef int _first
    cdef Py_ssize_t _length
    cdef bytes _mask
    cdef list _pieces
    cdef Py_ssize_t _gathered

    cpdef feed(self, object data)

    @cython.locals(length=Py_ssize_t, first=int)
    cpdef next_frame(self)

    @cython.locals(extra=Py_ssize_t, cut=Py_ssize_t, index=Py_ssize_t)
    cdef bytes _join_pieces(self)

    @cython.locals(available=Py_ssize_t, first=int, second=int, opcode=int, is_control=bint,
                   size=Py_ssize_t, length=Py_ssize_t)
    cdef bint _read_header(self) except -1


@cython.locals(first=int, mask_bit=int)
cpdef bytes frame_header(int opcode, Py_ssize_t length, bint fin=*, bint rsv1=*, bint masked=*)

cpdef bytes serialize_frame(int opcode, object payload, bint fin=*, bint rsv1=*, object mask=*)
