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
 *   boilerhouse-gate --ahead RUN_DIR HEALTH_ARGC [HEALTH_ARG...] -- COMMAND [ARG...]
 *
 * For a workload that boots ahead of its claim (`pool.boot: ahead`): forks the health agent and replaces
 * itself with COMMAND at once, with BOILERHOUSE_START=RUN_DIR/start in its environment. The workload reads
 * the start message from that FIFO itself (same format), and touches the tenant's state only after it: its
 * process loads its code while the instance waits in the pool, and a claim only has to tell it to go.
 *
 * With HEALTH_ARGC > 0 it first forks a health agent that runs the workload's health test on request:
 * Boilerhouse writes "ID TIMEOUT_MS\n" to RUN_DIR/health-request and reads "ID EXIT_CODE LENGTH DROPPED\n"
 * and LENGTH bytes of output from RUN_DIR/health-response: the last MAX_OUTPUT bytes of what the test
 * printed, DROPPED the count of earlier bytes cut, however much it floods. A fork inside the container costs
 * a few milliseconds where `docker exec` costs 60-90; exit code 124 means the test timed out and was killed.
 *
 *   boilerhouse-gate --run TIMEOUT_MS -- COMMAND [ARG...]
 *
 * Runs a lifecycle hook (started by Boilerhouse with `docker exec`) in a process group of its own, passing
 * its stdout and stderr through. When it overruns TIMEOUT_MS the whole group gets SIGTERM, then SIGKILL a
 * second later, and the exit code is 124 (with a last line on stderr saying so); otherwise it is the
 * command's (128 + signal when a signal ended it). Either way nothing is left running in the group.
 *
 * Statically linked: it runs in images that have no libc, shell or anything else.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
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

/* Where a running command's output goes: called with STDOUT_FILENO or STDERR_FILENO and each chunk. */
typedef void (*output_sink)(int stream, const char *data, size_t length);

struct run_options {
  long timeout_ms;
  /* On timeout the group gets SIGTERM, then SIGKILL this much later; 0 sends SIGKILL at once. */
  long kill_grace_ms;
  /* stdout and stderr through pipes of their own (order between them is lost), or one pipe for both. */
  int separate_streams;
  output_sink sink;
};

/* Once SIGKILL is sent, how long to wait for the group to go (a process stuck in the kernel may not). */
#define GIVE_UP_MS 1000
/* At most this much output is read after the group is gone, from processes that left it but hold a pipe. */
#define MAX_DRAIN 65536

/* Reads what one pipe has now; returns the bytes read, 0 at end of file (and closes it), -1 when empty. */
static ssize_t read_pipe(int *fd, int stream, output_sink sink) {
  char buffer[4096];
  ssize_t got;
  do {
    got = read(*fd, buffer, sizeof buffer);
  } while (got < 0 && errno == EINTR);
  if (got > 0) {
    sink(stream, buffer, (size_t)got);
    return got;
  }
  if (got == 0 || errno != EAGAIN) {
    close(*fd);
    *fd = -1;
    return 0;
  }
  return -1;
}

/*
 * Runs argv in a process group of its own, passing its output to the sink, and waits for it at most
 * timeout_ms. When the command ends in time, whatever it left running in its group is stopped the same way
 * as on a timeout (SIGTERM, then SIGKILL): a hook or health test must not leave processes behind. Processes
 * that leave the group (setsid) are not followed; that is how a command starts something meant to outlive it.
 * The caller must be a child subreaper, so that orphans of the group are reparented to it and reaped here:
 * PID 1 of a container is often a process that never reaps what it did not start, and a zombie would keep
 * its group alive forever. Returns the command's exit code (128 + signal when a signal ended it), 124 when it
 * timed out (and sets *timed_out: a command may exit 124 of its own), 125 when it could not be started.
 */
