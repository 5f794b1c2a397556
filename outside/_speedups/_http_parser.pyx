# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""HTTP/1.1 request parser in C: llhttp (strict) plus outside's limits and framing rules.

The compiled twin of ``outside.http.parser.RequestParser``; the contract is that
module's docstring. llhttp finds syntax errors; the callbacks below only copy bytes
into C buffers and enforce limits, so a request head costs one round of Python object
creation (its strings, the header list, one ``RequestHead``) when it is complete.

Two pauses structure each request: ``on_headers_complete`` pauses so the head is built
(and its framing rules are checked) outside llhttp with the exact head size known, and
``on_message_complete`` pauses so pipelined requests come out one at a time. Python
exceptions never cross llhttp: a callback stores its error, returns ``HPE_USER``, and
``feed`` raises it once ``llhttp_execute`` has returned.
"""
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.list cimport PyList_New, PyList_SET_ITEM
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_INCREF, Py_XDECREF
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from cpython.unicode cimport PyUnicode_1BYTE_DATA, PyUnicode_DecodeLatin1, PyUnicode_GET_LENGTH
from libc.string cimport memcmp, memcpy

from outside._speedups cimport llhttp as ll

from outside.http.errors import (
    BadRequest, HeaderFieldsTooLarge, NotImplementedMethodOrCoding, PayloadTooLarge,
    URITooLong, VersionNotSupported,
)
from outside.http.events import MessageEnd, RequestHead


cdef extern from "Python.h":
    # To fill the __slots__ of RequestHead and MessageEnd without running their
    # __init__ (a Python frame and one attribute lookup per field).
    ctypedef struct PyMemberDef:
        int type
        Py_ssize_t offset
    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member
    object PyType_GenericAlloc(PyTypeObject* type, Py_ssize_t nitems)
    void PyObject_GC_UnTrack(object)

DEF T_OBJECT_EX = 16  # the member type of a __slots__ entry (Py_T_OBJECT_EX in 3.12+)


# The methods this server accepts: llhttp's HTTP set, without the RTSP-only methods and
# the HTTP/2 preface ``PRI``. A method is checked byte by byte against these names, so
# it is refused at the first byte that leaves them, where llhttp's own check would stop.
cdef const char* HTTP_METHODS[35]
HTTP_METHODS[:] = [
    b"DELETE", b"GET", b"HEAD", b"POST", b"PUT", b"CONNECT", b"OPTIONS", b"TRACE", b"COPY",
    b"LOCK", b"MKCOL", b"MOVE", b"PROPFIND", b"PROPPATCH", b"SEARCH", b"UNLOCK", b"BIND",
    b"REBIND", b"UNBIND", b"ACL", b"REPORT", b"MKACTIVITY", b"CHECKOUT", b"MERGE",
    b"M-SEARCH", b"NOTIFY", b"SUBSCRIBE", b"UNSUBSCRIBE", b"PATCH", b"PURGE",
    b"MKCALENDAR", b"LINK", b"UNLINK", b"SOURCE", b"QUERY",
]
DEF METHOD_COUNT = 35
DEF MAX_METHOD = 16      # longer than any of them
DEF LLHTTP_METHODS = 47  # llhttp numbers its methods 0..46 (llhttp_method_name aborts beyond)
DEF NO_LIMIT = -1

# Why llhttp paused.
DEF PAUSE_HEAD = 1
DEF PAUSE_END = 2

# llhttp method number -> its name (on_method refuses those not in HTTP_METHODS).
cdef list METHOD_NAMES = []
cdef int _number
for _number in range(LLHTTP_METHODS):
    _name = <bytes>ll.llhttp_method_name(_number)
    METHOD_NAMES.append(_name.decode("ascii"))

# tchar (RFC 9110 5.6.2): an unknown method made of them is 501, anything else 400.
cdef bint IS_TCHAR[256]
for _number in range(256):
    IS_TCHAR[_number] = chr(_number).isascii() and (chr(_number).isalnum() or chr(_number) in "!#$%&'*+-.^_`|~")

cdef str HTTP_1_1 = "HTTP/1.1"
cdef str HTTP_1_0 = "HTTP/1.0"


# -- building RequestHead and MessageEnd ---------------------------------------------------

cdef PyTypeObject* HEAD_TYPE = <PyTypeObject*>RequestHead
cdef PyTypeObject* END_TYPE = <PyTypeObject*>MessageEnd
cdef tuple HEAD_FIELDS = ("method", "target", "version", "headers", "keep_alive", "upgrade",
                          "expect_continue", "chunked", "content_length")
cdef Py_ssize_t HEAD_OFFSETS[9]
cdef Py_ssize_t TRAILERS_OFFSET


cdef Py_ssize_t slot_offset(cls, str name) except -2:
    """Where the object pointer of ``cls.name`` lives in an instance, or -1 if not a plain slot."""
    descriptor = cls.__dict__.get(name)
    if type(descriptor).__name__ != "member_descriptor":
        return -1
    if (<PyMemberDescrObject*><PyObject*>descriptor).d_member.type != T_OBJECT_EX:
        return -1
    return (<PyMemberDescrObject*><PyObject*>descriptor).d_member.offset


cdef bint FAST_EVENTS = tuple(RequestHead.__slots__) == HEAD_FIELDS and MessageEnd.__slots__ == ("trailers",)
if FAST_EVENTS:
    for _number in range(9):
        HEAD_OFFSETS[_number] = slot_offset(RequestHead, HEAD_FIELDS[_number])
        FAST_EVENTS = FAST_EVENTS and HEAD_OFFSETS[_number] >= 0
    TRAILERS_OFFSET = slot_offset(MessageEnd, "trailers")
    FAST_EVENTS = FAST_EVENTS and TRAILERS_OFFSET >= 0


cdef inline void fill_slot(object instance, Py_ssize_t offset, object value):
    # The instance is fresh from PyType_GenericAlloc, so the slot holds NULL.
    Py_INCREF(value)
    (<PyObject**>((<char*><PyObject*>instance) + offset))[0] = <PyObject*>value


cdef object new_head(str method, str target, str version, list headers, bint keep_alive,
                     bint upgrade, bint expect_continue, bint chunked, object content_length):
    """RequestHead(...) as its __init__ would build it, without the Python call."""
    if not FAST_EVENTS:
        return RequestHead(method, target, version, headers, keep_alive, upgrade,
                           expect_continue, chunked, content_length)
    head = PyType_GenericAlloc(HEAD_TYPE, 0)
    fill_slot(head, HEAD_OFFSETS[0], method)
    fill_slot(head, HEAD_OFFSETS[1], target)
    fill_slot(head, HEAD_OFFSETS[2], version)
    fill_slot(head, HEAD_OFFSETS[3], headers)
    fill_slot(head, HEAD_OFFSETS[4], keep_alive)
    fill_slot(head, HEAD_OFFSETS[5], upgrade)
    fill_slot(head, HEAD_OFFSETS[6], expect_continue)
    fill_slot(head, HEAD_OFFSETS[7], chunked)
    fill_slot(head, HEAD_OFFSETS[8], content_length)
    return head


cdef object new_end(list trailers):
    if not FAST_EVENTS:
        return MessageEnd(trailers)
    end = PyType_GenericAlloc(END_TYPE, 0)
    fill_slot(end, TRAILERS_OFFSET, [] if trailers is None else trailers)
    return end


# -- strings ------------------------------------------------------------------------------

# Header names come from a small vocabulary: a direct-mapped cache of their str objects
# saves decoding them again for every request. A collision replaces the entry.
DEF NAME_CACHE_SIZE = 512
DEF NAME_CACHE_MAX_LENGTH = 40
cdef PyObject* NAME_CACHE[NAME_CACHE_SIZE]


cdef inline str latin1(const char* data, Py_ssize_t length):
    return PyUnicode_DecodeLatin1(data, length, NULL)


cdef str header_name(const char* data, Py_ssize_t length):
    cdef size_t hash_ = <size_t>length, i
    cdef PyObject* entry
    if length > NAME_CACHE_MAX_LENGTH:
        return latin1(data, length)
    for i in range(<size_t>length):
        hash_ = hash_ * 31 + <unsigned char>data[i]
    hash_ &= NAME_CACHE_SIZE - 1
    entry = NAME_CACHE[hash_]
    if (entry != NULL and PyUnicode_GET_LENGTH(<object>entry) == length
            and memcmp(PyUnicode_1BYTE_DATA(<object>entry), data, length) == 0):
        return <str>entry  # a latin-1 str stores exactly its bytes
    name = latin1(data, length)
    Py_INCREF(name)
    Py_XDECREF(entry)
    NAME_CACHE[hash_] = <PyObject*>name
    return name


cdef inline unsigned char lower(unsigned char c) noexcept nogil:
    return c | 0x20 if 65 <= c <= 90 else c


cdef bint equals_lower(const char* data, Py_ssize_t length, const char* lowercase, Py_ssize_t expected) noexcept nogil:
    """Case-insensitive comparison with an ASCII lowercase constant."""
    cdef Py_ssize_t i
    if length != expected:
        return False
    for i in range(length):
        if lower(<unsigned char>data[i]) != <unsigned char>lowercase[i]:
            return False
    return True


cdef inline bint is_ows(char c) noexcept nogil:
    return c == b' ' or c == b'\t'


cdef Py_ssize_t method_mismatch(const char* method, Py_ssize_t length) noexcept nogil:
    """Index of the first byte where ``method`` stops being the start of a known method, or -1."""
    cdef Py_ssize_t best = 0, i, k
    cdef const char* name
    for k in range(METHOD_COUNT):
        name = HTTP_METHODS[k]
        i = 0
        while i < length and name[i] != 0 and name[i] == method[i]:
            i += 1
        if i == length:
            return -1
        if i > best:
            best = i
    return best


cdef struct Field:
    Py_ssize_t name_start
    Py_ssize_t name_length
    Py_ssize_t value_start
    Py_ssize_t value_length


cdef class RequestParser:
    """Incremental HTTP/1.1 request parser over llhttp (sans-I/O); see ``outside.http.parser``."""

    cdef ll.llhttp_t parser
    cdef Py_ssize_t max_header_size
    cdef Py_ssize_t max_headers
    cdef Py_ssize_t max_url_size
    cdef long long max_body_size

    cdef list events              # the current feed's events
    cdef object error             # the HttpParserError that killed the parser
    cdef object callback_error    # raised in a callback, raised by feed()
    cdef int pause_reason
    cdef bint upgraded_flag
    cdef list upgrade_data

    # The head (or trailer section) being read: its bytes and its field spans.
    cdef char* buffer
    cdef Py_ssize_t buffer_length
    cdef Py_ssize_t buffer_capacity
    cdef Field* fields
    cdef Py_ssize_t field_count
    cdef Py_ssize_t field_capacity
    cdef bint in_field_name       # the last header callback was a name, not a value
    cdef Py_ssize_t url_length
    cdef const char* feed_end     # the end of the data being parsed
    cdef char method[MAX_METHOD]
    cdef Py_ssize_t method_length
    cdef Py_ssize_t protocol_length

    # Size of the section (head or trailers) being read: bytes counted in earlier feeds,
    # plus the distance from section_mark (its start, or this feed's start) to here.
    cdef bint in_section
    cdef Py_ssize_t section_bytes
    cdef const char* section_mark
    cdef bint in_trailers
    cdef unsigned long long body_bytes  # chunk sizes so far, counted when there is a limit

    def __cinit__(self):
        self.buffer = NULL
        self.fields = NULL

    def __init__(self, max_header_size: int = 65536, max_headers: int = 100,
                 max_url_size: int = 8192, max_body_size: "int | None" = None) -> None:
        self.max_header_size = max_header_size
        self.max_headers = max_headers
        self.max_url_size = max_url_size
        self.max_body_size = NO_LIMIT if max_body_size is None else max_body_size
        if self.buffer == NULL:
            self.buffer_capacity = 1024
            self.buffer = <char*>PyMem_Malloc(self.buffer_capacity)
            self.field_capacity = 16
            self.fields = <Field*>PyMem_Malloc(self.field_capacity * sizeof(Field))
            if self.buffer == NULL or self.fields == NULL:
                raise MemoryError()
        ll.llhttp_init(&self.parser, ll.HTTP_REQUEST, &SETTINGS)
        self.parser.data = <void*>self
        self.upgrade_data = []
        self.reset_message()

    def __dealloc__(self):
        PyMem_Free(self.buffer)
        PyMem_Free(self.fields)

    @property
    def upgraded(self) -> bool:
        """True once an upgrade request's head and end were returned."""
        return self.upgraded_flag

    def take_upgrade_data(self) -> bytes:
        """The bytes after the upgrade request, untouched; later calls return what came since."""
        data = b"".join(self.upgrade_data)
        self.upgrade_data = []
        return data

    def feed(self, data) -> list:
        """Parse ``data``; return the events it completes (RequestHead, bytes, MessageEnd)."""
        cdef Py_buffer view
        if self.error is not None:
            raise self.repeat_error()
        if self.upgraded_flag:
            if data:
                self.upgrade_data.append(bytes(data))
            return []
        if PyBytes_CheckExact(data):
            return self.execute(PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            return self.execute(<const char*>view.buf, view.len)
        finally:
            PyBuffer_Release(&view)

    def feed_eof(self) -> None:
        """End of input: raise BadRequest if a request is half read."""
        if self.error is not None:
            raise self.repeat_error()
        if self.upgraded_flag:
            return
        if ll.llhttp_finish(&self.parser) != ll.HPE_OK:
            self.fail(BadRequest("connection closed in the middle of a request"), [])

    # -- driving llhttp -------------------------------------------------------------------

    cdef list execute(self, const char* start, Py_ssize_t length):
        cdef const char* position = start
        cdef const char* end = start + length
        cdef ll.llhttp_errno_t errno
        cdef list events = []
        self.events = events
        self.feed_end = end
        if self.in_section:
            self.section_mark = start
        while True:
            errno = ll.llhttp_execute(&self.parser, position, end - position)
            if errno == ll.HPE_OK:
                if self.in_section:
                    self.section_bytes += end - self.section_mark
                    self.section_mark = end
                    if self.section_bytes > self.max_header_size:
                        self.fail(self.too_large_error(), events)
                return events
            position = ll.llhttp_get_error_pos(&self.parser)
            if errno == ll.HPE_PAUSED:
                ll.llhttp_resume(&self.parser)
                if self.pause_reason == PAUSE_HEAD:
                    error = self.finish_head(position)
                else:
                    error = self.finish_message(position)
                if error is not None:
                    self.fail(error, events)
            elif errno == ll.HPE_PAUSED_UPGRADE:
                error = self.finish_message(position)
                if error is not None:
                    self.fail(error, events)
                self.upgraded_flag = True
                if position < end:
                    self.upgrade_data.append(PyBytes_FromStringAndSize(position, end - position))
                return events
            else:
                self.fail(self.llhttp_error(errno, position), events)

    cdef int fail(self, error, list events) except -1:
        error.events = events
        self.error = error
        raise error

    cdef object repeat_error(self):
        error = type(self.error)(self.error.reason)
        error.events = []
        return error

    cdef object llhttp_error(self, ll.llhttp_errno_t errno, const char* position):
        """The exception for an llhttp error at ``position``, after our own earlier checks."""
        if self.callback_error is None and self.parser._span_pos0 != NULL:
            # The bytes llhttp accepted before the failing one still count: flush the open
            # span, so a limit passed before that byte wins, as with the input split there.
            (<ll.llhttp_span_cb>self.parser._span_cb0)(
                &self.parser, <const char*>self.parser._span_pos0, position)
            self.parser._span_pos0 = NULL
        if self.callback_error is not None:
            error = self.callback_error
            self.callback_error = None
            return error
        if self.in_section and self.section_too_large(position):
            return self.too_large_error()
        if errno == ll.HPE_INVALID_METHOD:
            return self.method_error(position[0])
        reason = ll.llhttp_get_error_reason(&self.parser).decode("latin-1")
        if errno == ll.HPE_INVALID_VERSION and reason == "Invalid HTTP version":
            return VersionNotSupported(reason)  # well formed, but not 0.9, 1.x or 2.0
        return BadRequest(reason)  # including malformed versions: syntax, not a version

    cdef object method_error(self, char failing):
        if IS_TCHAR[<unsigned char>failing]:
            return NotImplementedMethodOrCoding("unknown method")
        return BadRequest("invalid character in method")

    cdef str too_large_reason(self):
        return "trailer section too large" if self.in_trailers else "request head too large"

    cdef object too_large_error(self):
        return HeaderFieldsTooLarge(self.too_large_reason())

    # -- building events ------------------------------------------------------------------

    cdef list field_list(self):
        cdef Py_ssize_t i
        cdef Field* field
        cdef list result = PyList_New(self.field_count)
        cdef tuple pair
        for i in range(self.field_count):
            field = &self.fields[i]
            name = header_name(self.buffer + field.name_start, field.name_length)
            value = latin1(self.buffer + field.value_start, field.value_length)
            pair = PyTuple_New(2)
            Py_INCREF(name)
            PyTuple_SET_ITEM(pair, 0, name)
            Py_INCREF(value)
            PyTuple_SET_ITEM(pair, 1, value)
            PyObject_GC_UnTrack(pair)  # two str: never part of a cycle
            Py_INCREF(pair)
            PyList_SET_ITEM(result, i, pair)
        return result

    cdef object finish_head(self, const char* position):
        """Check the complete head and emit its RequestHead; return an error or None."""
        cdef Py_ssize_t i, hosts = 0, codings = 0
        cdef Field* field
        cdef const char* name
        cdef bint expect_continue = False, final_chunked = False
        cdef ll.llhttp_t* p = &self.parser
        cdef bint http11 = p.http_minor == 1
        self.section_bytes += position - self.section_mark
        self.in_section = False
        if self.section_bytes > self.max_header_size:
            return self.too_large_error()
        for i in range(self.field_count):
            field = &self.fields[i]
            name = self.buffer + field.name_start
            if equals_lower(name, field.name_length, b"host", 4):
                hosts += 1
            elif equals_lower(name, field.name_length, b"transfer-encoding", 17):
                codings += self.count_codings(field, &final_chunked)
            elif equals_lower(name, field.name_length, b"expect", 6):
                expect_continue = expect_continue or equals_lower(
                    self.buffer + field.value_start, field.value_length, b"100-continue", 12)
        if hosts > 1:
            return BadRequest("more than one Host header")
        if hosts == 0 and http11:
            return BadRequest("missing Host header")
        if p.flags & ll.F_TRANSFER_ENCODING:
            if not http11:
                return BadRequest("Transfer-Encoding in an HTTP/1.0 request")
            if not final_chunked:
                return BadRequest("Transfer-Encoding whose final coding is not chunked")
            if codings > 1:
                return NotImplementedMethodOrCoding("transfer codings other than chunked")
        content_length = None
        if p.flags & ll.F_CONTENT_LENGTH:
            content_length = p.content_length
            if self.max_body_size != NO_LIMIT and p.content_length > <unsigned long long>self.max_body_size:
                return PayloadTooLarge("Content-Length over the body size limit")
        self.events.append(new_head(
            METHOD_NAMES[p.method],
            latin1(self.buffer, self.url_length),
            HTTP_1_1 if http11 else HTTP_1_0,
            self.field_list(),
            not (p.flags & ll.F_CONNECTION_CLOSE) if http11 else (p.flags & ll.F_CONNECTION_KEEP_ALIVE) != 0,
            p.upgrade != 0,
            expect_continue,
            (p.flags & ll.F_CHUNKED) != 0,
            content_length,
        ))
        self.start_trailers()
        return None

    cdef Py_ssize_t count_codings(self, Field* field, bint* final_chunked) noexcept:
        """The number of codings in one Transfer-Encoding value; notes if the last is chunked."""
        cdef const char* value = self.buffer + field.value_start
        cdef Py_ssize_t i = 0, start, stop, n = field.value_length, codings = 0
        while i <= n:
            start = i
            while i < n and value[i] != b',':
                i += 1
            stop = i
            while start < stop and is_ows(value[start]):
                start += 1
            while stop > start and is_ows(value[stop - 1]):
                stop -= 1
            if stop > start:
                codings += 1
                final_chunked[0] = equals_lower(value + start, stop - start, b"chunked", 7)
            i += 1
        return codings

    cdef object finish_message(self, const char* position):
        """Emit MessageEnd (with trailers) and get ready for the next request."""
        trailers = None
        if self.in_section:
            self.section_bytes += position - self.section_mark
            if self.section_bytes > self.max_header_size:
                return self.too_large_error()
        if self.field_count:
            trailers = self.field_list()
        self.events.append(new_end(trailers))
        self.reset_message()
        return None

    cdef void reset_message(self) noexcept:
        self.url_length = 0
        self.method_length = 0
        self.protocol_length = 0
        self.in_section = False
        self.section_bytes = 0
        self.in_trailers = False
        self.body_bytes = 0
        self.start_fields()

    cdef void start_trailers(self) noexcept:
        self.in_trailers = True
        self.start_fields()

    cdef void start_fields(self) noexcept:
        self.buffer_length = 0
        self.field_count = 0
        self.in_field_name = False

    # -- helpers for the callbacks: C on the way through, Python objects only on errors --

    cdef int refuse(self, error_class, str reason) noexcept:
        """Store an error for feed() to raise; return the code that stops llhttp."""
        try:
            self.callback_error = error_class(reason)
        except BaseException as exc:  # MemoryError
            self.callback_error = exc
        return ll.HPE_USER

    cdef int refuse_too_large(self) noexcept:
        return self.refuse(HeaderFieldsTooLarge, self.too_large_reason())

    cdef inline bint section_too_large(self, const char* reached) noexcept:
        return self.section_bytes + (reached - self.section_mark) > self.max_header_size

    cdef inline void start_section(self, const char* at) noexcept:
        self.in_section = True
        self.section_mark = at
        self.section_bytes = 0

    cdef int append(self, const char* at, size_t length) noexcept:
        """Copy into the buffer; return 0, or HPE_USER when out of memory."""
        cdef Py_ssize_t needed = self.buffer_length + <Py_ssize_t>length
        cdef Py_ssize_t capacity = self.buffer_capacity
        cdef char* grown
        if needed > capacity:
            while needed > capacity:
                capacity *= 2
            grown = <char*>PyMem_Realloc(self.buffer, capacity)
            if grown == NULL:
                return self.refuse(MemoryError, "header buffer")
            self.buffer = grown
            self.buffer_capacity = capacity
        memcpy(self.buffer + self.buffer_length, at, length)
        self.buffer_length = needed
        return 0

    cdef int new_field(self) noexcept:
        cdef Field* grown
        cdef Field* field
        if self.field_count == self.max_headers:
            return self.refuse(HeaderFieldsTooLarge,
                               "too many trailer fields" if self.in_trailers else "too many header fields")
        if self.field_count == self.field_capacity:
            grown = <Field*>PyMem_Realloc(self.fields, 2 * self.field_capacity * sizeof(Field))
            if grown == NULL:
                return self.refuse(MemoryError, "header fields")
            self.fields = grown
            self.field_capacity *= 2
        field = &self.fields[self.field_count]
        self.field_count += 1
        field.name_start = self.buffer_length
        field.name_length = 0
        field.value_start = self.buffer_length
        field.value_length = 0
        return 0


# -- llhttp callbacks: plain C unless they refuse the input -------------------------------

cdef int on_method(ll.llhttp_t* parser, const char* at, size_t length) noexcept:
    cdef RequestParser self = <RequestParser>parser.data
    cdef Py_ssize_t index
    if not self.in_section:  # the request line starts here
        self.start_section(at)
    if self.section_too_large(at + length):
        return self.refuse_too_large()
    if self.method_length + <Py_ssize_t>length > MAX_METHOD:
        length = MAX_METHOD - self.method_length
    memcpy(self.method + self.method_length, at, length)
    self.method_length += length
    index = method_mismatch(self.method, self.method_length)
    if index >= 0:
        if IS_TCHAR[<unsigned char>self.method[index]]:
            return self.refuse(NotImplementedMethodOrCoding, "unknown method")
        return self.refuse(BadRequest, "invalid character in method")
    return 0


cdef int on_url(ll.llhttp_t* parser, const char* at, size_t length) noexcept:
    cdef RequestParser self = <RequestParser>parser.data
    # Both limits may pass within this span: the one whose first byte over comes first
    # wins (the URL on a tie), as when the input is fed byte by byte.
    cdef Py_ssize_t url_over = self.max_url_size - self.url_length  # index in the span
    cdef Py_ssize_t head_over = self.max_header_size - self.section_bytes - (at - self.section_mark)
    if self.section_too_large(at + length) and (url_over >= <Py_ssize_t>length or head_over < url_over):
        return self.refuse_too_large()
    if url_over < <Py_ssize_t>length:
        return self.refuse(URITooLong, "request target too long")
    # A span that ends inside this feed ends on the byte after the URL. A line end there
    # is an HTTP/0.9 request (no version), which llhttp accepts and we do not.
    if at + length < self.feed_end and (at[length] == b'\r' or at[length] == b'\n'):
        return self.refuse(BadRequest, "missing HTTP version")
    self.url_length += length
    return self.append(at, length)


cdef int on_protocol(ll.llhttp_t* parser, const char* at, size_t length) noexcept:
    # llhttp also takes RTSP/ and ICE/: only HTTP/ is ours.
    cdef RequestParser self = <RequestParser>parser.data
    cdef size_t i
    if self.section_too_large(at + length):
        return self.refuse_too_large()
    for i in range(length):
        if self.protocol_length == 4 or at[i] != b"HTTP"[self.protocol_length]:
            return self.refuse(BadRequest, "Expected HTTP/")
        self.protocol_length += 1
    return 0


cdef int on_version(ll.llhttp_t* parser, const char* at, size_t length) noexcept:
    cdef RequestParser self = <RequestParser>parser.data
    if self.section_too_large(at + length):
        return self.refuse_too_large()
    return 0


cdef int on_version_complete(ll.llhttp_t* parser) noexcept:
    # llhttp has already refused what is not 0.9, 1.x or 2.0; refuse 0.9 and 2.0 too.
    if parser.http_major != 1 or parser.http_minor > 1:
        return (<RequestParser>parser.data).refuse(VersionNotSupported, "Invalid HTTP version")
    return 0


cdef int on_header_field(ll.llhttp_t* parser, const char* at, size_t length) noexcept:
    cdef RequestParser self = <RequestParser>parser.data
    cdef Field* field
    if length == 0:  # a span cut at a feed boundary or flushed before an error: no name yet
        return 0
    if not self.in_field_name:
        if not self.in_section:  # the first trailer field starts the trailer section
            self.start_section(at)
        if self.new_field():
            return ll.HPE_USER
        self.in_field_name = True
    if self.section_too_large(at + length):
        return self.refuse_too_large()
    if self.append(at, length):
        return ll.HPE_USER
    field = &self.fields[self.field_count - 1]
    field.name_length += length
    field.value_start = self.buffer_length
    return 0


cdef int on_header_value(ll.llhttp_t* parser, const char* at, size_t length) noexcept:
    cdef RequestParser self = <RequestParser>parser.data
    self.in_field_name = False
    if self.section_too_large(at + length):
        return self.refuse_too_large()
    if self.append(at, length):
        return ll.HPE_USER
    self.fields[self.field_count - 1].value_length += length
    return 0


cdef int on_header_value_complete(ll.llhttp_t* parser) noexcept:
    # llhttp keeps the whitespace after a value in it; the field value excludes it.
    cdef RequestParser self = <RequestParser>parser.data
    cdef Field* field = &self.fields[self.field_count - 1]
    while field.value_length and is_ows(self.buffer[field.value_start + field.value_length - 1]):
        field.value_length -= 1
    self.in_field_name = False
    return 0


cdef int on_headers_complete(ll.llhttp_t* parser) noexcept:
    (<RequestParser>parser.data).pause_reason = PAUSE_HEAD
    return ll.HPE_PAUSED


cdef int on_chunk_header(ll.llhttp_t* parser) noexcept:
    # parser.content_length is this chunk's size; body_bytes never passes the limit.
    cdef RequestParser self = <RequestParser>parser.data
    if self.max_body_size != NO_LIMIT:
        if parser.content_length > <unsigned long long>self.max_body_size - self.body_bytes:
            return self.refuse(PayloadTooLarge, "chunked body over the body size limit")
        self.body_bytes += parser.content_length
    return 0


cdef int on_body(ll.llhttp_t* parser, const char* at, size_t length) noexcept:
    cdef RequestParser self = <RequestParser>parser.data
    try:
        self.events.append(PyBytes_FromStringAndSize(at, length))
    except BaseException as exc:  # MemoryError
        self.callback_error = exc
        return ll.HPE_USER
    return 0


cdef int on_message_complete(ll.llhttp_t* parser) noexcept:
    # An upgrade ends in llhttp's own HPE_PAUSED_UPGRADE; anything else pauses here.
    if parser.upgrade:
        return 0
    (<RequestParser>parser.data).pause_reason = PAUSE_END
    return ll.HPE_PAUSED


cdef ll.llhttp_settings_t SETTINGS
ll.llhttp_settings_init(&SETTINGS)
SETTINGS.on_method = on_method
SETTINGS.on_url = on_url
SETTINGS.on_protocol = on_protocol
SETTINGS.on_version = on_version
SETTINGS.on_version_complete = on_version_complete
SETTINGS.on_header_field = on_header_field
SETTINGS.on_header_value = on_header_value
SETTINGS.on_header_value_complete = on_header_value_complete
SETTINGS.on_headers_complete = on_headers_complete
SETTINGS.on_chunk_header = on_chunk_header
SETTINGS.on_body = on_body
SETTINGS.on_message_complete = on_message_complete
