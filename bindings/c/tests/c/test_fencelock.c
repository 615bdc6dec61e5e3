/* Every export of include/fencelock.h and every status it can produce, against a real
 * nats-server ($FENCELOCK_URL) and the memory backend. Also built with AddressSanitizer. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static const char *url;

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static fl_client *connect_with(const char *namespace_name, int64_t lease_ms) {
  fl_client_options o = {0};
  o.url = url;
  o.namespace_name = namespace_name;
  o.lease_ms = lease_ms;
  o.label = "c-test";
  fl_client *c = NULL;
  fl_error *err = NULL;
  if (fl_client_connect(&o, &c, &err) != FL_OK) {
    fprintf(stderr, "cannot connect to %s: %s\n", url, fl_error_message(err));
    fl_error_free(&err);
    exit(2);
  }
  return c;
}

static fl_client *connect_default(void) { return connect_with("c-tests", 0); }

/* Copies an fl_bytes into a NUL-terminated buffer for comparisons. */
static int bytes_equal(const fl_bytes *b, const char *s) {
  return b != NULL && fl_bytes_len(b) == strlen(s) && memcmp(fl_bytes_data(b), s, strlen(s)) == 0;
}

/* The Makefile passes the workspace version (Cargo.toml, scripts/version). */
#ifndef FENCELOCK_EXPECTED_VERSION
#error "build with -DFENCELOCK_EXPECTED_VERSION='\"x.y.z\"' (make -C bindings/c c-test does)"
#endif

static void version_and_status_names(void) {
  CHECK(strcmp(fl_version(), FENCELOCK_EXPECTED_VERSION) == 0);
  const char *names[] = {"ok",          "timeout",          "held",           "not_held",
                         "expired",     "invalid_key",      "invalid_argument", "state_too_large",
                         "closed",      "backend",          "callback",       "cancelled",
                         "internal"};
  for (int i = 0; i <= FL_INTERNAL; i++) CHECK(strcmp(fl_status_name(i), names[i]) == 0);
  CHECK(strcmp(fl_status_name(-3), "unknown") == 0);
  CHECK(strcmp(fl_status_name(FL_INTERNAL + 1), "unknown") == 0);
}

static void null_handles_are_harmless(void) {
  fl_error *none = NULL;
  CHECK(fl_error_code(NULL) == FL_OK);
  CHECK(strcmp(fl_error_message(NULL), "") == 0);
  CHECK(fl_error_key(NULL) == NULL);
  CHECK(fl_error_token(NULL) == 0);
  fl_error_free(NULL);
  fl_error_free(&none);
  CHECK(fl_bytes_data(NULL) == NULL && fl_bytes_len(NULL) == 0);
  fl_bytes_free(NULL);
  CHECK(fl_holder_token(NULL) == 0 && fl_holder_lease_ms(NULL) == 0);
  CHECK(strcmp(fl_holder_lock_id(NULL), "") == 0 && strcmp(fl_holder_label(NULL), "") == 0);
  fl_holder_free(NULL);
  fl_cancel_trigger(NULL);
  CHECK(!fl_cancel_is_triggered(NULL));
  fl_cancel_free(NULL);
  fl_lock_free(NULL);
  fl_leadership_free(NULL);
  fl_client_free(NULL);
  fl_client *c = NULL;
  fl_client_free(&c);
  /* NULL handles and out-params are FL_INVALID_ARGUMENT, with or without an error slot. */
  CHECK(fl_client_connect(NULL, &c, NULL) == FL_INVALID_ARGUMENT);
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_client_connect(NULL, &c, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_client_close(NULL, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_acquire(NULL, "k", 0, NULL, NULL, NULL, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_lock_refresh(NULL, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_lock_put(NULL, NULL, 0, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_cancel_new(NULL, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_state_out_set(NULL, (const uint8_t *)"x", 1, &err));
}

static void connect_options_are_checked(void) {
  fl_client *c = NULL;
  fl_client_options o = {0};
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_client_connect(&o, &c, &err)); /* no url */
  o.url = "bogus://somewhere";
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_client_connect(&o, &c, &err));
  o.url = url;
  o.lease_ms = -5;
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_client_connect(&o, &c, &err));
  o.lease_ms = 5; /* below the 10 ms minimum */
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_client_connect(&o, &c, &err));
  o.lease_ms = 0;
  o.renew = 7;
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_client_connect(&o, &c, &err));
  o.renew = FL_RENEW_DEFAULT;
  o.storage = 9;
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_client_connect(&o, &c, &err));
  o.storage = FL_STORAGE_DEFAULT;
  o.user = "u"; /* without a password */
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_client_connect(&o, &c, &err));
  o.user = NULL;
  o.url = "nats://127.0.0.1:1"; /* refused before connecting: NATS stream replicas are 1 to 5 */
  o.replication = 9;
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_client_connect(&o, &c, &err));
  o.url = url;
  o.replication = -1;
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_client_connect(&o, &c, &err));
  o.replication = 0;
  o.renew_fraction = 1.5;
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_client_connect(&o, &c, &err));
  o.renew_fraction = 0;
  o.namespace_name = "bad namespace!";
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_client_connect(&o, &c, &err));
  CHECK(c == NULL);
  /* Every option set to a valid value connects. */
  fl_client_options all = {0};
  all.url = url;
  all.namespace_name = "c-tests-options";
  all.connect_timeout_ms = 3000;
  all.lease_ms = 2000;
  all.object_expiry_ms = 3600000;
  all.replication = 1;
  all.storage = FL_STORAGE_MEMORY;
  all.renew = FL_RENEW_ON;
  all.renew_fraction = 0.25;
  all.max_hold_ms = 60000;
  all.label = "options-test";
  OK(fl_client_connect(&all, &c, &err));
  size_t max = 0;
  OK(fl_client_max_state_len(c, &max, &err));
  CHECK(max > 1000);
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_client_max_state_len(c, NULL, &err));
  fl_client_free(&c);
  CHECK(c == NULL);
}