static int run_in_group(char **argv, const struct run_options *options, int *timed_out) {
  sigset_t child_signal, old_mask;
  sigemptyset(&child_signal);
  sigaddset(&child_signal, SIGCHLD);
  /* SIGCHLD is read from a signalfd, polled with the pipes: no handler, no race with the poll timeout. */
  sigprocmask(SIG_BLOCK, &child_signal, &old_mask);
  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  int events = signalfd(-1, &child_signal, SFD_CLOEXEC | SFD_NONBLOCK);
  int code = 125;
  *timed_out = 0;
  if (events < 0 || pipe2(out_pipe, O_CLOEXEC) != 0 ||
      (options->separate_streams && pipe2(err_pipe, O_CLOEXEC) != 0)) {
    goto done;
  }
  pid_t pid = fork();
  if (pid < 0) goto done;
  if (pid == 0) {
    setpgid(0, 0);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    signal(SIGPIPE, SIG_DFL);
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(options->separate_streams ? err_pipe[1] : out_pipe[1], STDERR_FILENO);
    execvp(argv[0], argv);
    fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  /* Also here, so that the group exists before this process might signal it. */
  setpgid(pid, pid);
  close(out_pipe[1]);
  out_pipe[1] = -1;
  if (err_pipe[1] >= 0) {
    close(err_pipe[1]);
    err_pipe[1] = -1;
  }
  fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
  if (err_pipe[0] >= 0) fcntl(err_pipe[0], F_SETFL, O_NONBLOCK);

  int status = 0, exited = 0, term_sent = 0, kill_sent = 0;
  long deadline = now_ms() + options->timeout_ms, kill_at = 0, give_up_at = 0;
  for (;;) {
    /* Reap everything that ended: the command, and orphans of its group reparented to this process. */
    for (;;) {
      int reaped_status;
      pid_t reaped = waitpid(-1, &reaped_status, WNOHANG);
      if (reaped <= 0) break;
      if (reaped == pid) {
        status = reaped_status;
        exited = 1;
      }
    }
    long now = now_ms();
    if (!exited && !*timed_out && now >= deadline) *timed_out = 1;
    if (exited || *timed_out) {
      if (!term_sent && !kill_sent) {
        /* The first signal: the command overran, or it ended and what it left behind must go. */
        if (options->kill_grace_ms > 0) {
          kill(-pid, SIGTERM);
          term_sent = 1;
          kill_at = now + options->kill_grace_ms;
        } else {
          kill(-pid, SIGKILL);
          kill_sent = 1;
          give_up_at = now + GIVE_UP_MS;
        }
      } else if (!kill_sent && now >= kill_at) {
        kill(-pid, SIGKILL);
        kill_sent = 1;
        give_up_at = now + GIVE_UP_MS;
      }
      if (kill(-pid, 0) < 0 && errno == ESRCH) break; /* the group is gone: nothing writes to the pipes */
      if (kill_sent && now >= give_up_at) break;
    }
    long wake_at = !(exited || *timed_out) ? deadline : kill_sent ? give_up_at : kill_at;
    struct pollfd fds[3] = {
        {.fd = events, .events = POLLIN},
        {.fd = out_pipe[0], .events = POLLIN},
        {.fd = err_pipe[0], .events = POLLIN},
    };
    long left = wake_at - now;
    int ready = poll(fds, 3, left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left);
    if (ready <= 0) continue;
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo info;
      while (read(events, &info, sizeof info) > 0) {
      }
    }
    if (fds[1].revents) read_pipe(&out_pipe[0], STDOUT_FILENO, options->sink);
    if (fds[2].revents) read_pipe(&err_pipe[0], STDERR_FILENO, options->sink);
  }
  /* What the group wrote before it went is still in the pipes. */
  size_t drained = 0;
  ssize_t got = 1;
  while (drained < MAX_DRAIN && got != 0 && (out_pipe[0] >= 0 || err_pipe[0] >= 0)) {
    got = 0;
    for (int i = 0; i < 2; i++) {
      int *fd = i == 0 ? &out_pipe[0] : &err_pipe[0];
      if (*fd < 0) continue;
      ssize_t one = read_pipe(fd, i == 0 ? STDOUT_FILENO : STDERR_FILENO, options->sink);
      if (one > 0) got += one;
    }
    drained += (size_t)got;
  }
  if (*timed_out) {
    code = 124;
  } else if (!exited) {
    code = 125;
  } else if (WIFEXITED(status)) {
    code = WEXITSTATUS(status);
  } else {
    code = 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  }
done:
  for (int i = 0; i < 2; i++) {
    if (out_pipe[i] >= 0) close(out_pipe[i]);
    if (err_pipe[i] >= 0) close(err_pipe[i]);
  }
  if (events >= 0) close(events);
  sigprocmask(SIG_SETMASK, &old_mask, NULL);
  return code;
}

/* The last MAX_OUTPUT bytes of the health test's output, stdout and stderr together, and how much it wrote. */
static char health_output[MAX_OUTPUT];
static size_t health_output_length;
static unsigned long long health_output_seen;

static void keep_health_output(int stream, const char *data, size_t length) {
  (void)stream;
  health_output_seen += length;
  if (length >= MAX_OUTPUT) {
    memcpy(health_output, data + length - MAX_OUTPUT, MAX_OUTPUT);
    health_output_length = MAX_OUTPUT;
    return;
  }
  size_t drop = health_output_length + length > MAX_OUTPUT ? health_output_length + length - MAX_OUTPUT : 0;
  memmove(health_output, health_output + drop, health_output_length - drop);
  health_output_length -= drop;
  memcpy(health_output + health_output_length, data, length);
  health_output_length += length;
}

