# bench/bench.mk - session-cache benchmark (included by the top-level Makefile).
#
#   make bench                         build both binaries, run both, print the table,
#                                      write target/bench/results.csv and throughput.svg
#   make bench BENCH_ARGS="--sessions 200000 --threads 1,2 --seconds 2"
#   make bench BENCH_RUNS=1            one run per library instead of three (median kept)
#   make bench-openssl                 run only the OpenSSL build (no library needed)
#   make bench-build                   build both binaries only
#   make bench-count                   instructions per add and per lookup, both
#                                      libraries, counted by callgrind (repeatable)
#
# Both binaries compile against the SYSTEM <openssl/ssl.h> (no -I flags).
# The sesscache binary links -Ltarget/release -lsesscache and runs with
# LD_LIBRARY_PATH=target/release (set by bench/report.py). The target `lib`
# (defined by the top-level Makefile) builds the library.

BENCH_DIR    := target/bench
BENCH_LIBDIR := target/release
BENCH_CC     ?= cc
BENCH_CFLAGS ?= -O2 -Wall -Wextra -Werror -pthread
BENCH_ARGS   ?=
BENCH_RUNS   ?= 3
BENCH_PY     ?= python3

.PHONY: bench bench-build bench-openssl bench-count bench-clean

bench: bench-build
	$(BENCH_PY) bench/report.py --runs $(BENCH_RUNS) \
	    --openssl $(BENCH_DIR)/bench_openssl --sesscache $(BENCH_DIR)/bench_sesscache \
	    --libdir $(BENCH_LIBDIR) --outdir $(BENCH_DIR) -- $(BENCH_ARGS)

bench-build: $(BENCH_DIR)/bench_openssl $(BENCH_DIR)/bench_sesscache

bench-count: bench-build
	$(BENCH_PY) bench/count.py --openssl $(BENCH_DIR)/bench_openssl \
	    --sesscache $(BENCH_DIR)/bench_sesscache --libdir $(BENCH_LIBDIR)

bench-openssl: $(BENCH_DIR)/bench_openssl
	$(BENCH_DIR)/bench_openssl $(BENCH_ARGS)

$(BENCH_DIR):
	mkdir -p $@

$(BENCH_DIR)/bench_openssl: bench/bench.c bench/bench.mk | $(BENCH_DIR)
	$(BENCH_CC) $(BENCH_CFLAGS) -DBENCH_OPENSSL -o $@ bench/bench.c -lssl -lcrypto

# `lib` is phony, so it is order-only here: it always runs first, but the
# benchmark is only relinked when its source changes (it links the .so
# dynamically, so a rebuilt library needs no relink).
$(BENCH_DIR)/bench_sesscache: bench/bench.c bench/bench.mk | lib $(BENCH_DIR)
	$(BENCH_CC) $(BENCH_CFLAGS) -o $@ bench/bench.c -L$(BENCH_LIBDIR) -lsesscache

bench-clean:
	rm -f $(BENCH_DIR)/bench_openssl $(BENCH_DIR)/bench_sesscache
