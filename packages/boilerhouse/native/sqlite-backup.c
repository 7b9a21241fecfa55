/*
 * boilerhouse-sqlite-backup: a consistent copy of one SQLite database of a tenant's state volume.
 *
 *   boilerhouse-sqlite-backup PATH DEV INO      (fd 3: the volume's directory; fd 4: where the copy goes)
 *
 * PATH is relative to the volume (store/messages.db); DEV and INO are what the daemon's scan saw. The
 * daemon runs as root and SQLite opens files by path (the database, its -wal and -shm), following links.
 * So this helper first confines itself to the volume: chroot into it (absolute links and ".." then resolve
 * inside the volume), then becomes the volume's owner (a crafted database or a link to another file gives
 * at most the tenant's own powers over its own tree; side files SQLite creates belong to the tenant).
 * The copy is made with the backup API, all pages in one step (so a writing tenant cannot restart it
 * forever), into memory, and written to fd 4 as a database file. A lock held forever makes it wait
 * forever: the daemon kills it after its timeout.
 *
 * Exit codes: 0 copied; 2 usage; 3 could not confine itself; 4 PATH is not the file the scan saw (changed,
 * a link, not a regular file, gone, or could not be opened); 5 SQLite refused (not a database, corrupt);
 * 6 writing the copy failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define VOLUME_FD 3
#define OUTPUT_FD 4

static const char *path;

static void fail(int code, const char *format, ...) {
  va_list args;
  va_start(args, format);
  fprintf(stderr, "boilerhouse-sqlite-backup: %s: ", path == NULL ? "-" : path);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
  exit(code);
}

static unsigned long long number(const char *text, const char *what) {
  char *end;
  errno = 0;
  unsigned long long value = strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0') fail(2, "%s must be a decimal number, not \"%s\"", what, text);
  return value;
}

/* Root without a user to become (the workload names none): keep uid 0 but no capability at all. */
static void drop_capabilities(void) {
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  if (syscall(SYS_capset, &header, data) != 0) fail(3, "capset: %s", strerror(errno));
}

/* chroot into the volume, then become its owner: from here on nothing outside the volume is reachable. */
static void confine(void) {
  struct stat volume;
  if (fstat(VOLUME_FD, &volume) != 0 || !S_ISDIR(volume.st_mode)) fail(3, "fd 3 is not the volume's directory");
  if (fchdir(VOLUME_FD) != 0 || chroot(".") != 0 || chdir("/") != 0) fail(3, "chroot: %s", strerror(errno));
  close(VOLUME_FD);
  // While still privileged: no capability can come back through exec or the ambient set.
  for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) fail(3, "dropping capability %d: %s", cap, strerror(errno));
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(3, "no_new_privs: %s", strerror(errno));
  if (setgroups(0, NULL) != 0 || setgid(volume.st_gid) != 0) fail(3, "setgid: %s", strerror(errno));
  if (volume.st_uid != 0) {
    if (setuid(volume.st_uid) != 0) fail(3, "setuid: %s", strerror(errno));
    if (setuid(0) == 0) fail(3, "could still become root");
  }
  drop_capabilities();
}

/* PATH must be, without following a link, the regular file the daemon's scan saw. */
static void check_identity(unsigned long long dev, unsigned long long ino) {
  struct stat file;
  if (fstatat(AT_FDCWD, path, &file, AT_SYMLINK_NOFOLLOW) != 0) fail(4, "changed while it was being saved (%s)", strerror(errno));
  if (!S_ISREG(file.st_mode) || file.st_dev != dev || file.st_ino != ino) fail(4, "changed while it was being saved");
}

static void write_all(const unsigned char *data, sqlite3_int64 length) {
  while (length > 0) {
    ssize_t wrote = write(OUTPUT_FD, data, length > (1 << 30) ? (1 << 30) : (size_t)length);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) fail(6, "writing the copy: %s", strerror(errno));
    data += wrote;
    length -= wrote;
  }
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: boilerhouse-sqlite-backup PATH DEV INO (fd 3: volume directory, fd 4: output)\n");
    return 2;
  }
  path = argv[1];
  if (path[0] == '/' || path[0] == '\0') fail(2, "the path must be relative to the volume");
  unsigned long long dev = number(argv[2], "DEV"), ino = number(argv[3], "INO");
  confine();
  check_identity(dev, ino);

  sqlite3 *source, *copy;
  // NOFOLLOW: the database itself must not be a link (inside the chroot a link could only reach the tenant's
  // own files, but the copy must be of the file the scan saw).
  if (sqlite3_open_v2(path, &source, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
    /* It was the scanned regular file a moment ago: a link or another file swapped in (refused by NOFOLLOW,
       perhaps swapped back since) is the likely cause. */
    fail(4, "changed while it was being saved (SQLite could not open it: %s)", sqlite3_errmsg(source));
  }
  sqlite3_db_config(source, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
  sqlite3_busy_timeout(source, 1000);
  // An empty deserialized database keeps the copy in one growing buffer, so serializing it copies nothing.
  if (sqlite3_open_v2(":memory:", &copy, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
      sqlite3_deserialize(copy, "main", NULL, 0, 0, SQLITE_DESERIALIZE_RESIZEABLE | SQLITE_DESERIALIZE_FREEONCLOSE) != SQLITE_OK) {
    fail(5, "opening the in-memory copy: %s", sqlite3_errmsg(copy));
  }
  sqlite3_backup *backup = sqlite3_backup_init(copy, "main", source, "main");
  if (backup == NULL) fail(5, "starting the backup: %s", sqlite3_errmsg(copy));
  int status;
  while ((status = sqlite3_backup_step(backup, -1)) != SQLITE_DONE) {
    if (status != SQLITE_BUSY && status != SQLITE_LOCKED) {
      check_identity(dev, ino);
      fail(5, "backup: %s", sqlite3_errstr(status));
    }
    // The tenant holds a lock: wait (the daemon's timeout bounds this).
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
  }
  if (sqlite3_backup_finish(backup) != SQLITE_OK) fail(5, "finishing the backup: %s", sqlite3_errmsg(copy));
  check_identity(dev, ino);

  sqlite3_int64 size;
  unsigned char *bytes = sqlite3_serialize(copy, "main", &size, SQLITE_SERIALIZE_NOCOPY);
  if (bytes == NULL) fail(5, "serializing the copy: out of memory");
  write_all(bytes, size);
  return 0;
}
