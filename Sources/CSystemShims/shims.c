#define _GNU_SOURCE
#include "CSystemShims.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>


int rh_pty_open_master(char *name, size_t name_length) {
    int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return -errno;
    if (grantpt(fd) != 0 || unlockpt(fd) != 0 || ptsname_r(fd, name, name_length) != 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    return fd;
}

int rh_tty_set_exclusive(int fd, int exclusive) {
    return ioctl(fd, exclusive ? TIOCEXCL : TIOCNXCL) == 0 ? 0 : -errno;
}

int rh_tty_output_queue(int fd, int *bytes) {
    return ioctl(fd, TIOCOUTQ, bytes) == 0 ? 0 : -errno;
}

int rh_tty_input_queue(int fd, int *bytes) {
    return ioctl(fd, FIONREAD, bytes) == 0 ? 0 : -errno;
}

int rh_terminal_size(int fd, int *columns, int *rows) {
    struct winsize size;
    if (ioctl(fd, TIOCGWINSZ, &size) != 0) return -errno;
    *columns = size.ws_col;
    *rows = size.ws_row;
    return 0;
}

int rh_poll_one(int fd, short events, int64_t timeout_ns) {
    struct pollfd descriptor = {.fd = fd, .events = events, .revents = 0};
    struct timespec timeout;
    struct timespec *timeout_pointer = NULL;
    if (timeout_ns >= 0) {
        timeout.tv_sec = (time_t)(timeout_ns / 1000000000LL);
        timeout.tv_nsec = (long)(timeout_ns % 1000000000LL);
        timeout_pointer = &timeout;
    }
    int result = ppoll(&descriptor, 1, timeout_pointer, NULL);
    if (result < 0) return -errno;
    return result == 0 ? 0 : descriptor.revents;
}

int rh_poll_readable(const int *fds, size_t count, int64_t timeout_ns, short *revents) {
    struct pollfd descriptors[256];
    if (count > 256) return -EINVAL;
    for (size_t index = 0; index < count; index++) {
        descriptors[index].fd = fds[index];
        descriptors[index].events = POLLIN;
        descriptors[index].revents = 0;
    }
    struct timespec timeout;
    struct timespec *timeout_pointer = NULL;
    if (timeout_ns >= 0) {
        timeout.tv_sec = (time_t)(timeout_ns / 1000000000LL);
        timeout.tv_nsec = (long)(timeout_ns % 1000000000LL);
        timeout_pointer = &timeout;
    }
    int result = ppoll(descriptors, (nfds_t)count, timeout_pointer, NULL);
    if (result < 0) return -errno;
    for (size_t index = 0; index < count; index++) revents[index] = result == 0 ? 0 : descriptors[index].revents;
    return result;
}

int rh_set_timer_slack_ns(unsigned long nanoseconds) {
    return prctl(PR_SET_TIMERSLACK, nanoseconds, 0, 0, 0) == 0 ? 0 : -errno;
}

long rh_get_timer_slack_ns(void) {
    int result = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    return result < 0 ? -errno : result;
}

int rh_set_parent_death_signal(int signal_number) {
    return prctl(PR_SET_PDEATHSIG, signal_number, 0, 0, 0) == 0 ? 0 : -errno;
}

int rh_set_current_thread_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    int result = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    return result == 0 ? 0 : -result;
}

int rh_make_current_thread_normal(int reserved_cpu) {
    struct sched_param parameters = {.sched_priority = 0};
    int result = pthread_setschedparam(pthread_self(), SCHED_OTHER, &parameters);
    cpu_set_t inherited;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (online > 1 && pthread_getaffinity_np(pthread_self(), sizeof(inherited), &inherited) == 0) {
        // Keep off the reserved CPU, or off the one CPU inherited from a pinned creator.
        int avoided = reserved_cpu;
        if (avoided < 0 && CPU_COUNT(&inherited) == 1) {
            for (long cpu = 0; cpu < online && cpu < CPU_SETSIZE; cpu++) {
                if (CPU_ISSET(cpu, &inherited)) avoided = (int)cpu;
            }
        }
        if (avoided >= 0) {
            cpu_set_t others;
            CPU_ZERO(&others);
            for (long cpu = 0; cpu < online && cpu < CPU_SETSIZE; cpu++) {
                if (cpu != avoided) CPU_SET(cpu, &others);
            }
            pthread_setaffinity_np(pthread_self(), sizeof(others), &others);
        }
    }
    return result == 0 ? 0 : -result;
}

