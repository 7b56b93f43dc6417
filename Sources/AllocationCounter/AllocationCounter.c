#define _GNU_SOURCE
#include "AllocationCounter.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>

// AllocationCounterInterposer's functions. Weak: a binary that links the interposer (the tests)
// resolves them at link time, whether or not the executable exports its symbols; one that does not
// (rehabctl) gets NULL here and looks them up in the process instead, where LD_PRELOAD put them.
extern uint64_t rh_interposer_thread_allocations(void) __attribute__((weak));
extern uint64_t rh_interposer_process_allocations(void) __attribute__((weak));
extern int rh_interposer_counting_active(void) __attribute__((weak));

typedef uint64_t (*count_function)(void);
typedef int (*flag_function)(void);

// Set once (the constructor below, or the first query before it ran), read on every query: two
// per control cycle, so a load and an indirect call, no lookup.
static count_function thread_function;
static count_function process_function;
static flag_function active_function;
static int resolved;

static void *look_up(const char *name) {
    void *address = dlsym(RTLD_DEFAULT, name);
    (void)dlerror(); // a failed lookup leaves an error behind; clear it for whoever asks next
    return address;
}

static void resolve(void) {
    if (__atomic_load_n(&resolved, __ATOMIC_ACQUIRE)) return;
    count_function thread = rh_interposer_thread_allocations;
    count_function process = rh_interposer_process_allocations;
    flag_function active = rh_interposer_counting_active;
    if (thread == NULL || process == NULL || active == NULL) {
        thread = (count_function)look_up("rh_interposer_thread_allocations");
        process = (count_function)look_up("rh_interposer_process_allocations");
        active = (flag_function)look_up("rh_interposer_counting_active");
    }
    // All three or none: a partial set is not the interposer.
    if (thread != NULL && process != NULL && active != NULL) {
        __atomic_store_n(&thread_function, thread, __ATOMIC_RELAXED);
        __atomic_store_n(&process_function, process, __ATOMIC_RELAXED);
        __atomic_store_n(&active_function, active, __ATOMIC_RELAXED);
    }
    // Racing first calls compute the same answer; the release publishes the pointers.
    __atomic_store_n(&resolved, 1, __ATOMIC_RELEASE);
}

// Looked up at load time, before main: never inside a measured control cycle (dlsym may allocate).
__attribute__((constructor)) static void resolve_at_load(void) {
    resolve();
}

uint64_t rh_thread_allocations(void) {
    resolve();
    count_function function = __atomic_load_n(&thread_function, __ATOMIC_RELAXED);
    return function != NULL ? function() : 0;
}

uint64_t rh_process_allocations(void) {
    resolve();
    count_function function = __atomic_load_n(&process_function, __ATOMIC_RELAXED);
    return function != NULL ? function() : 0;
}

int rh_allocation_counting_active(void) {
    resolve();
    flag_function function = __atomic_load_n(&active_function, __ATOMIC_RELAXED);
    return function != NULL ? function() : 0;
}

int rh_allocation_counter_loaded(void) {
    resolve();
    return __atomic_load_n(&thread_function, __ATOMIC_RELAXED) != NULL;
}