static void forward_output(int stream, const char *data, size_t length) {
  write_all(stream, data, length);
}

/* The health agent: serves health-test requests until the container ends. Never returns. */
static void serve_health(const char *run_dir, char **argv) {
  char request_path[4096], response_path[4096];
  snprintf(request_path, sizeof request_path, "%s/health-request", run_dir);
  snprintf(response_path, sizeof response_path, "%s/health-response", run_dir);
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_CHILD_SUBREAPER, 1); /* see run_in_group */
  /* A health test is killed at once: it has no work worth finishing, and liveness waits on it. */
  struct run_options options = {.kill_grace_ms = 0, .separate_streams = 0, .sink = keep_health_output};
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
    health_output_length = 0;
    health_output_seen = 0;
    options.timeout_ms = timeout_ms;
    int timed_out;
    int code = run_in_group(argv, &options, &timed_out);
    int out = open_retrying(response_path, O_WRONLY);
    if (out < 0) continue;
    char head[80];
    int head_length = snprintf(head, sizeof head, "%lu %d %zu %llu\n", id, code, health_output_length,
                               health_output_seen - health_output_length);
    write_all(out, head, (size_t)head_length);
    write_all(out, health_output, health_output_length);
    close(out);
  }
}

/*
 * --run: a lifecycle hook, started with `docker exec`, which has no way to stop what it started. So the
 * timeout is kept here, inside the container, where the whole process group can be killed.
 */
static int run_hook(int argc, char **argv) {
  char *end = NULL;
  long timeout_ms = argc > 2 ? strtol(argv[2], &end, 10) : 0;
  if (argc < 5 || end == argv[2] || *end != '\0' || timeout_ms <= 0 || strcmp(argv[3], "--") != 0) {
    fprintf(stderr, "usage: %s --run TIMEOUT_MS -- COMMAND [ARG...]\n", argv[0]);
    return 125;
  }
  /* A reader that went away must not end this process before it has stopped the command. */
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_CHILD_SUBREAPER, 1); /* see run_in_group */
  struct run_options options = {
      .timeout_ms = timeout_ms, .kill_grace_ms = 1000, .separate_streams = 1, .sink = forward_output};
  int timed_out;
  int code = run_in_group(argv + 4, &options, &timed_out);
  /* Boilerhouse tells a timeout from a command's own exit code 124 by this last line. */
  if (timed_out) fprintf(stderr, "boilerhouse-gate: timed out after %ld ms; stopped\n", timeout_ms);
  return code;
}

/* Forks the health agent, if there is a health test; on a failed fork Boilerhouse falls back to docker exec. */
static int fork_health_agent(const char *run_dir, int health_argc, char **health_args) {
  if (health_argc == 0) return 0;
  char **health_argv = calloc((size_t)health_argc + 1, sizeof *health_argv);
  if (health_argv == NULL) return -1;
  for (int i = 0; i < health_argc; i++) health_argv[i] = health_args[i];
  pid_t agent = fork();
  if (agent == 0) serve_health(run_dir, health_argv);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--run") == 0) return run_hook(argc, argv);
  /* --ahead shifts every other argument by one. */
  int ahead = argc > 1 && strcmp(argv[1], "--ahead") == 0;
  char *run_dir = argc > 1 + ahead ? argv[1 + ahead] : NULL;
  int health_argc = argc > 2 + ahead ? atoi(argv[2 + ahead]) : -1;
  int separator = 3 + ahead + health_argc;
  if (argc < 5 + ahead || health_argc < 0 || separator + 1 >= argc || strcmp(argv[separator], "--") != 0) {
    fprintf(stderr, "usage: %s [--ahead] RUN_DIR HEALTH_ARGC [HEALTH_ARG...] -- COMMAND [ARG...]\n", argv[0]);
    return 125;
  }
  char start_path[4096];
  snprintf(start_path, sizeof start_path, "%s/start", run_dir);
  if (ahead) {
    if (fork_health_agent(run_dir, health_argc, argv + 3 + ahead) != 0) return 125;
    setenv("BOILERHOUSE_START", start_path, 1);
    execvp(argv[separator + 1], argv + separator + 1);
    fprintf(stderr, "boilerhouse-gate: cannot run %s: %s\n", argv[separator + 1], strerror(errno));
    return errno == ENOENT ? 127 : 126;
  }
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
  if (fork_health_agent(run_dir, health_argc, argv + 3) != 0) return 125;
  execvp(argv[separator + 1], argv + separator + 1);
  fprintf(stderr, "boilerhouse-gate: cannot run %s: %s\n", argv[separator + 1], strerror(errno));
  return errno == ENOENT ? 127 : 126;
}
