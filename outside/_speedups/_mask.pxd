# The compiled WebSocket mask, cimported by the compiled frame codec (_frames.pxd).
cpdef mask_in_place(object data, bytes mask)
cpdef bytes apply_mask(object data, bytes mask)
