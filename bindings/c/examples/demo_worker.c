/* The demo worker in C: `demo-worker <nats_url> <worker_name> <iterations>`.
 * Each iteration acquires "demo/counter" in namespace "fencelock-demo", reads the state
 * {"count":N,"token":T,...} (none: 0, 0), checks its own token is larger than T, releases
 * writing {"count":N+1,"token":<its token>,"worker":"<name>"} and prints
 * "<name> token <T> count <N+1>". Exits 1 on any failure. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fencelock.h"

/* The number after "\"<field>\":" in a JSON object (whitespace allowed), or 0. */
static uint64_t json_number(const char *json, const char *field) {
  char pattern[32];
  snprintf(pattern, sizeof pattern, "\"%s\"", field);
  const char *p = strstr(json, pattern);
  if (!p) return 0;
  p += strlen(pattern);
  while (*p == ' ' || *p == ':') p++;
  return strtoull(p, NULL, 10);
}

static int die(const char *name, const char *what, fl_error *err) {
  fprintf(stderr, "%s: %s: %s\n", name, what, err ? fl_error_message(err) : "failed");
  fl_error_free(&err);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s <nats_url> <worker_name> <iterations>\n", argv[0]);
    return 2;
  }
  const char *name = argv[2];
  long iterations = strtol(argv[3], NULL, 10);
  fl_client_options o = {0};
  o.url = argv[1];
  o.namespace_name = "fencelock-demo";
  o.label = name;
  fl_client *client = NULL;
  fl_error *err = NULL;
  if (fl_client_connect(&o, &client, &err) != FL_OK) return die(name, "connect", err);
  int rc = 0;
  for (long i = 0; i < iterations && rc == 0; i++) {
    fl_lock *lock = NULL;
    if (fl_acquire(client, "demo/counter", 60000, NULL, NULL, &lock, &err) != FL_OK) {
      rc = die(name, "acquire", err);
      break;
    }
    fl_bytes *state = NULL;
    uint64_t token = 0, count = 0, stored = 0;
    fl_lock_token(lock, &token, NULL);
    fl_lock_initial_state(lock, &state, NULL);
    if (state) {
      char *json = calloc(fl_bytes_len(state) + 1, 1);
      memcpy(json, fl_bytes_data(state), fl_bytes_len(state));
      count = json_number(json, "count");
      stored = json_number(json, "token");
      free(json);
      fl_bytes_free(&state);
    }
    if (token <= stored) {
      fprintf(stderr, "%s: token %" PRIu64 " is not above the stored %" PRIu64 "\n", name, token,
              stored);
      rc = 1;
    } else {
      char next[256];
      int n = snprintf(next, sizeof next, "{\"count\":%" PRIu64 ",\"token\":%" PRIu64
                       ",\"worker\":\"%s\"}", count + 1, token, name);
      bool released = false;
      if (fl_release(client, lock, (const uint8_t *)next, (size_t)n, &released, &err) != FL_OK)
        rc = die(name, "release", err);
      else if (!released)
        rc = die(name, "release: the lock was lost before the write", NULL);
      else
        printf("%s token %" PRIu64 " count %" PRIu64 "\n", name, token, count + 1);
      fflush(stdout);
    }
    fl_lock_free(&lock);
  }
  fl_client_free(&client);
  return rc;
}
