"""The allocator is set once Handoff is imported (on this Linux, glibc's), and Arrow's
buffers come from it, so a ten-million-row upload reuses pages instead of faulting afresh."""

import platform

import pyarrow as pa

import handoff  # noqa: F401  (importing it is what sets the allocator)
from handoff import allocator


def test_arrow_allocates_through_the_tuned_system_allocator():
    if platform.libc_ver()[0] != "glibc":  # the CI machine is Debian: this branch is not taken
        assert allocator.tune() is False
        return
    assert allocator.tune() is True
    assert pa.default_memory_pool().backend_name == "system"
    before = pa.total_allocated_bytes()
    buffer = pa.allocate_buffer(1 << 20)
    assert pa.total_allocated_bytes() - before >= 1 << 20
    del buffer
