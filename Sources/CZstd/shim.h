// zstd's stable API only (no ZSTD_STATIC_LINKING_ONLY): Debian's libzstd is a shared library.
#include <zstd.h>