/* An option the backend does not use is refused by name, never silently dropped. */
static void unused_options_are_refused(void) {
  fl_client *c = NULL;
  fl_error *err = NULL;
  fl_client_options o = {0};
  o.url = "memory://";
  o.token = "secret";
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_client_connect(&o, &c, &err));
  o.token = NULL;
  o.clock_free = true;
  CHECK(fl_client_connect(&o, &c, &err) == FL_INVALID_ARGUMENT);
  CHECK(strstr(fl_error_message(err), "clock_free") && strstr(fl_error_message(err), "memory"));
  fl_error_free(&err);
  fl_client_options r = {0};
  r.url = "redis://127.0.0.1:1"; /* refused before any connection is tried */
  r.storage = FL_STORAGE_MEMORY;
  CHECK(fl_client_connect(&r, &c, &err) == FL_INVALID_ARGUMENT);
  CHECK(strstr(fl_error_message(err), "storage") && strstr(fl_error_message(err), "Redis"));
  fl_error_free(&err);
  fl_client_options n = {0};
  n.url = "nats://127.0.0.1:1"; /* whatever FENCELOCK_URL names; refused before connecting */
  n.replication_timeout_ms = 500;
  CHECK(fl_client_connect(&n, &c, &err) == FL_INVALID_ARGUMENT);
  CHECK(strstr(fl_error_message(err), "replication_timeout") && strstr(fl_error_message(err), "NATS"));
  fl_error_free(&err);
  CHECK(c == NULL);
}

static void backend_errors_name_the_server(void) {
  fl_client_options o = {0};
  o.url = "nats://127.0.0.1:1"; /* nothing listens on port 1 */
  o.connect_timeout_ms = 300;
  fl_client *c = NULL;
  fl_error *err = NULL;
  CHECK(fl_client_connect(&o, &c, &err) == FL_BACKEND);
  CHECK(fl_error_code(err) == FL_BACKEND);
  CHECK(strstr(fl_error_message(err), "127.0.0.1:1") != NULL);
  fl_error_free(&err);
  CHECK(err == NULL && c == NULL);
}

static void acquire_release_with_state(void) {
  fl_client *c = connect_default();
  const char *key = "c/acquire release";
  OK(fl_delete(c, key, &err));
  fl_lock *l = NULL;
  OK(fl_acquire(c, key, 5000, NULL, NULL, &l, &err));
  CHECK(l != NULL);
  uint64_t token = 0, lease = 0, remaining = 0;
  const char *k = NULL, *id = NULL;
  OK(fl_lock_token(l, &token, &err));
  CHECK(token > 0);
  OK(fl_lock_key(l, &k, &err));
  CHECK(k && strcmp(k, key) == 0);
  OK(fl_lock_id(l, &id, &err));
  CHECK(id && strlen(id) == 32);
  OK(fl_lock_lease_ms(l, &lease, &err));
  CHECK(lease == 30000);
  OK(fl_lock_remaining_ms(l, &remaining, &err));
  CHECK(remaining > 0 && remaining <= 30000);
  fl_guard_status gs = FL_GUARD_LOST;
  OK(fl_lock_status(l, &gs, &err));
  CHECK(gs == FL_GUARD_HELD);
  fl_bytes *b = (fl_bytes *)1;
  OK(fl_lock_initial_state(l, &b, &err));
  CHECK(b == NULL); /* new key: no state */
  OK(fl_lock_put(l, (const uint8_t *)"one", 3, &err));
  OK(fl_lock_state(l, &b, &err));
  CHECK(bytes_equal(b, "one"));
  fl_bytes_free(&b);
  CHECK(b == NULL);
  OK(fl_lock_refresh(l, &err));

  /* get shows the holder and the state while held. */
  fl_holder *h = NULL;
  uint64_t rev = 0;
  OK(fl_get(c, key, &b, &h, &rev, &err));
  CHECK(bytes_equal(b, "one"));
  CHECK(h != NULL && fl_holder_token(h) == token);
  CHECK(strcmp(fl_holder_lock_id(h), id) == 0);
  CHECK(strcmp(fl_holder_label(h), "c-test") == 0);
  CHECK(fl_holder_lease_ms(h) == 30000);
  CHECK(rev > 0);
  fl_bytes_free(&b);
  fl_holder_free(&h);
  CHECK(h == NULL);

  bool released = false;
  OK(fl_release(c, l, (const uint8_t *)"two", 3, &released, &err));
  CHECK(released);
  OK(fl_lock_status(l, &gs, &err));
  CHECK(gs == FL_GUARD_RELEASED);
  /* Double release is FL_NOT_HELD and names the key and token. */
  fl_error *err = NULL;
  CHECK(fl_release(c, l, NULL, 0, &released, &err) == FL_NOT_HELD);
  CHECK(fl_error_code(err) == FL_NOT_HELD);
  CHECK(fl_error_key(err) && strcmp(fl_error_key(err), key) == 0);
  CHECK(fl_error_token(err) == token);
  fl_error_free(&err);
  EXPECT_ERR(FL_NOT_HELD, fl_lock_put(l, (const uint8_t *)"x", 1, &err));
  EXPECT_ERR(FL_NOT_HELD, fl_lock_refresh(l, &err));
  fl_lock_free(&l);
  CHECK(l == NULL);

  /* The next holder sees the state and a larger token. */
  OK(fl_acquire(c, key, 0, NULL, NULL, &l, &err));
  uint64_t token2 = 0;
  OK(fl_lock_token(l, &token2, &err));
  CHECK(token2 > token);
  OK(fl_lock_initial_state(l, &b, &err));
  CHECK(bytes_equal(b, "two"));
  fl_bytes_free(&b);
  OK(fl_lock_release_clearing(l, &released, &err));
  CHECK(released);
  fl_lock_free(&l);
  OK(fl_get(c, key, &b, NULL, NULL, &err));
  CHECK(b == NULL); /* cleared */
  /* An empty state is a state, distinct from none. */
  OK(fl_acquire(c, key, 0, NULL, NULL, &l, &err));
  OK(fl_release(c, l, (const uint8_t *)"", 0, &released, &err));
  fl_lock_free(&l);
  OK(fl_get(c, key, &b, NULL, NULL, &err));
  CHECK(b != NULL && fl_bytes_len(b) == 0);
  fl_bytes_free(&b);
  /* put(NULL) clears state while holding. */
  OK(fl_acquire(c, key, 0, NULL, NULL, &l, &err));
  OK(fl_lock_put(l, NULL, 0, &err));
  OK(fl_lock_state(l, &b, &err));
  CHECK(b == NULL);
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_lock_put(l, NULL, 4, &err));
  fl_lock_free(&l); /* released in the background */
  OK(fl_wait(c, key, 5000, NULL, NULL, &err));
  fl_client_free(&c);
}

