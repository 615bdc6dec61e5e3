/* Soak worker in C (`make soak`): `soak-worker URL CYCLES NAMESPACE`.
 * Runs the soak's mixed loop and prints `rss 10 <KiB>` and `rss 100 <KiB>` at 10 % and
 * 100 % of the cycles, then `ok`. Per 8 cycles: 4 acquire + release, 2 with_lock increments,
 * 1 try_acquire on a key another client holds, 1 wait on a free key (the same mix as every
 * binding's worker). Exits 1 on any failure. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "fencelock.h"

#define KEYS 64
#define HELD_KEY "soak-held"
#define TIMEOUT_MS 10000

static void mark(int percent) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = 0;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0) kib = strtol(line + 6, NULL, 10);
  if (f) fclose(f);
  printf("rss %d %ld\n", percent, kib);
  fflush(stdout);
}

static int die(const char *what, fl_error **err) {
  fprintf(stderr, "soak-worker: %s: %s\n", what, *err ? fl_error_message(*err) : "failed");
  fl_error_free(err);
  return 1;
}

/* with_lock callback: the state is a decimal count; store count + 1. */
static int32_t increment(void *user_data, const fl_bytes *state, fl_state_out *out) {
  (void)user_data;
  uint64_t n = 0;
  if (state && fl_bytes_len(state) < 32) {
    char buf[32] = {0};
    memcpy(buf, fl_bytes_data(state), fl_bytes_len(state));
    n = strtoull(buf, NULL, 10);
  }
  char next[32];
  int len = snprintf(next, sizeof next, "%" PRIu64, n + 1);
  return fl_state_out_set(out, (const uint8_t *)next, (size_t)len, NULL) == FL_OK ? 0 : 1;
}

static int cycle(fl_client *client, long i, fl_error **err) {
  char key[32];
  snprintf(key, sizeof key, "soak-%ld", i % KEYS);
  long step = i % 8;
  if (step < 4) {
    fl_lock *lock = NULL;
    if (fl_acquire(client, key, TIMEOUT_MS, NULL, NULL, &lock, err) != FL_OK) return die("acquire", err);
    char state[32];
    int len = snprintf(state, sizeof state, "%ld", i);
    bool released = false;
    fl_status s = i % 2 == 0 ? fl_release(client, lock, (const uint8_t *)state, (size_t)len, &released, err)
                             : fl_release(client, lock, NULL, 0, &released, err);
    fl_lock_free(&lock);
    if (s != FL_OK) return die("release", err);
    if (!released) return die("release found the lock lost", err);
  } else if (step < 6) {
    if (fl_with_lock(client, key, TIMEOUT_MS, NULL, NULL, increment, NULL, NULL, err) != FL_OK)
      return die("with_lock", err);
  } else if (step == 6) {
    fl_lock *lock = NULL;
    fl_status s = fl_try_acquire(client, HELD_KEY, NULL, &lock, err);
    if (s != FL_HELD) {
      fl_lock_free(&lock);
      return die("try_acquire of a held key did not answer FL_HELD", err);
    }
    fl_error_free(err);
  } else {
    fl_bytes *state = NULL;
    if (fl_wait(client, key, TIMEOUT_MS, NULL, &state, err) != FL_OK) return die("wait", err);
    fl_bytes_free(&state);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s URL CYCLES NAMESPACE\n", argv[0]);
    return 2;
  }
  long cycles = strtol(argv[2], NULL, 10);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  fl_client_options o = {0};
  o.url = argv[1];
  o.namespace_name = argv[3];
  fl_client *client = NULL, *other = NULL;
  fl_error *err = NULL;
  if (fl_client_connect(&o, &client, &err) != FL_OK) return die("connect", &err);
  if (fl_client_connect(&o, &other, &err) != FL_OK) return die("connect", &err);
  fl_lock *held = NULL;
  if (fl_acquire(other, HELD_KEY, TIMEOUT_MS, NULL, NULL, &held, &err) != FL_OK)
    return die("acquire the held key", &err);
  int rc = 0;
  for (long i = 0; i < cycles && rc == 0; i++) {
    rc = cycle(client, i, &err);
    if (i + 1 == cycles / 10) mark(10);
  }
  if (rc == 0) mark(100);
  fl_release(other, held, NULL, 0, NULL, NULL);
  fl_lock_free(&held);
  fl_client_free(&client);
  fl_client_free(&other);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (rc == 0)
    printf("ok %ld %ld\n", cycles,
           (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
  return rc;
}
