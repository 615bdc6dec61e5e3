/* Smoke scenario of the installed C library (scripts/test-dist/c.sh):
 *   smoke <nats_url> <expected_version> <name>
 * connects, acquires a fresh key (prints the token), writes state, releases, acquires again
 * and expects that state and a higher token, checks fl_version(), deletes the key. */
#include <fencelock.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *what, fl_error **err) {
  fprintf(stderr, "smoke: %s: %s: %s\n", what, fl_status_name(fl_error_code(*err)),
          fl_error_message(*err));
  fl_error_free(err);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: smoke <nats_url> <expected_version> <name>\n");
    return 2;
  }
  const char *url = argv[1], *expected = argv[2], *name = argv[3];
  if (strcmp(fl_version(), expected) != 0) {
    fprintf(stderr, "smoke: fl_version() is \"%s\", expected \"%s\"\n", fl_version(), expected);
    return 1;
  }
  char key[128];
  snprintf(key, sizeof key, "dist-smoke/%s-%ld-%ld", name, (long)getpid(), (long)time(NULL));
  const char *state = "written by the first holder";

  fl_client_options o = {0};
  o.url = url;
  o.namespace_name = "fencelock-dist-smoke";
  o.label = name;
  fl_client *client = NULL;
  fl_error *err = NULL;
  if (fl_client_connect(&o, &client, &err) != FL_OK) return fail("connect", &err);

  fl_lock *lock = NULL;
  uint64_t first = 0, second = 0;
  if (fl_acquire(client, key, 10000, NULL, NULL, &lock, &err) != FL_OK) return fail("acquire", &err);
  if (fl_lock_token(lock, &first, &err) != FL_OK) return fail("token", &err);
  printf("%s: acquired %s, token %llu\n", name, key, (unsigned long long)first);
  if (fl_lock_put(lock, (const uint8_t *)state, strlen(state), &err) != FL_OK) return fail("put", &err);
  bool released = false;
  if (fl_release(client, lock, NULL, 0, &released, &err) != FL_OK) return fail("release", &err);
  fl_lock_free(&lock);
  if (!released) {
    fprintf(stderr, "smoke: the release reports the lock lost\n");
    return 1;
  }

  if (fl_acquire(client, key, 10000, NULL, NULL, &lock, &err) != FL_OK) return fail("re-acquire", &err);
  if (fl_lock_token(lock, &second, &err) != FL_OK) return fail("token", &err);
  fl_bytes *seen = NULL;
  if (fl_lock_initial_state(lock, &seen, &err) != FL_OK) return fail("initial state", &err);
  int state_ok = seen != NULL && fl_bytes_len(seen) == strlen(state) &&
                 memcmp(fl_bytes_data(seen), state, strlen(state)) == 0;
  fl_bytes_free(&seen);
  if (fl_lock_release_clearing(lock, &released, &err) != FL_OK) return fail("release", &err);
  fl_lock_free(&lock);
  if (fl_delete(client, key, &err) != FL_OK) return fail("delete", &err);
  fl_client_free(&client);

  if (!state_ok) {
    fprintf(stderr, "smoke: the second holder did not see the first holder's state\n");
    return 1;
  }
  if (second <= first) {
    fprintf(stderr, "smoke: token %llu after %llu: not increasing\n", (unsigned long long)second,
            (unsigned long long)first);
    return 1;
  }
  printf("%s: re-acquired, token %llu > %llu, state kept; fencelock %s\n", name,
         (unsigned long long)second, (unsigned long long)first, fl_version());
  return 0;
}
