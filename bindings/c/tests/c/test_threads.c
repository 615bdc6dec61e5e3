/* Threads of two clients contend for one key: every increment must land exactly once and
 * every holder's fencing token must exceed the one stored by the previous holder. Linked
 * against the static library. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include "check.h"

#define THREADS 8
#define ITERATIONS 25

static fl_client *clients[2];
static atomic_int failures;

/* State is "<count> <token>". */
static void parse(const fl_bytes *b, uint64_t *count, uint64_t *token) {
  *count = 0;
  *token = 0;
  if (!b) return;
  char buf[64] = {0};
  size_t n = fl_bytes_len(b) < sizeof buf - 1 ? fl_bytes_len(b) : sizeof buf - 1;
  memcpy(buf, fl_bytes_data(b), n);
  sscanf(buf, "%" SCNu64 " %" SCNu64, count, token);
}

static void fail(const char *what, fl_error *err) {
  fprintf(stderr, "  %s: %s\n", what, err ? fl_error_message(err) : "(no error)");
  atomic_fetch_add(&failures, 1);
}

static void *acquire_worker(void *arg) {
  fl_client *c = clients[(intptr_t)arg % 2];
  for (int i = 0; i < ITERATIONS; i++) {
    fl_error *err = NULL;
    fl_lock *l = NULL;
    if (fl_acquire(c, "threads/counter", 30000, NULL, NULL, &l, &err) != FL_OK) {
      fail("acquire", err);
      fl_error_free(&err);
      return NULL;
    }
    fl_bytes *b = NULL;
    uint64_t count, stored, token = 0;
    fl_lock_initial_state(l, &b, NULL);
    parse(b, &count, &stored);
    fl_bytes_free(&b);
    fl_lock_token(l, &token, NULL);
    if (token <= stored) fail("token did not increase", NULL);
    char next[64];
    int n = snprintf(next, sizeof next, "%" PRIu64 " %" PRIu64, count + 1, token);
    bool released = false;
    if (fl_release(c, l, (const uint8_t *)next, (size_t)n, &released, &err) != FL_OK || !released)
      fail("release", err);
    fl_error_free(&err);
    fl_lock_free(&l);
  }
  return NULL;
}

static int add_one(void *user_data, const fl_bytes *state, fl_state_out *out) {
  (void)user_data;
  uint64_t count, token;
  parse(state, &count, &token);
  char next[64];
  int n = snprintf(next, sizeof next, "%" PRIu64 " 0", count + 1);
  return fl_state_out_set(out, (const uint8_t *)next, (size_t)n, NULL) == FL_OK ? 0 : 1;
}

static void *with_lock_worker(void *arg) {
  fl_client *c = clients[(intptr_t)arg % 2];
  for (int i = 0; i < ITERATIONS; i++) {
    fl_error *err = NULL;
    if (fl_with_lock(c, "threads/with-lock", 30000, NULL, NULL, add_one, NULL, NULL, &err) != FL_OK)
      fail("with_lock", err);
    fl_error_free(&err);
  }
  return NULL;
}

static uint64_t final_count(const char *key) {
  fl_bytes *b = NULL;
  uint64_t count = 0, token = 0;
  fl_get(clients[0], key, &b, NULL, NULL, NULL);
  parse(b, &count, &token);
  fl_bytes_free(&b);
  return count;
}

static void contend(void *(*worker)(void *), const char *key) {
  atomic_store(&failures, 0);
  fl_delete(clients[0], key, NULL);
  pthread_t t[THREADS];
  for (intptr_t i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, (void *)i);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  CHECK(atomic_load(&failures) == 0);
  uint64_t count = final_count(key);
  if (count != THREADS * ITERATIONS)
    fprintf(stderr, "  %s: count %" PRIu64 ", expected %d\n", key, count, THREADS * ITERATIONS);
  CHECK(count == THREADS * ITERATIONS);
}

static void threads_acquire_and_release(void) { contend(acquire_worker, "threads/counter"); }
static void threads_with_lock(void) { contend(with_lock_worker, "threads/with-lock"); }

int main(void) {
  const char *url = getenv("FENCELOCK_URL");
  if (!url) {
    fprintf(stderr, "set FENCELOCK_URL (see tests/with-nats.sh)\n");
    return 2;
  }
  for (int i = 0; i < 2; i++) {
    fl_client_options o = {0};
    o.url = url;
    o.namespace_name = "c-threads";
    fl_error *err = NULL;
    if (fl_client_connect(&o, &clients[i], &err) != FL_OK) {
      fprintf(stderr, "connect: %s\n", fl_error_message(err));
      return 2;
    }
  }
  RUN(threads_acquire_and_release);
  RUN(threads_with_lock);
  fl_client_free(&clients[0]);
  fl_client_free(&clients[1]);
  return SUMMARY();
}
