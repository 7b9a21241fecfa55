/*
 * boilerhouse-gate: the first process of every Boilerhouse instance.
 *
 *   boilerhouse-gate FIFO -- COMMAND [ARG...]
 *
 * It blocks (using no CPU) reading FIFO until Boilerhouse writes to it, which it does once the tenant's
 * state is in place, then replaces itself with COMMAND: the workload's own entrypoint and command, with the
 * container's user and working directory untouched. So a warm container can be created and started ahead
 * of time, and any image works unchanged.
 *
 * The message is the byte 'g', then any number of "KEY=VALUE\0" entries added to the environment (values
 * only known at claim time, such as the tenant's id), up to 64 KiB, ended by the writer closing the FIFO.
 *
 * Statically linked: it runs in images that have no libc, shell or anything else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GO 'g'
#define MAX_MESSAGE 65536

static char message[MAX_MESSAGE + 1];

int main(int argc, char **argv) {
  if (argc < 4 || strcmp(argv[2], "--") != 0) {
    fprintf(stderr, "usage: %s FIFO -- COMMAND [ARG...]\n", argv[0]);
    return 125;
  }
  int fd;
  do {
    fd = open(argv[1], O_RDONLY);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    fprintf(stderr, "boilerhouse-gate: cannot open %s: %s\n", argv[1], strerror(errno));
    return 125;
  }
  size_t length = 0;
  for (;;) {
    ssize_t got = read(fd, message + length, MAX_MESSAGE - length);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    length += (size_t)got;
    if (length == MAX_MESSAGE) break;
  }
  close(fd);
  if (length == 0 || message[0] != GO) {
    /* Closed without the go byte: Boilerhouse gave up on this instance. */
    fprintf(stderr, "boilerhouse-gate: gate closed without a start signal\n");
    return 125;
  }
  message[length] = '\0';
  for (size_t at = 1; at < length;) {
    char *entry = message + at;
    size_t size = strlen(entry);
    char *equals = strchr(entry, '=');
    if (equals != NULL && equals != entry) {
      *equals = '\0';
      setenv(entry, equals + 1, 1);
    }
    at += size + 1;
  }
  execvp(argv[3], argv + 3);
  fprintf(stderr, "boilerhouse-gate: cannot run %s: %s\n", argv[3], strerror(errno));
  return errno == ENOENT ? 127 : 126;
}
