"""The process's memory allocator, set for columns of ten million values.

glibc gives every allocation above 32 MB pages of its own (mmap) and hands them back to the
kernel when it is freed, so each column an upload builds page-faults afresh: at ten million
deals, 9 of the 26 CPU-seconds of an upload were kernel time. Allocations up to 256 MB are
kept on the heap instead, and up to 512 MB of free heap is kept for the next column; Arrow
allocates through the same allocator (not its bundled mimalloc), so its buffers reuse those
pages too. Measured by benchmarks/upload.py at 10M deals: 10.2 s -> 8.7 s, and a lower peak.
Linux with glibc only; elsewhere nothing is changed.
"""

from __future__ import annotations

import ctypes
import platform

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
HEAP_ALLOCATION_MAX = 256 << 20
FREE_HEAP_KEPT = 512 << 20


def tune() -> bool:
    """Set the thresholds above for this process; False where the C library is not glibc."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        done = (libc.mallopt(_M_MMAP_THRESHOLD, HEAP_ALLOCATION_MAX) == 1
                and libc.mallopt(_M_TRIM_THRESHOLD, FREE_HEAP_KEPT) == 1)
    except (OSError, AttributeError):
        return False
    if done:
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())
    return done
