// Counts heap allocations, per thread and per process, by interposing the C allocator.
//
// Linking this target into an executable replaces malloc, calloc, realloc and the aligned
// allocators for the whole process (ELF symbol interposition); each call is counted and forwarded
// to glibc's own allocator (__libc_malloc and friends). free is not counted. The control loop reads
// its thread's count before and after each cycle: the proof that a cycle allocates nothing.
#ifndef REHABHOST_ALLOCATION_COUNTER_H
#define REHABHOST_ALLOCATION_COUNTER_H

#include <stdint.h>

/// Allocations made by the calling thread since it started.
uint64_t rh_thread_allocations(void);
/// Allocations made by every thread of the process.
uint64_t rh_process_allocations(void);
/// 1 when the interposed allocator is in use (the counts mean something), else 0.
int rh_allocation_counting_active(void);

#endif
