# Sourced by scripts/test.sh, scripts/check.sh and every scripts/test.d/*.sh: the repository root
# as the working directory, and what the tests share. Sets no shell options (each script sets
# its own).
#
#   . "$(dirname "${BASH_SOURCE[0]}")/../common.sh"     # from scripts/test.d/NAME.sh
#   . "$(dirname "$0")/common.sh"                       # from scripts/NAME.sh
# shellcheck shell=bash

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
# The libraries `make` builds.
REL=target/release
# The preload library, by absolute path (LD_PRELOAD from any directory).
PRE=$PWD/$REL/libsesscache_preload.so
CC=${CC:-cc}
CFLAGS=${CFLAGS:-"-O1 -g -Wall -Wextra -Werror -pthread"}

# A free TCP port on 127.0.0.1 (never a fixed one: other tests run on this machine too).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Fails the script when the preload library has not been built.
need_preload() { [ -f "$PRE" ] || { echo "missing $PRE (run make)"; exit 1; }; }
# Fails the script when redis-server or redis-cli is missing (a failure, not a skip: .ci/run
# installs them).
need_redis() {
  command -v redis-server >/dev/null || { echo "redis-server is not installed (apt-get install redis-server)"; exit 1; }
  command -v redis-cli >/dev/null || { echo "redis-cli is not installed (apt-get install redis-tools)"; exit 1; }
}
