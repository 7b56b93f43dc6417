// Counts heap allocations, per thread and per process: the zero-allocation proof.
//
// The counting itself is AllocationCounterInterposer's: it replaces malloc and friends, and only
// measurement paths have it (the test binaries link it; `rehabctl bench` and `rehabctl demo` re-execute
// themselves with libRehabHostAllocationCounter.so in LD_PRELOAD). This target only reads its counts:
// it finds the interposer's functions once (linked into the same binary, or loaded in the process,
// through dlsym) and answers 0 without it. So rehabctl, which links this, keeps glibc's allocator;
// `rehabctl run` never loads the interposer. The control loop reads its thread's count before and
// after each cycle: the proof that a cycle allocates nothing.
#ifndef REHABHOST_ALLOCATION_COUNTER_H
#define REHABHOST_ALLOCATION_COUNTER_H

#include <stdint.h>

/// Allocations made by the calling thread since it started (0 without the interposer).
uint64_t rh_thread_allocations(void);
/// Allocations made by every thread of the process (0 without the interposer).
uint64_t rh_process_allocations(void);
/// 1 when the interposed allocator is in use (the counts mean something), else 0.
int rh_allocation_counting_active(void);
/// 1 when the interposer is in this process (linked or preloaded), whether or not it counted yet.
int rh_allocation_counter_loaded(void);

#endif
