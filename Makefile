# sesscache: `make` builds the library and header, `make demo` shows it working,
# `make test` runs every test and ends with "N passed, M failed" (`make lint` first);
# `make lint` checks format, clippy, rustdoc, header drift and the layering in under a minute;
# `make test-servers` runs the real-world matrix (nginx, haproxy, apache, CPython, Perl, fleet
# mode; with and without the preload);
# `make check` runs the reliability gates (Miri, sanitizers, valgrind, stress, fuzzers),
# `make check-ci` a bounded run.

CARGO   ?= cargo
CC      ?= cc
CFLAGS  ?= -O1 -g -Wall -Wextra -Werror -pthread
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
REL     := target/release
# The soname has one source, build.rs, which links it into the library (0.x releases may break
# the ABI at each minor version, later ones at each major); read back from the built library.
SONAME   = $(shell readelf -d $(REL)/libsesscache.so 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
CT      := target/ct

.PHONY: all lib soname-link soname-known demo test test-servers lint header-drift check check-ci check-tools check-header clean fuzz-d2i

all: lib

# The library (shared with soname, static) and the generated header; then the preload library,
# in its own cargo run so that it gets the core without the `capi` feature.
lib:
	$(CARGO) build --release --locked -p sesscache
	$(CARGO) build --release --locked -p sesscache-preload
	@$(MAKE) -s --no-print-directory soname-link

# The soname link, as the dynamic linker finds the library at run time (a sub-make, so that
# $(SONAME) is read after the build).
soname-link: soname-known
	ln -sf libsesscache.so $(REL)/$(SONAME)
soname-known:
	@test -n "$(SONAME)" || { echo "no soname read from $(REL)/libsesscache.so (needs readelf, from binutils)"; exit 1; }

$(CT):
	mkdir -p $@

# The demo: a server-side program using the internal cache, then an external cache.
demo: lib | $(CT)
	$(CC) $(CFLAGS) -Iinclude -o $(CT)/demo examples/demo.c -L$(REL) -lsesscache
	LD_LIBRARY_PATH=$(REL) $(CT)/demo

# Fails when include/sesscache.h differs from what the sources generate (the build rewrites it).
check-header: lib header-drift
header-drift:
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  git diff --exit-code -- include/sesscache.h >/dev/null || { \
	    echo "include/sesscache.h drifted from the sources: commit the regenerated header"; exit 1; }; \
	fi

# The quick gates, in under a minute on a warm build: format, clippy on both crates and every
# target, rustdoc, the header (clippy runs build.rs, which regenerates it) and the layering
# (scripts/layers.py: no module imports a module that imports it back).
lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	RUSTDOCFLAGS=-Dwarnings $(CARGO) doc --workspace --no-deps --locked
	@$(MAKE) -s --no-print-directory header-drift
	python3 scripts/layers.py

test: lib
	./scripts/test.sh

# Servers and runtimes from Debian, each without and with the preload, compared (about a
# minute; see scripts/test-servers.sh). CI runs it after `make test`.
test-servers: lib
	./scripts/test-servers.sh

# The gates' nightly, named in rust-toolchain.toml.
NIGHTLY := $(shell sed -n 's/^\# nightly = "\(.*\)"$$/\1/p' rust-toolchain.toml)

# Fuzzes d2i_SSL_SESSION for a minute (needs the pinned nightly; installs cargo-fuzz).
FUZZ_TIME ?= 60
fuzz-d2i:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cd fuzz && $(CARGO) +$(NIGHTLY) fuzz run d2i -- -max_total_time=$(FUZZ_TIME)

# The reliability gates at full length (see scripts/check.sh and docs/reliability.md).
check:
	./scripts/check.sh full

# The bounded version CI runs: each fuzzer 60 s, the stress test 30 s.
check-ci:
	./scripts/check.sh ci

# Which tools of the gates are missing here, each with the command that installs it.
check-tools:
	./scripts/check.sh tools

clean:
	$(CARGO) clean

include bench/bench.mk

# ---- install / uninstall -------------------------------------------------------------------
# `make && sudo make install`; `make install PREFIX=/opt/sesscache`; packagers add DESTDIR=.
# Installs the shared library under its full version with the soname and dev symlinks
# (libsesscache.so.X.Y.Z <- libsesscache.so.0.MINOR <- libsesscache.so), the static library,
# the header, the preload library when it was built, and sesscache.pc. `make uninstall`
# removes exactly those files (directories are left: they may be shared).
PREFIX       ?= /usr/local
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
INSTALL      ?= install
REALNAME     := libsesscache.so.$(VERSION)
DESCRIPTION  := $(shell sed -n 's/^description = "\(.*\)"/\1/p' Cargo.toml | head -n1)
PRELOAD      := libsesscache_preload.so
# The installed files, relative to DESTDIR (uninstall removes these). Without a built library,
# uninstall finds the soname where install put it: the target of the libsesscache.so link.
INSTALLED_SONAME = $(or $(SONAME),$(shell readlink $(DESTDIR)$(LIBDIR)/libsesscache.so 2>/dev/null),$(REALNAME))
INSTALLED     = $(LIBDIR)/$(REALNAME) $(LIBDIR)/$(INSTALLED_SONAME) $(LIBDIR)/libsesscache.so \
                $(LIBDIR)/libsesscache.a $(INCLUDEDIR)/sesscache.h $(PKGCONFIGDIR)/sesscache.pc \
                $(LIBDIR)/$(PRELOAD)

.PHONY: pc install uninstall print-version print-soname

# $(REL)/sesscache.pc for the current PREFIX/LIBDIR/INCLUDEDIR; paths under PREFIX are
# written relative to ${prefix}, as pkg-config users expect.
pc:
	@mkdir -p $(REL)
	sed -e 's|@PREFIX@|$(PREFIX)|' \
	    -e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|' \
	    -e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))|' \
	    -e 's|@VERSION@|$(VERSION)|' -e "s|@DESCRIPTION@|$(DESCRIPTION)|" \
	    sesscache.pc.in >$(REL)/sesscache.pc

install: pc
	@test -f $(REL)/libsesscache.so -a -f $(REL)/libsesscache.a || { \
	  echo "nothing to install: run \`make\` first"; exit 1; }
	@$(MAKE) -s --no-print-directory soname-known
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	$(INSTALL) -m 755 $(REL)/libsesscache.so $(DESTDIR)$(LIBDIR)/$(REALNAME)
	ln -sf $(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libsesscache.so
	$(INSTALL) -m 644 $(REL)/libsesscache.a $(DESTDIR)$(LIBDIR)/libsesscache.a
	$(INSTALL) -m 644 include/sesscache.h $(DESTDIR)$(INCLUDEDIR)/sesscache.h
	$(INSTALL) -m 644 $(REL)/sesscache.pc $(DESTDIR)$(PKGCONFIGDIR)/sesscache.pc
	if [ -f $(REL)/$(PRELOAD) ]; then \
	  $(INSTALL) -m 755 $(REL)/$(PRELOAD) $(DESTDIR)$(LIBDIR)/$(PRELOAD); fi

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))

print-version:
	@echo $(VERSION)

print-soname:
	@echo $(SONAME)