int rh_current_thread_cpu_mask(unsigned long long *mask) {
    cpu_set_t set;
    int result = pthread_getaffinity_np(pthread_self(), sizeof(set), &set);
    if (result != 0) return -result;
    *mask = 0;
    for (int cpu = 0; cpu < 64 && cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, &set)) *mask |= 1ULL << cpu;
    }
    return 0;
}

int rh_online_cpu_count(void) {
    long count = sysconf(_SC_NPROCESSORS_ONLN);
    return count < 0 ? -errno : (int)count;
}

int rh_set_current_thread_name(const char *name) {
    int result = pthread_setname_np(pthread_self(), name);
    return result == 0 ? 0 : -result;
}

int rh_set_current_thread_fifo(int priority) {
    struct sched_param parameters = {.sched_priority = priority};
    int result = pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters);
    return result == 0 ? 0 : -result;
}

int rh_current_thread_policy(int *policy, int *priority) {
    struct sched_param parameters;
    int result = pthread_getschedparam(pthread_self(), policy, &parameters);
    if (result != 0) return -result;
    *priority = parameters.sched_priority;
    return 0;
}

int rh_fifo_priority_max(void) {
    return sched_get_priority_max(SCHED_FIFO);
}

int rh_lock_all_memory(void) {
    return mlockall(MCL_CURRENT | MCL_FUTURE) == 0 ? 0 : -errno;
}

void rh_prefault_stack(size_t bytes) {
    volatile unsigned char *region = __builtin_alloca(bytes);
    for (size_t offset = 0; offset < bytes; offset += 4096) region[offset] = 0;
}

int rh_current_cpu(void) {
    int cpu = sched_getcpu();
    return cpu < 0 ? -errno : cpu;
}

int rh_rtprio_limit(uint64_t *soft) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_RTPRIO, &limit) != 0) return -errno;
    *soft = limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)limit.rlim_cur;
    return 0;
}

int rh_memlock_limit(uint64_t *soft) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_MEMLOCK, &limit) != 0) return -errno;
    *soft = limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)limit.rlim_cur;
    return 0;
}

int rh_hold_cpu_dma_latency_zero(void) {
    int fd = open("/dev/cpu_dma_latency", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int32_t zero = 0;
    if (write(fd, &zero, sizeof zero) != (ssize_t)sizeof zero) {
        int error = errno;
        close(fd);
        return -error;
    }
    return fd;
}

void rh_seqlock_publish(uint64_t *sequence, uint64_t *words, const uint64_t *source, size_t count) {
    uint64_t start = __atomic_load_n(sequence, __ATOMIC_RELAXED);
    __atomic_store_n(sequence, start + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    for (size_t i = 0; i < count; i++) __atomic_store_n(&words[i], source[i], __ATOMIC_RELAXED);
    __atomic_store_n(sequence, start + 2, __ATOMIC_RELEASE);
}

int rh_seqlock_snapshot(const uint64_t *sequence, const uint64_t *words, uint64_t *destination, size_t count) {
    uint64_t before = __atomic_load_n(sequence, __ATOMIC_ACQUIRE);
    if (before & 1) return 0;
    for (size_t i = 0; i < count; i++) destination[i] = __atomic_load_n(&words[i], __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return __atomic_load_n(sequence, __ATOMIC_RELAXED) == before;
}

static int rh_unix_address(const char *path, struct sockaddr_un *address) {
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof address->sun_path) return -ENAMETOOLONG;
    strcpy(address->sun_path, path);
    return 0;
}

int rh_unix_listen(const char *path, unsigned int mode, int64_t group, int backlog) {
    struct sockaddr_un address;
    int status = rh_unix_address(path, &address);
    if (status < 0) return status;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    // The socket file never exists with wider permissions than asked, not even for a moment.
    mode_t previous = umask(0177);
    int bound = bind(fd, (struct sockaddr *)&address, sizeof address);
    int bind_error = errno;
    umask(previous);
    if (bound < 0 || (group >= 0 && chown(path, (uid_t)-1, (gid_t)group) < 0) || chmod(path, (mode_t)mode) < 0
        || listen(fd, backlog) < 0) {
        int error = bound < 0 ? bind_error : errno;
        if (bound == 0) unlink(path);
        close(fd);
        return -error;
    }
    return fd;
}

int rh_unix_connect(const char *path) {
    struct sockaddr_un address;
    int status = rh_unix_address(path, &address);
    if (status < 0) return status;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    return fd;
}

int rh_unix_accept(int listener) {
    int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int rh_unix_peer(int fd, int32_t *pid, uint32_t *uid, uint32_t *gid) {
    struct ucred credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) < 0) return -errno;
    *pid = credentials.pid;
    *uid = credentials.uid;
    *gid = credentials.gid;
    return 0;
}
