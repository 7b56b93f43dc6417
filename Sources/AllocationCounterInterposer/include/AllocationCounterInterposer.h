// Replaces the C allocator to count heap allocations, per thread and per process.
//
// This target defines malloc, calloc, realloc, the aligned allocators and free: whatever links it
// (the test binaries) or preloads it (libRehabHostAllocationCounter.so, which `rehabctl bench` and
// `rehabctl demo` put in LD_PRELOAD when they re-execute themselves) has every allocation of the
// process counted and forwarded to glibc's own allocator (__libc_malloc and friends). free is not
// counted. rehabctl itself never links it: `rehabctl run` drives patients' robots on the plain
// glibc allocator.
//
// Read the counts through AllocationCounter (rh_thread_allocations and friends), which finds these
// functions in the process and answers 0 without them.
#ifndef REHABHOST_ALLOCATION_COUNTER_INTERPOSER_H
#define REHABHOST_ALLOCATION_COUNTER_INTERPOSER_H

#include <stdint.h>

/// Allocations made by the calling thread since it started.
uint64_t rh_interposer_thread_allocations(void);
/// Allocations made by every thread of the process.
uint64_t rh_interposer_process_allocations(void);
/// 1 once an allocation went through the interposed allocator, else 0.
int rh_interposer_counting_active(void);

#endif
