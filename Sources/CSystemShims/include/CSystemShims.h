// Thin C shims for Linux calls that Swift cannot import directly (variadic ioctl/prctl, macros,
// struct termios2 which clashes with glibc's termios). Each returns 0 or a non-negative result on
// success and -errno on failure, so Swift never reads a stale errno.
#ifndef REHABHOST_CSYSTEMSHIMS_H
#define REHABHOST_CSYSTEMSHIMS_H

#include <stddef.h>
#include <stdint.h>


// Pseudo-terminals: opens a master (O_RDWR|O_NOCTTY|O_CLOEXEC|O_NONBLOCK), unlocks it and writes the
// slave path into name. Returns the master fd or -errno.
int rh_pty_open_master(char *name, size_t name_length);

// Terminal ioctls.
int rh_tty_set_exclusive(int fd, int exclusive);        // TIOCEXCL / TIOCNXCL
int rh_tty_output_queue(int fd, int *bytes);            // TIOCOUTQ
int rh_tty_input_queue(int fd, int *bytes);             // FIONREAD
int rh_terminal_size(int fd, int *columns, int *rows);  // TIOCGWINSZ
int rh_tty_set_baud(int fd, uint32_t bits_per_second);  // termios2 with BOTHER: any rate the driver supports
int rh_tty_get_baud(int fd, uint32_t *input, uint32_t *output);

// poll(2) on one descriptor with a nanosecond timeout (ppoll); timeout_ns < 0 waits forever.
// Returns the revents (0 on timeout) or -errno.
int rh_poll_one(int fd, short events, int64_t timeout_ns);
// ppoll(2) for input (POLLIN) on `count` descriptors (at most 256) with a nanosecond timeout;
// timeout_ns < 0 waits forever, a negative descriptor is ignored. Writes each descriptor's revents
// to `revents` (0 when not ready). Returns how many are ready (0 on timeout) or -errno.
int rh_poll_readable(const int *fds, size_t count, int64_t timeout_ns, short *revents);

// Process and thread controls (prctl, affinity).
int rh_set_timer_slack_ns(unsigned long nanoseconds);
long rh_get_timer_slack_ns(void);
int rh_set_parent_death_signal(int signal_number);
int rh_set_current_thread_cpu(int cpu);
int rh_online_cpu_count(void);
// SCHED_OTHER, and off the CPU it inherited when that was a single pinned CPU (a helper thread
// started by the control thread must not compete with it).
/// Normal scheduling; affinity: every online CPU but reserved_cpu (>= 0), or, when reserved_cpu < 0
/// and the thread inherited exactly one CPU, every CPU but that one.
int rh_make_current_thread_normal(int reserved_cpu);
/// The calling thread's CPUs 0…63 as a bit mask.
int rh_current_thread_cpu_mask(unsigned long long *mask);
int rh_set_current_thread_name(const char *name);  // pthread_setname_np, ≤ 15 characters

// Real-time scheduling of the calling thread.
int rh_set_current_thread_fifo(int priority);   // pthread_setschedparam(SCHED_FIFO)
int rh_current_thread_policy(int *policy, int *priority);
int rh_fifo_priority_max(void);
int rh_lock_all_memory(void);                   // mlockall(MCL_CURRENT | MCL_FUTURE)
// Touches `bytes` of stack below the caller so that the pages are present (and locked).
void rh_prefault_stack(size_t bytes);
int rh_current_cpu(void);                       // sched_getcpu

// Resource limits: RLIMIT_RTPRIO / RLIMIT_MEMLOCK (soft values; UINT64_MAX = unlimited).
int rh_rtprio_limit(uint64_t *soft);
int rh_memlock_limit(uint64_t *soft);
// Opens /dev/cpu_dma_latency and writes 0 µs; the request holds while the descriptor stays open.
int rh_hold_cpu_dma_latency_zero(void);

// A single-writer sequence lock over `count` 64-bit words (every access atomic, so a reader on
// another thread never sees a torn value and never blocks the writer).
void rh_seqlock_publish(uint64_t *sequence, uint64_t *words, const uint64_t *source, size_t count);
// Copies a consistent snapshot into `destination`; returns 1, or 0 when a write overlapped (retry).
int rh_seqlock_snapshot(const uint64_t *sequence, const uint64_t *words, uint64_t *destination, size_t count);

// Unix domain stream sockets (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC). Return a descriptor or -errno.
// The socket file is created 0600 (umask 0177 around bind), then given `group` (unless negative)
// and `mode`, all before listen(2): no client can connect while the permissions are wider.
int rh_unix_listen(const char *path, unsigned int mode, int64_t group, int backlog);
int rh_unix_connect(const char *path);
int rh_unix_accept(int listener);
// The connected peer's pid, uid and gid (SO_PEERCRED); 0 or -errno.
int rh_unix_peer(int fd, int32_t *pid, uint32_t *uid, uint32_t *gid);

#endif
