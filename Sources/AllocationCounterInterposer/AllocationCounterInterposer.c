#define _GNU_SOURCE
#include "AllocationCounterInterposer.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

// glibc's allocator entry points (exported since GLIBC_2.2.5), used to forward every call.
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);
extern void __libc_free(void *pointer);

// initial-exec TLS: reading it never allocates (no __tls_get_addr, no lazily allocated TLS block),
// so it is safe inside malloc itself. A library loaded at start-up (LD_PRELOAD) gets its
// initial-exec TLS in the static TLS block; this one is never dlopen'ed.
static __thread uint64_t thread_count __attribute__((tls_model("initial-exec")));
static uint64_t process_count;
static int active;

static inline void count(void) {
    thread_count++;
    __atomic_fetch_add(&process_count, 1, __ATOMIC_RELAXED);
    if (!__atomic_load_n(&active, __ATOMIC_RELAXED)) __atomic_store_n(&active, 1, __ATOMIC_RELAXED);
}

void *malloc(size_t size) {
    count();
    return __libc_malloc(size);
}

void *calloc(size_t number, size_t size) {
    count();
    return __libc_calloc(number, size);
}

void *realloc(void *pointer, size_t size) {
    count();
    return __libc_realloc(pointer, size);
}

void *memalign(size_t alignment, size_t size) {
    count();
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    count();
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
    count();
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL && size != 0) return ENOMEM;
    *result = pointer;
    return 0;
}

void *valloc(size_t size) {
    count();
    return __libc_valloc(size);
}

void *pvalloc(size_t size) {
    count();
    return __libc_pvalloc(size);
}

void free(void *pointer) {
    __libc_free(pointer);
}

uint64_t rh_interposer_thread_allocations(void) {
    return thread_count;
}

uint64_t rh_interposer_process_allocations(void) {
    return __atomic_load_n(&process_count, __ATOMIC_RELAXED);
}

int rh_interposer_counting_active(void) {
    return __atomic_load_n(&active, __ATOMIC_RELAXED);
}
