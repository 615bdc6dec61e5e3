/* A tiny test harness: CHECK counts failures, RUN runs one test, SUMMARY prints the
 * closing "N passed, M failed" line that CI reads. */
#ifndef FENCELOCK_TEST_CHECK_H
#define FENCELOCK_TEST_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include "fencelock.h"

static int checks_failed_in_test;
static int tests_passed;
static int tests_failed;

#define CHECK(cond)                                                                        \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);          \
      checks_failed_in_test++;                                                             \
    }                                                                                      \
  } while (0)

#define RUN(test)                                                                          \
  do {                                                                                     \
    checks_failed_in_test = 0;                                                             \
    test();                                                                                \
    if (checks_failed_in_test == 0) {                                                      \
      tests_passed++;                                                                      \
      printf("ok - %s\n", #test);                                                          \
    } else {                                                                               \
      tests_failed++;                                                                      \
      printf("FAILED - %s\n", #test);                                                      \
    }                                                                                      \
    fflush(stdout);                                                                        \
  } while (0)

#define SUMMARY()                                                                          \
  (printf("%d passed, %d failed\n", tests_passed, tests_failed), tests_failed == 0 ? 0 : 1)

/* Expects `call` (which takes `&err` last) to fail with `expected`, with a message. */
#define EXPECT_ERR(expected, call_with_err)                                                \
  do {                                                                                     \
    fl_error *err = NULL;                                                                  \
    fl_status st_ = (call_with_err);                                                       \
    if (st_ != (expected)) {                                                               \
      fprintf(stderr, "  %s:%d: %s returned %s (%s), expected %s\n", __FILE__, __LINE__,   \
              #call_with_err, fl_status_name(st_), fl_error_message(err),                  \
              fl_status_name(expected));                                                   \
      checks_failed_in_test++;                                                             \
    } else if ((expected) != FL_OK) {                                                      \
      if (err == NULL || fl_error_code(err) != (expected) || fl_error_message(err)[0] == 0) { \
        fprintf(stderr, "  %s:%d: error of %s lacks code or message\n", __FILE__, __LINE__, \
                #call_with_err);                                                           \
        checks_failed_in_test++;                                                           \
      }                                                                                    \
    }                                                                                      \
    fl_error_free(&err);                                                                   \
  } while (0)

#define OK(call_with_err) EXPECT_ERR(FL_OK, call_with_err)

#endif
