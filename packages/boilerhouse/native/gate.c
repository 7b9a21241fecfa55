/*
 * boilerhouse-gate: the first process of every Boilerhouse instance.
 *
 *   boilerhouse-gate RUN_DIR HEALTH_ARGC [HEALTH_ARG...] -- COMMAND [ARG...]
 *
 * It blocks (using no CPU) reading RUN_DIR/start until Boilerhouse writes to it, which it does once the
 * tenant's state is in place, then replaces itself with COMMAND: the workload's own entrypoint and command,
 * with the container's user and working directory untouched. So a warm container can be created and
 * started ahead of time, and any image works unchanged.
 *
 * The start message is the byte 'g', then any number of "KEY=VALUE\0" entries added to the environment
 * (values only known at claim time, such as the tenant's id), up to 64 KiB, ended by the writer closing.
 *
 * With HEALTH_ARGC > 0 it first forks a health agent that runs the workload's health test on request:
 * Boilerhouse writes "ID TIMEOUT_MS\n" to RUN_DIR/health-request and reads "ID EXIT_CODE LENGTH\n" and
 * LENGTH bytes of output from RUN_DIR/health-response. A fork inside the container costs a few
 * milliseconds where `docker exec` costs 60-90; exit code 124 means the test timed out and was killed.
 *
 * Statically linked: it runs in images that have no libc, shell or anything else.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GO 'g'
#define MAX_MESSAGE 65536
#define MAX_OUTPUT 4096

static char message[MAX_MESSAGE + 1];

static int open_retrying(const char *path, int flags) {
  int fd;
  do {
    fd = open(path, flags);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

static void write_all(int fd, const char *data, size_t length) {
  while (length > 0) {
    ssize_t wrote = write(fd, data, length);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return;
    data += wrote;
    length -= (size_t)wrote;
  }
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Runs the health test once; returns its exit code (124 on timeout) and up to MAX_OUTPUT bytes of output. */
static int run_health_test(char **argv, long timeout_ms, char *output, size_t *output_length) {
  int pipe_fds[2];
  *output_length = 0;
  if (pipe(pipe_fds) != 0) return 125;
  pid_t pid = fork();
  if (pid < 0) {
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return 125;
  }
  if (pid == 0) {
    setpgid(0, 0);
    signal(SIGPIPE, SIG_DFL);
    dup2(pipe_fds[1], STDOUT_FILENO);
    dup2(pipe_fds[1], STDERR_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    execvp(argv[0], argv);
    fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  close(pipe_fds[1]);
  long deadline = now_ms() + timeout_ms;
  int timed_out = 0;
  char buffer[1024];
  for (;;) {
    long left = deadline - now_ms();
    if (left <= 0) {
      timed_out = 1;
      break;
    }
    struct pollfd reader = {.fd = pipe_fds[0], .events = POLLIN};
    int ready = poll(&reader, 1, (int)left);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    ssize_t got = read(pipe_fds[0], buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break; /* the test closed its output: it is done or about to be */
    /* Keep the last MAX_OUTPUT bytes. */
    for (ssize_t i = 0; i < got; i++) {
      if (*output_length == MAX_OUTPUT) {
        memmove(output, output + 1, MAX_OUTPUT - 1);
        (*output_length)--;
      }
      output[(*output_length)++] = buffer[i];
    }
  }
  close(pipe_fds[0]);
  if (timed_out) kill(-pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return 124;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* The health agent: serves health-test requests until the container ends. Never returns. */
static void serve_health(const char *run_dir, char **argv) {
  char request_path[4096], response_path[4096];
  snprintf(request_path, sizeof request_path, "%s/health-request", run_dir);
  snprintf(response_path, sizeof response_path, "%s/health-response", run_dir);
  signal(SIGPIPE, SIG_IGN);
  static char output[MAX_OUTPUT];
  for (;;) {
    int fd = open_retrying(request_path, O_RDONLY);
    if (fd < 0) _exit(125);
    char request[64];
    size_t length = 0;
    for (;;) {
      ssize_t got = read(fd, request + length, sizeof request - 1 - length);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      length += (size_t)got;
      if (memchr(request, '\n', length) != NULL || length == sizeof request - 1) break;
    }
    close(fd);
    request[length] = '\0';
    unsigned long id = 0;
    long timeout_ms = 0;
    if (sscanf(request, "%lu %ld", &id, &timeout_ms) != 2 || timeout_ms <= 0) continue;
    size_t output_length = 0;
    int code = run_health_test(argv, timeout_ms, output, &output_length);
    int out = open_retrying(response_path, O_WRONLY);
    if (out < 0) continue;
    char head[64];
    int head_length = snprintf(head, sizeof head, "%lu %d %zu\n", id, code, output_length);
    write_all(out, head, (size_t)head_length);
    write_all(out, output, output_length);
    close(out);
  }
}

int main(int argc, char **argv) {
  int health_argc = argc > 2 ? atoi(argv[2]) : -1;
  int separator = 3 + health_argc;
  if (argc < 5 || health_argc < 0 || separator + 1 >= argc || strcmp(argv[separator], "--") != 0) {
    fprintf(stderr, "usage: %s RUN_DIR HEALTH_ARGC [HEALTH_ARG...] -- COMMAND [ARG...]\n", argv[0]);
    return 125;
  }
  char start_path[4096];
  snprintf(start_path, sizeof start_path, "%s/start", argv[1]);
  int fd = open_retrying(start_path, O_RDONLY);
  if (fd < 0) {
    fprintf(stderr, "boilerhouse-gate: cannot open %s: %s\n", start_path, strerror(errno));
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
  if (health_argc > 0) {
    char **health_argv = calloc((size_t)health_argc + 1, sizeof *health_argv);
    if (health_argv == NULL) return 125;
    for (int i = 0; i < health_argc; i++) health_argv[i] = argv[3 + i];
    pid_t agent = fork();
    if (agent == 0) serve_health(argv[1], health_argv);
    /* On a failed fork the workload still starts; Boilerhouse falls back to docker exec. */
  }
  execvp(argv[separator + 1], argv + separator + 1);
  fprintf(stderr, "boilerhouse-gate: cannot run %s: %s\n", argv[separator + 1], strerror(errno));
  return errno == ENOENT ? 127 : 126;
}
