# http1: the HTTP/1 message codec (pure, libc only)
libreprise_core_la_SOURCES += src/http1/parse.c src/http1/names.c include/reprise/http1.h

# Tests: the llhttp and http-desync-guardian corpora, hand-written cases,
# and the fuzz corpus replay.  They share the h1_driver harness.
H1_DRIVER = tests/unit/http1/h1_driver.c tests/unit/http1/h1_driver.h
check_PROGRAMS += tests/unit/http1/llhttp_test
TESTS += tests/unit/http1/llhttp_test
tests_unit_http1_llhttp_test_SOURCES = tests/unit/http1/llhttp_test.c $(H1_DRIVER)
tests_unit_http1_llhttp_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_http1_llhttp_test_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/data/http1/README tests/data/http1/llhttp2vec.py tests/data/http1/llhttp.vec
check_PROGRAMS += tests/unit/http1/desync_test
TESTS += tests/unit/http1/desync_test
tests_unit_http1_desync_test_SOURCES = tests/unit/http1/desync_test.c $(H1_DRIVER)
tests_unit_http1_desync_test_CFLAGS = $(TEST_CFLAGS)
tests_unit_http1_desync_test_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/data/http1/desync2vec.py tests/data/http1/desync.vec