static void try_acquire_and_timeouts(void) {
  fl_client *c = connect_default();
  const char *key = "c/held";
  OK(fl_delete(c, key, &err));
  fl_lock *a = NULL, *b = NULL;
  OK(fl_try_acquire(c, key, NULL, &a, &err));
  CHECK(a != NULL);
  fl_error *err = NULL;
  CHECK(fl_try_acquire(c, key, NULL, &b, &err) == FL_HELD);
  CHECK(b == NULL);
  CHECK(fl_error_code(err) == FL_HELD && strstr(fl_error_message(err), key) != NULL);
  fl_error_free(&err);
  EXPECT_ERR(FL_TIMEOUT, fl_acquire(c, key, 100, NULL, NULL, &b, &err));
  EXPECT_ERR(FL_TIMEOUT, fl_acquire(c, key, 0, NULL, NULL, &b, &err));
  EXPECT_ERR(FL_TIMEOUT, fl_wait(c, key, 100, NULL, NULL, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_acquire(c, key, -2, NULL, NULL, &b, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_wait(c, key, -7, NULL, NULL, &err));
  CHECK(b == NULL);
  OK(fl_release(c, a, NULL, 0, NULL, &err));
  fl_lock_free(&a);
  OK(fl_acquire(c, key, FL_WAIT_FOREVER, NULL, NULL, &b, &err));
  fl_lock_free(&b);
  fl_client_free(&c);
}

static void invalid_keys(void) {
  fl_client *c = connect_default();
  fl_lock *l = NULL;
  char long_key[1100];
  memset(long_key, 'k', sizeof long_key - 1);
  long_key[sizeof long_key - 1] = 0;
  const char *bad[] = {"", "\xff\xfe", long_key};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    EXPECT_ERR(FL_INVALID_KEY, fl_acquire(c, bad[i], 0, NULL, NULL, &l, &err));
    EXPECT_ERR(FL_INVALID_KEY, fl_try_acquire(c, bad[i], NULL, &l, &err));
    EXPECT_ERR(FL_INVALID_KEY, fl_wait(c, bad[i], 0, NULL, NULL, &err));
    EXPECT_ERR(FL_INVALID_KEY, fl_get(c, bad[i], NULL, NULL, NULL, &err));
    EXPECT_ERR(FL_INVALID_KEY, fl_delete(c, bad[i], &err));
  }
  EXPECT_ERR(FL_INVALID_KEY, fl_acquire(c, NULL, 0, NULL, NULL, &l, &err));
  fl_holder *h = NULL;
  EXPECT_ERR(FL_INVALID_KEY, fl_leader(c, NULL, &h, &err));
  CHECK(h == NULL);
  CHECK(l == NULL);
  /* Keys outside the NATS alphabet work (they are encoded reversibly). */
  const char *odd = "c/ünïcode key with spaces*>";
  OK(fl_acquire(c, odd, 1000, NULL, NULL, &l, &err));
  const char *k = NULL;
  OK(fl_lock_key(l, &k, &err));
  CHECK(strcmp(k, odd) == 0);
  fl_lock_free(&l);
  fl_client_free(&c);
}

static void lock_options_are_checked(void) {
  fl_client *c = connect_default();
  fl_lock *l = NULL;
  fl_lock_options o = {0};
  o.lease_ms = -1;
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_acquire(c, "c/opts", 0, &o, NULL, &l, &err));
  o.lease_ms = 3;
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_acquire(c, "c/opts", 0, &o, NULL, &l, &err));
  o.lease_ms = 1500;
  o.renew = 5;
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_try_acquire(c, "c/opts", &o, &l, &err));
  o.renew = FL_RENEW_OFF;
  o.label = "per-call";
  OK(fl_acquire(c, "c/opts", 1000, &o, NULL, &l, &err));
  uint64_t lease = 0;
  OK(fl_lock_lease_ms(l, &lease, &err));
  CHECK(lease == 1500);
  fl_holder *h = NULL;
  OK(fl_get(c, "c/opts", NULL, &h, NULL, &err));
  CHECK(h && strcmp(fl_holder_label(h), "per-call") == 0);
  fl_holder_free(&h);
  /* A NULL out-param for a getter is refused. */
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_lock_token(l, NULL, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_lock_key(l, NULL, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_lock_id(l, NULL, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_lock_lease_ms(l, NULL, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_lock_remaining_ms(l, NULL, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_lock_status(l, NULL, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_lock_state(l, NULL, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_lock_initial_state(l, NULL, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_lock_on_lost(l, NULL, NULL, &err));
  OK(fl_release(c, l, NULL, 0, NULL, &err));
  fl_lock_free(&l);
  fl_client_free(&c);
}

static void expired_lease_refuses_writes(void) {
  fl_client *c = connect_default();
  fl_lock *l = NULL;
  fl_lock_options o = {0};
  o.lease_ms = 200;
  o.renew = FL_RENEW_OFF;
  OK(fl_acquire(c, "c/expire", 2000, &o, NULL, &l, &err));
  sleep_ms(350);
  EXPECT_ERR(FL_EXPIRED, fl_lock_put(l, (const uint8_t *)"late", 4, &err));
  EXPECT_ERR(FL_EXPIRED, fl_lock_refresh(l, &err));
  fl_guard_status gs = FL_GUARD_HELD;
  OK(fl_lock_status(l, &gs, &err));
  CHECK(gs == FL_GUARD_LOST);
  bool released = true;
  OK(fl_release(c, l, (const uint8_t *)"late", 4, &released, &err));
  CHECK(!released); /* nothing written */
  fl_lock_free(&l);
  fl_bytes *b = NULL;
  OK(fl_get(c, "c/expire", &b, NULL, NULL, &err));
  CHECK(!bytes_equal(b, "late"));
  fl_bytes_free(&b);
  fl_client_free(&c);
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* A lock whose lease ended is free for every client at once, also for one that never saw it
 * held (the store's clock decides: nats-server 2.11+, Redis, memory). */
static void a_lapsed_lock_is_free_for_a_late_client(void) {
  fl_client *a = connect_default();
  fl_lock_options o = {0};
  o.lease_ms = 300;
  o.renew = FL_RENEW_OFF;
  fl_lock *l = NULL;
  OK(fl_acquire(a, "c/late", 2000, &o, NULL, &l, &err));
  OK(fl_lock_put(l, (const uint8_t *)"kept", 4, &err));
  sleep_ms(450);
  fl_client *b = connect_default();
  fl_lock *l2 = NULL;
  OK(fl_try_acquire(b, "c/late", NULL, &l2, &err));
  uint64_t t1 = 0, t2 = 0;
  OK(fl_lock_token(l, &t1, &err));
  OK(fl_lock_token(l2, &t2, &err));
  CHECK(t2 > t1);
  bool released = true;
  OK(fl_release(a, l, (const uint8_t *)"stale", 5, &released, &err));
  CHECK(!released);
  OK(fl_release(b, l2, NULL, 0, &released, &err));
  CHECK(released);
  fl_bytes *s = NULL;
  OK(fl_get(b, "c/late", &s, NULL, NULL, &err));
  CHECK(bytes_equal(s, "kept"));
  fl_bytes_free(&s);
  fl_lock_free(&l);
  fl_lock_free(&l2);
  fl_client_free(&a);
  fl_client_free(&b);
}

/* The holder releases after its lease: false, its state unwritten, yet the lock is free, so a
 * wait of 100 ms returns the old state at once. */
static void wait_returns_at_once_after_a_late_release(void) {
  fl_client *a = connect_default();
  fl_lock_options o = {0};
  o.lease_ms = 300;
  o.renew = FL_RENEW_OFF;
  fl_lock *l = NULL;
  OK(fl_acquire(a, "c/late-release", 2000, &o, NULL, &l, &err));
  OK(fl_release(a, l, (const uint8_t *)"old", 3, NULL, &err));
  fl_lock_free(&l);
  OK(fl_acquire(a, "c/late-release", 2000, &o, NULL, &l, &err));
  sleep_ms(450);
  bool released = true;
  OK(fl_release(a, l, (const uint8_t *)"new", 3, &released, &err));
  CHECK(!released);
  fl_lock_free(&l);
  fl_client *b = connect_default();
  long started = now_ms();
  fl_bytes *s = NULL;
  OK(fl_wait(b, "c/late-release", 100, NULL, &s, &err));
  CHECK(now_ms() - started < 100);
  CHECK(bytes_equal(s, "old"));
  fl_bytes_free(&s);
  fl_client_free(&a);
  fl_client_free(&b);
}

static void state_too_large(void) {
  fl_client *c = connect_default();
  size_t max = 0;
  OK(fl_client_max_state_len(c, &max, &err));
  uint8_t *big = calloc(max + 1, 1);
  fl_lock *l = NULL;
  OK(fl_acquire(c, "c/big", 2000, NULL, NULL, &l, &err));
  EXPECT_ERR(FL_STATE_TOO_LARGE, fl_lock_put(l, big, max + 1, &err));
  EXPECT_ERR(FL_STATE_TOO_LARGE, fl_release(c, l, big, max + 1, NULL, &err));
  OK(fl_lock_put(l, big, max, &err)); /* the limit itself is accepted */
  OK(fl_release(c, l, NULL, 0, NULL, &err));
  fl_lock_free(&l);
  OK(fl_delete(c, "c/big", &err));
  free(big);
  fl_client_free(&c);
}

struct lost_flag {
  atomic_int calls;
  atomic_ullong token;
};

static void on_lost(void *user_data, uint64_t token) {
  struct lost_flag *f = user_data;
  atomic_store(&f->token, token);
  atomic_fetch_add(&f->calls, 1);
}

static int wait_calls(struct lost_flag *f, int ms) {
  for (int i = 0; i < ms / 10 && atomic_load(&f->calls) == 0; i++) sleep_ms(10);
  return atomic_load(&f->calls);
}

static void lost_callback_fires_when_broken(void) {
  fl_client *c = connect_with("c-tests", 300);
  fl_client *other = connect_default();
  fl_lock *l = NULL, *kept = NULL;
  OK(fl_acquire(c, "c/lost", 2000, NULL, NULL, &l, &err));
  OK(fl_acquire(c, "c/not-lost", 2000, NULL, NULL, &kept, &err));
  struct lost_flag f = {0}, g = {0};
  OK(fl_lock_on_lost(l, on_lost, &f, &err));
  OK(fl_lock_on_lost(kept, on_lost, &g, &err));
  OK(fl_delete(other, "c/lost", &err)); /* an operator breaks the lock */
  CHECK(wait_calls(&f, 3000) == 1);
  uint64_t token = 0;
  OK(fl_lock_token(l, &token, &err));
  CHECK(atomic_load(&f.token) == token);
  fl_guard_status gs = FL_GUARD_HELD;
  OK(fl_lock_status(l, &gs, &err));
  CHECK(gs == FL_GUARD_LOST);
  EXPECT_ERR(FL_EXPIRED, fl_lock_put(l, (const uint8_t *)"x", 1, &err));
  /* A released lock never reports lost; renewal keeps the other one held meanwhile. */
  OK(fl_lock_status(kept, &gs, &err));
  CHECK(gs == FL_GUARD_HELD);
  OK(fl_release(c, kept, NULL, 0, NULL, &err));
  sleep_ms(200);
  CHECK(atomic_load(&g.calls) == 0);
  fl_lock_free(&l);
  fl_lock_free(&kept);
  fl_client_free(&other);
  fl_client_free(&c);
}

struct counter_ctx {
  int calls;
  int fail_with;
  int nested_status;
  const fl_client *client;
};

static int increment(void *user_data, const fl_bytes *state, fl_state_out *out) {
  struct counter_ctx *ctx = user_data;
  ctx->calls++;
  if (ctx->client) { /* a blocking call from inside the callback is refused, not a deadlock */
    ctx->nested_status = fl_get(ctx->client, "c/with", NULL, NULL, NULL, NULL);
  }
  if (ctx->fail_with) return ctx->fail_with;
  long n = 0;
  if (state) {
    char buf[32] = {0};
    size_t len = fl_bytes_len(state) < 31 ? fl_bytes_len(state) : 31;
    memcpy(buf, fl_bytes_data(state), len);
    n = strtol(buf, NULL, 10);
  }
  char next[32];
  int len = snprintf(next, sizeof next, "%ld", n + 1);
  return fl_state_out_set(out, (const uint8_t *)next, (size_t)len, NULL) == FL_OK ? 0 : 99;
}

static int keep_state(void *user_data, const fl_bytes *state, fl_state_out *out) {
  (void)user_data;
  (void)state;
  fl_error *err = NULL;
  /* NULL state is refused: the callback cannot clear through fl_state_out_set. */
  int rc = fl_state_out_set(out, NULL, 0, &err) == FL_INVALID_ARGUMENT ? 0 : 1;
  fl_error_free(&err);
  return rc;
}

static void with_lock_runs_the_callback(void) {
  fl_client *c = connect_default();
  OK(fl_delete(c, "c/with", &err));
  struct counter_ctx ctx = {0};
  fl_bytes *b = NULL;
  OK(fl_with_lock(c, "c/with", 5000, NULL, NULL, increment, &ctx, &b, &err));
  CHECK(bytes_equal(b, "1"));
  fl_bytes_free(&b);
  OK(fl_with_lock(c, "c/with", 5000, NULL, NULL, increment, &ctx, &b, &err));
  CHECK(bytes_equal(b, "2"));
  fl_bytes_free(&b);
  CHECK(ctx.calls == 2);
  OK(fl_with_lock(c, "c/with", 5000, NULL, NULL, keep_state, NULL, &b, &err));
  CHECK(bytes_equal(b, "2"));
  fl_bytes_free(&b);
  /* A failing callback: FL_CALLBACK, lock released, state unchanged. */
  ctx.fail_with = 3;
  fl_error *err = NULL;
  CHECK(fl_with_lock(c, "c/with", 5000, NULL, NULL, increment, &ctx, &b, &err) == FL_CALLBACK);
  CHECK(b == NULL);
  CHECK(strstr(fl_error_message(err), "returned 3") != NULL);
  fl_error_free(&err);
  ctx.fail_with = 0;
  ctx.client = c;
  OK(fl_with_lock(c, "c/with", 5000, NULL, NULL, increment, &ctx, &b, &err));
  CHECK(ctx.nested_status == FL_INVALID_ARGUMENT);
  CHECK(bytes_equal(b, "3"));
  fl_bytes_free(&b);
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_with_lock(c, "c/with", 5000, NULL, NULL, NULL, NULL, &b, &err));
  EXPECT_ERR(FL_INVALID_KEY, fl_with_lock(c, "", 5000, NULL, NULL, increment, &ctx, &b, &err));
  fl_client_free(&c);
}

struct canceller {
  fl_cancel *cancel;
  long after_ms;
};

static void *trigger_later(void *arg) {
  struct canceller *k = arg;
  sleep_ms(k->after_ms);
  fl_cancel_trigger(k->cancel);
  return NULL;
}

static void cancel_aborts_a_wait(void) {
  fl_client *c = connect_default();
  fl_lock *held = NULL, *l = NULL;
  OK(fl_acquire(c, "c/cancel", 2000, NULL, NULL, &held, &err));
  fl_cancel *cancel = NULL;
  OK(fl_cancel_new(&cancel, &err));
  CHECK(!fl_cancel_is_triggered(cancel));
  struct canceller k = {cancel, 100};
  pthread_t t;
  pthread_create(&t, NULL, trigger_later, &k);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  EXPECT_ERR(FL_CANCELLED, fl_acquire(c, "c/cancel", FL_WAIT_FOREVER, NULL, cancel, &l, &err));
  clock_gettime(CLOCK_MONOTONIC, &t1);
  pthread_join(t, NULL);
  long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
  CHECK(ms < 2000);
  CHECK(l == NULL);
  CHECK(fl_cancel_is_triggered(cancel));
  /* A triggered token cancels every later call at once. */
  EXPECT_ERR(FL_CANCELLED, fl_wait(c, "c/cancel", FL_WAIT_FOREVER, cancel, NULL, &err));
  EXPECT_ERR(FL_CANCELLED, fl_with_lock(c, "c/cancel", FL_WAIT_FOREVER, NULL, cancel, increment,
                                        &(struct counter_ctx){0}, NULL, &err));
  fl_leadership *lead = NULL;
  EXPECT_ERR(FL_CANCELLED, fl_campaign(c, "c/cancel", "x", FL_WAIT_FOREVER, cancel, &lead, &err));
  fl_cancel_trigger(cancel); /* twice is fine */
  fl_cancel_free(&cancel);
  CHECK(cancel == NULL);
  /* The lock still works for everyone after a cancelled waiter. */
  OK(fl_release(c, held, NULL, 0, NULL, &err));
  OK(fl_acquire(c, "c/cancel", 2000, NULL, NULL, &l, &err));
  fl_lock_free(&held);
  fl_lock_free(&l);
  fl_client_free(&c);
}

static void guard_of_another_client(void) {
  fl_client *a = connect_default();
  fl_client *b = connect_default();
  fl_lock *l = NULL;
  OK(fl_acquire(a, "c/foreign", 2000, NULL, NULL, &l, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_release(b, l, NULL, 0, NULL, &err));
  fl_guard_status gs = FL_GUARD_LOST;
  OK(fl_lock_status(l, &gs, &err));
  CHECK(gs == FL_GUARD_HELD); /* still held: nothing happened */
  OK(fl_release(a, l, NULL, 0, NULL, &err));
  fl_lock_free(&l);
  fl_client_free(&b);
  fl_client_free(&a);
}

static void use_after_close(void) {
  fl_client *c = connect_default();
  fl_lock *l = NULL, *l2 = NULL;
  OK(fl_acquire(c, "c/closing", 2000, NULL, NULL, &l, &err));
  bool closed = true;
  OK(fl_client_is_closed(c, &closed, &err));
  CHECK(!closed);
  OK(fl_client_close(c, &err));
  OK(fl_client_close(c, &err)); /* idempotent */
  OK(fl_client_is_closed(c, &closed, &err));
  CHECK(closed);
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_client_is_closed(c, NULL, &err));
  EXPECT_ERR(FL_CLOSED, fl_acquire(c, "c/closing", 0, NULL, NULL, &l2, &err));
  EXPECT_ERR(FL_CLOSED, fl_try_acquire(c, "c/closing", NULL, &l2, &err));
  EXPECT_ERR(FL_CLOSED, fl_wait(c, "c/closing", 0, NULL, NULL, &err));
  EXPECT_ERR(FL_CLOSED, fl_get(c, "c/closing", NULL, NULL, NULL, &err));
  EXPECT_ERR(FL_CLOSED, fl_delete(c, "c/closing", &err));
  EXPECT_ERR(FL_CLOSED, fl_lock_put(l, (const uint8_t *)"x", 1, &err));
  /* close released the lock: its handle reports it. */
  fl_guard_status gs = FL_GUARD_HELD;
  OK(fl_lock_status(l, &gs, &err));
  CHECK(gs == FL_GUARD_RELEASED);
  fl_lock_free(&l);
  fl_client_free(&c);
  /* Another client sees the key free. */
  fl_client *d = connect_default();
  OK(fl_try_acquire(d, "c/closing", NULL, &l, &err));
  fl_lock_free(&l);
  fl_client_free(&d);
}

static void leader_election(void) {
  fl_client *a = connect_with("c-tests", 300);
  fl_client *b = connect_with("c-tests", 300);
  const char *e = "c/election";
  OK(fl_delete(a, e, &err));
  fl_holder *h = (fl_holder *)1;
  OK(fl_leader(a, e, &h, &err));
  CHECK(h == NULL);
  fl_leadership *la = NULL, *lb = NULL;
  OK(fl_campaign(a, e, "node-a", 2000, NULL, &la, &err));
  bool leading = false;
  OK(fl_leadership_is_leader(la, &leading, &err));
  CHECK(leading);
  uint64_t term = 0;
  OK(fl_leadership_term(la, &term, &err));
  CHECK(term > 0);
  OK(fl_leader(b, e, &h, &err));
  CHECK(h && strcmp(fl_holder_label(h), "node-a") == 0 && fl_holder_token(h) == term);
  fl_holder_free(&h);
  EXPECT_ERR(FL_HELD, fl_try_campaign(b, e, "node-b", &lb, &err));
  EXPECT_ERR(FL_TIMEOUT, fl_campaign(b, e, "node-b", 100, NULL, &lb, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_campaign(b, e, NULL, 100, NULL, &lb, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_leadership_is_leader(la, NULL, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_leadership_term(la, NULL, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_leadership_on_lost(la, NULL, NULL, &err));
  /* Leadership renews past its lease (300 ms). */
  sleep_ms(700);
  OK(fl_leadership_is_leader(la, &leading, &err));
  CHECK(leading);
  bool resigned = false;
  OK(fl_leadership_resign(la, &resigned, &err));
  CHECK(resigned);
  EXPECT_ERR(FL_NOT_HELD, fl_leadership_resign(la, &resigned, &err));
  OK(fl_leadership_is_leader(la, &leading, &err));
  CHECK(!leading);
  fl_leadership_free(&la);
  CHECK(la == NULL);
  OK(fl_try_campaign(b, e, "node-b", &lb, &err));
  uint64_t term_b = 0;
  OK(fl_leadership_term(lb, &term_b, &err));
  CHECK(term_b > term);
  /* Lost leadership calls back. */
  struct lost_flag f = {0};
  OK(fl_leadership_on_lost(lb, on_lost, &f, &err));
  OK(fl_delete(a, e, &err));
  CHECK(wait_calls(&f, 3000) == 1);
  OK(fl_leadership_is_leader(lb, &leading, &err));
  CHECK(!leading);
  fl_leadership_free(&lb);
  fl_client_free(&b);
  fl_client_free(&a);
}

struct observed {
  pthread_mutex_t mu;
  int calls;
  int nobody; /* calls reporting no leader */
  char last_label[64];
  uint64_t last_term;
};

static void on_leader(void *user_data, const fl_holder *leader) {
  struct observed *o = user_data;
  pthread_mutex_lock(&o->mu);
  o->calls++;
  if (leader) {
    snprintf(o->last_label, sizeof o->last_label, "%s", fl_holder_label(leader));
    o->last_term = fl_holder_token(leader);
  } else {
    o->nobody++;
    o->last_label[0] = 0;
  }
  pthread_mutex_unlock(&o->mu);
}

/* Waits until `cond` holds for the observation (checked under its mutex), up to 3 s. */
#define WAIT_OBSERVED(o, cond)                                  \
  do {                                                          \
    int ok_ = 0;                                                \
    for (int i_ = 0; i_ < 300 && !ok_; i_++) {                  \
      pthread_mutex_lock(&(o)->mu);                             \
      ok_ = (cond);                                             \
      pthread_mutex_unlock(&(o)->mu);                           \
      if (!ok_) sleep_ms(10);                                   \
    }                                                           \
    CHECK(ok_ && #cond);                                        \
  } while (0)

static void observe_leader_changes(void) {
  fl_client *c = connect_default();
  const char *e = "c/observed";
  OK(fl_delete(c, e, &err));
  struct observed o = {PTHREAD_MUTEX_INITIALIZER, 0, 0, "", 0};
  fl_observer *obs = NULL;
  OK(fl_observe_leader(c, e, on_leader, &o, &obs, &err));
  WAIT_OBSERVED(&o, o.calls == 1 && o.nobody == 1); /* the current state first: nobody */
  fl_leadership *l = NULL;
  OK(fl_campaign(c, e, "node-x", 2000, NULL, &l, &err));
  uint64_t term = 0;
  OK(fl_leadership_term(l, &term, &err));
  WAIT_OBSERVED(&o, strcmp(o.last_label, "node-x") == 0 && o.last_term == term);
  OK(fl_leadership_resign(l, NULL, &err));
  fl_leadership_free(&l);
  WAIT_OBSERVED(&o, o.nobody == 2);
  fl_observer_free(&obs);
  CHECK(obs == NULL);
  pthread_mutex_lock(&o.mu);
  int calls = o.calls;
  pthread_mutex_unlock(&o.mu);
  OK(fl_campaign(c, e, "node-y", 2000, NULL, &l, &err));
  sleep_ms(200);
  CHECK(o.calls == calls); /* no callback after fl_observer_free */
  fl_leadership_free(&l);
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_observe_leader(c, e, NULL, NULL, &obs, &err));
  EXPECT_ERR(FL_INVALID_KEY, fl_observe_leader(c, "", on_leader, &o, &obs, &err));
  fl_observer_free(NULL);
  fl_client_free(&c);
}

static void stats_count_what_happened(void) {
  fl_client *c = connect_default();
  const char *key = "c/stats";
  fl_stats before = FL_STATS_INIT, s = FL_STATS_INIT, unsized = {0};
  OK(fl_client_stats(c, &before, &err));
  fl_lock *a = NULL, *b = NULL;
  for (int i = 0; i < 3; i++) {
    OK(fl_acquire(c, key, 1000, NULL, NULL, &a, &err));
    OK(fl_release(c, a, NULL, 0, NULL, &err));
    fl_lock_free(&a);
  }
  OK(fl_acquire(c, key, 1000, NULL, NULL, &a, &err));
  CHECK(fl_try_acquire(c, key, NULL, &b, NULL) == FL_HELD);
  CHECK(fl_acquire(c, key, 50, NULL, NULL, &b, NULL) == FL_TIMEOUT);
  OK(fl_release(c, a, NULL, 0, NULL, &err));
  fl_lock_free(&a);
  OK(fl_client_stats(c, &s, &err));
  CHECK(s.acquisitions - before.acquisitions == 4);
  CHECK(s.try_misses - before.try_misses == 1);
  CHECK(s.timeouts - before.timeouts == 1);
  CHECK(s.wait.count - before.wait.count == 4);
  CHECK(s.hold.count - before.hold.count == 4);
  CHECK(s.hold.max_us > 0 && s.hold.total_us >= s.hold.max_us);
  CHECK(s.locks_lost == before.locks_lost);
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_client_stats(c, NULL, &err));
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_client_stats(NULL, &s, &err));
  CHECK(s.size == sizeof(fl_stats));
  /* A struct whose size was not set is refused, not half-filled. */
  EXPECT_ERR(FL_INVALID_ARGUMENT, fl_client_stats(c, &unsized, &err));
  CHECK(unsized.acquisitions == 0);
  /* A larger struct (a program built against a later header) gets what this library has. */
  struct {
    fl_stats s;
    uint64_t later_field;
  } bigger = {{0}, 7};
  bigger.s.size = sizeof bigger;
  OK(fl_client_stats(c, &bigger.s, &err));
  CHECK(bigger.s.size == sizeof(fl_stats) && bigger.later_field == 7);
  CHECK(bigger.s.acquisitions == s.acquisitions);
  fl_client_free(&c);
}

static void memory_backend(void) {
  fl_client_options o = {0};
  o.url = "memory://";
  o.namespace_name = "c-mem";
  fl_client *c = NULL;
  OK(fl_client_connect(&o, &c, &err));
  fl_lock *l = NULL;
  OK(fl_acquire(c, "m", 0, NULL, NULL, &l, &err));
  OK(fl_release(c, l, (const uint8_t *)"s", 1, NULL, &err));
  fl_lock_free(&l);
  fl_bytes *b = NULL;
  OK(fl_wait(c, "m", 0, NULL, &b, &err));
  CHECK(bytes_equal(b, "s"));
  fl_bytes_free(&b);
  fl_client_free(&c);
}

int main(void) {
  url = getenv("FENCELOCK_URL");
  if (!url) {
    fprintf(stderr, "set FENCELOCK_URL to a nats-server with JetStream (see tests/with-nats.sh)\n");
    return 2;
  }
  RUN(version_and_status_names);
  RUN(null_handles_are_harmless);
  RUN(connect_options_are_checked);
  RUN(unused_options_are_refused);
  RUN(backend_errors_name_the_server);
  RUN(acquire_release_with_state);
  RUN(try_acquire_and_timeouts);
  RUN(invalid_keys);
  RUN(lock_options_are_checked);
  RUN(expired_lease_refuses_writes);
  RUN(a_lapsed_lock_is_free_for_a_late_client);
  RUN(wait_returns_at_once_after_a_late_release);
  RUN(state_too_large);
  RUN(lost_callback_fires_when_broken);
  RUN(with_lock_runs_the_callback);
  RUN(cancel_aborts_a_wait);
  RUN(guard_of_another_client);
  RUN(use_after_close);
  RUN(leader_election);
  RUN(observe_leader_changes);
  RUN(stats_count_what_happened);
  RUN(memory_backend);
  return SUMMARY();
}
