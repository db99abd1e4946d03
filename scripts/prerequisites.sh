# Shared by ./shards, tests/run and .ci/run: make sure the .NET SDK and PostgreSQL's server binaries are there.
# Sourced, not run.

shards_fail() { echo "shards: $*" >&2; exit 1; }

ensure_dotnet() {
  command -v dotnet >/dev/null 2>&1 || shards_fail "the .NET 10 SDK is missing: install it (https://dot.net) and run this again."
}

postgres_binaries_present() {
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1
}

# Installs Debian's PostgreSQL when its server binaries are missing: as root directly, else through sudo,
# else stops with the one command to run. Shards starts its own private server: the package's default
# cluster is not created.
ensure_postgres_binaries() {
  postgres_binaries_present && return 0
  local install="apt-get install -y --no-install-recommends postgresql postgresql-contrib"
  local prefix=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      prefix="sudo"
    else
      shards_fail "PostgreSQL's server binaries are missing. Install them with: sudo $install"
    fi
  fi
  echo "shards: installing PostgreSQL's binaries ($install) ..." >&2
  $prefix mkdir -p /etc/postgresql-common
  echo "create_main_cluster = false" | $prefix tee /etc/postgresql-common/createcluster.conf >/dev/null
  $prefix env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  $prefix env DEBIAN_FRONTEND=noninteractive $install >&2 || shards_fail "could not install PostgreSQL. Run: sudo $install"
  postgres_binaries_present || shards_fail "PostgreSQL was installed but initdb is still missing."
}

# Installs a Debian package when COMMAND is missing (as root, or through sudo); stops with the command otherwise.
ensure_command() {
  local command="$1" package="$2"
  command -v "$command" >/dev/null 2>&1 && return 0
  local prefix=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null && prefix="sudo" \
      || shards_fail "$command is missing. Install it with: sudo apt-get install -y $package"
  fi
  echo "shards: installing $package ..." >&2
  $prefix env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  $prefix env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$package" >&2 \
    || shards_fail "could not install $package. Run: sudo apt-get install -y $package"
}

# Installs pg_auto_failover (pg_autoctl and the monitor's extension) for the newest installed PostgreSQL when
# pg_autoctl is missing: 'shards db start --ha' and the high-availability tests need it.
ensure_pg_auto_failover() {
  command -v pg_autoctl >/dev/null 2>&1 && return 0
  local major
  major="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sed -E 's#.*/postgresql/([0-9]+)/bin#\1#' | sort -n | tail -1)"
  [ -n "$major" ] || shards_fail "pg_auto_failover needs PostgreSQL's server binaries first."
  ensure_command pg_autoctl "postgresql-$major-auto-failover"
}

