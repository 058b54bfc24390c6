# sesscache: `make` builds the library and header, `make demo` shows it working,
# `make test` runs every test and ends with "N passed, M failed".

CARGO   ?= cargo
CC      ?= cc
CFLAGS  ?= -O1 -g -Wall -Wextra -Werror -pthread
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
SOMINOR := $(word 2,$(subst ., ,$(VERSION)))
SONAME  := libsesscache.so.0.$(SOMINOR)
REL     := target/release
CT      := target/ct

.PHONY: all lib demo test check-header clean fuzz-d2i

all: lib

# The library (shared with soname, static) and the generated header.
lib:
	$(CARGO) build --release --locked -p sesscache
	ln -sf libsesscache.so $(REL)/$(SONAME)

$(CT):
	mkdir -p $@

# The demo: a server-side program using the internal cache, then an external cache.
demo: lib | $(CT)
	$(CC) $(CFLAGS) -Iinclude -o $(CT)/demo examples/demo.c -L$(REL) -lsesscache
	LD_LIBRARY_PATH=$(REL) $(CT)/demo

# Fails when include/sesscache.h differs from what the sources generate (the build rewrites it).
check-header: lib
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  git diff --exit-code -- include/sesscache.h >/dev/null || { \
	    echo "include/sesscache.h drifted from the sources: commit the regenerated header"; exit 1; }; \
	fi

test: lib
	./scripts/test.sh

# Fuzzes d2i_SSL_SESSION for a minute (needs the nightly toolchain; installs cargo-fuzz).
FUZZ_TIME ?= 60
fuzz-d2i:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cd fuzz && $(CARGO) +nightly fuzz run d2i -- -max_total_time=$(FUZZ_TIME)

clean:
	$(CARGO) clean

include bench/bench.mk
