// What Swift cannot import from zlib's header directly: inflateInit2 is a
// function-like macro (it passes the library version and the stream's size).
// Every name here carries the `czlib_` prefix.
#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H

#include <zlib.h>

/// Starts inflating gzip members (window bits 15, +16 for the gzip wrapper).
static inline int czlib_inflate_init_gzip(z_streamp stream) { return inflateInit2(stream, 16 + MAX_WBITS); }

#endif
