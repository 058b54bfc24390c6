# bench/bench.mk - session-cache benchmark (included by the top-level Makefile).
#
#   make bench                         build both binaries, run both on the server and the
#                                      pooled heap layout, print a table per layout, write
#                                      target/bench/results.csv, throughput.svg (server)
#                                      and throughput-pooled.svg
#   make bench BENCH_ARGS="--sessions 200000 --threads 1,2 --seconds 2"
#   make bench BENCH_LAYOUTS=nginx     another layout (server, nginx, pooled: bench/layout.h)
#   make bench BENCH_RUNS=1            one run per library instead of three (median kept)
#   make bench-openssl                 run only the OpenSSL build (no library needed)
#   make bench-build                   build both binaries only
#   make bench-count                   instructions and simulated cache misses per
#                                      operation, both libraries (callgrind; repeatable)
#   make bench-latency                 this machine's cache and memory latencies
#                                      (pointer chasing, bench/chase.c)
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
BENCH_LAYOUTS ?= server,pooled
BENCH_COUNT_ARGS ?=
BENCH_PY     ?= python3

.PHONY: bench bench-build bench-openssl bench-count bench-latency bench-clean

bench: bench-build
	$(BENCH_PY) bench/report.py --runs $(BENCH_RUNS) --layouts $(BENCH_LAYOUTS) \
	    --openssl $(BENCH_DIR)/bench_openssl --sesscache $(BENCH_DIR)/bench_sesscache \
	    --libdir $(BENCH_LIBDIR) --outdir $(BENCH_DIR) -- $(BENCH_ARGS)

bench-build: $(BENCH_DIR)/bench_openssl $(BENCH_DIR)/bench_sesscache

bench-count: bench-build
	$(BENCH_PY) bench/count.py --openssl $(BENCH_DIR)/bench_openssl \
	    --sesscache $(BENCH_DIR)/bench_sesscache --libdir $(BENCH_LIBDIR) $(BENCH_COUNT_ARGS)

bench-latency: $(BENCH_DIR)/chase
	$(BENCH_DIR)/chase

$(BENCH_DIR)/chase: bench/chase.c bench/bench.mk | $(BENCH_DIR)
	$(BENCH_CC) -O2 -Wall -Wextra -Werror -o $@ bench/chase.c

bench-openssl: $(BENCH_DIR)/bench_openssl
	$(BENCH_DIR)/bench_openssl $(BENCH_ARGS)

$(BENCH_DIR):
	mkdir -p $@

BENCH_SRC := bench/bench.c bench/harness.c bench/layout.c
BENCH_DEP := $(BENCH_SRC) bench/harness.h bench/layout.h bench/nginx_trace.h bench/bench.mk

$(BENCH_DIR)/bench_openssl: $(BENCH_DEP) | $(BENCH_DIR)
	$(BENCH_CC) $(BENCH_CFLAGS) -DBENCH_OPENSSL -o $@ $(BENCH_SRC) -lssl -lcrypto -lm

# `lib` is phony, so it is order-only here: it always runs first, but the
# benchmark is only relinked when its source changes (it links the .so
# dynamically, so a rebuilt library needs no relink).
$(BENCH_DIR)/bench_sesscache: $(BENCH_DEP) | lib $(BENCH_DIR)
	$(BENCH_CC) $(BENCH_CFLAGS) -o $@ $(BENCH_SRC) -L$(BENCH_LIBDIR) -lsesscache -lm

bench-clean:
	rm -f $(BENCH_DIR)/bench_openssl $(BENCH_DIR)/bench_sesscache $(BENCH_DIR)/chase
