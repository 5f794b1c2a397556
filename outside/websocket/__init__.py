"""Sans-I/O WebSocket (RFC 6455): frames, masking, handshake, permessage-deflate, protocol."""
