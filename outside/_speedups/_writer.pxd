# C types for the compiled twin of outside/http/writer.py (Cython pure-Python mode).
# The build compiles a copy of that file as outside/_speedups/_writer.py; this file gives it
# its types, and nothing else differs.
cimport cython

cdef dict _checked_names
cdef dict _status_lines
cdef tuple _own_lines

@cython.locals(lines=list, has_type=bint, breaks=Py_ssize_t, text=str, now=long, second=long)
cpdef write_head(status, fields, request_method=*, request_version=*, keep_alive=*, length=*,
                 default_type=*, extra=*, forbidden=*, reason=*, cls=*)
