// Custom baud rates through struct termios2 (BOTHER). Kept apart from shims.c because
// <asm/termbits.h> clashes with glibc's <termios.h>.
#include <asm/ioctls.h>
#include <asm/termbits.h>
#include <errno.h>
#include <stdint.h>

int ioctl(int fd, unsigned long request, ...);

int rh_tty_set_baud(int fd, uint32_t bits_per_second) {
    struct termios2 settings;
    if (ioctl(fd, TCGETS2, &settings) != 0) return -errno;
    settings.c_cflag &= ~CBAUD;
    settings.c_cflag |= BOTHER;
    settings.c_cflag &= ~(CBAUD << IBSHIFT);
    settings.c_cflag |= BOTHER << IBSHIFT;
    settings.c_ispeed = bits_per_second;
    settings.c_ospeed = bits_per_second;
    if (ioctl(fd, TCSETS2, &settings) != 0) return -errno;
    return 0;
}

int rh_tty_get_baud(int fd, uint32_t *input, uint32_t *output) {
    struct termios2 settings;
    if (ioctl(fd, TCGETS2, &settings) != 0) return -errno;
    *input = settings.c_ispeed;
    *output = settings.c_ospeed;
    return 0;
}
