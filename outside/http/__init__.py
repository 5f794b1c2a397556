"""Sans-I/O HTTP/1.1: request parsing, its errors, status phrases. No sockets here."""
