#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include "imprint_tty.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static speed_t speed_for(unsigned baud) {
  switch (baud) {
    case 9600:
      return B9600;
    case 19200:
      return B19200;
    case 38400:
      return B38400;
    case 57600:
      return B57600;
    case 115200:
      return B115200;
    case 230400:
      return B230400;
    case 460800:
      return B460800;
    case 921600:
      return B921600;
    default:
      return 0;
  }
}

static int make_raw(int fd, unsigned baud) {
  struct termios t;
  if (tcgetattr(fd, &t) != 0) return -1;
  cfmakeraw(&t);
  t.c_cflag |= CLOCAL | CREAD;
  t.c_cflag &= ~(tcflag_t)CRTSCTS;
  if (baud != 0) {
    speed_t speed = speed_for(baud);
    if (speed == 0 || cfsetspeed(&t, speed) != 0) return -1;
  }
  return tcsetattr(fd, TCSANOW, &t);
}

int imprint_tty_open(const char *path, unsigned baud) {
  int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  if (make_raw(fd, baud) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int imprint_pty_open(char *path, size_t cap, int *keep_open) {
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0) return -1;
  const char *name = NULL;
  if (grantpt(master) != 0 || unlockpt(master) != 0 || (name = ptsname(master)) == NULL ||
      strlen(name) + 1 > cap) {
    close(master);
    return -1;
  }
  snprintf(path, cap, "%s", name);
  int other = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (other < 0 || make_raw(other, 0) != 0 ||
      fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK) != 0 ||
      fcntl(master, F_SETFD, FD_CLOEXEC) != 0) {
    if (other >= 0) close(other);
    close(master);
    return -1;
  }
  *keep_open = other;
  return master;
}

void imprint_tty_write(int fd, const unsigned char *bytes, size_t len) {
  int waited = 0;
  while (len > 0 && waited < 1000) {
    ssize_t n = write(fd, bytes, len);
    if (n > 0) {
      bytes += n;
      len -= (size_t)n;
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) return;
    struct pollfd p = {fd, POLLOUT, 0};
    poll(&p, 1, 50);
    waited += 50;
  }
}
