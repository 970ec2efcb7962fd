# Shared by the scripts: where things are, and how to make sure the tools and the build exist.
# Sourced, not run. Every function prints one clear line and returns non-zero on failure.

LAKE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LAKE_LOCAL_DIR="${LAKE_LOCAL_DIR:-$LAKE_ROOT/.lake-local}"
export LAKE_LOCAL_DIR
export LAKE_CONF_DIR="${LAKE_CONF_DIR:-$LAKE_ROOT/conf}"
LAKE_DIST_DIR="$LAKE_LOCAL_DIR/dist"

# LAKE_JVM_FLAGS: what Spark's launcher passes on Java 17+ (shared with the tarball's bin/lake).
source "$(dirname "${BASH_SOURCE[0]}")/jvm-flags.sh"

lake_say() { printf '%s\n' "$*" >&2; }
lake_fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root (directly, or through sudo when we are not root).
lake_as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    lake_fail "need root to run: $* (no sudo here)"; fi
}

LAKE_APT_UPDATED=""
# Installs Debian packages that are missing: lake_apt_install COMMAND_OR_FILE PACKAGE...
lake_apt_install() {
  local probe="$1"; shift
  if [ -e "$probe" ] || command -v "$probe" >/dev/null 2>&1; then return 0; fi
  lake_say "Installing Debian packages: $* ..."
  if [ -z "$LAKE_APT_UPDATED" ]; then
    lake_as_root apt-get update -qq >/dev/null || lake_fail "apt-get update failed"
    LAKE_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive lake_as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || lake_fail "apt-get install $* failed"
}

lake_require_java() {
  command -v java >/dev/null || lake_fail "java is not installed: install a JDK 17+ (e.g. Debian's openjdk-17-jdk)"
  local version
  version="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  [ "${version%%.*}" -ge 17 ] 2>/dev/null || lake_fail "java $version is too old: lambda-lake needs Java 17+"
}

lake_require_maven() {
  lake_apt_install mvn maven
}

# The Maven flags every script uses: batch mode, and CI's format check instead of formatting.
LAKE_MVN=(mvn -B -ntp)

# Builds the project unless the CLI's class path is newer than every source file and pom.
lake_ensure_built() {
  lake_require_java
  lake_require_maven
  local stamp="$LAKE_ROOT/benchmarks/target/classpath.txt"
  if [ -f "$stamp" ] && [ -z "$(find "$LAKE_ROOT" \( -path "$LAKE_ROOT/.lake-local" -o -name target -o -name .git \) -prune -o \
      \( -name '*.java' -o -name 'pom.xml' -o -name '*.conf' -o -name '*.properties' -o -name '*.js' \) \
      -newer "$stamp" -print -quit 2>/dev/null)" ]; then
    return 0
  fi
  lake_say "Building lambda-lake (mvn install, no tests) ..."
  local log="$LAKE_LOCAL_DIR/logs/build.log"
  mkdir -p "$(dirname "$log")"
  if ! (cd "$LAKE_ROOT" && "${LAKE_MVN[@]}" install -DskipTests -DskipUnitTests=true >"$log" 2>&1); then
    grep -E '^\[ERROR\]' "$log" | head -n 20 >&2
    lake_fail "the build failed; see $log"
  fi
  # The class-path file is rewritten only when it changes; it is our stamp, so mark it fresh.
  touch "$stamp"
}

# The class path of the lake CLI (its classes first).
lake_class_path() {
  printf '%s:%s' "$LAKE_ROOT/cli/target/classes" "$(cat "$LAKE_ROOT/cli/target/classpath.txt")"
}

# The class path of the benchmark drivers (benchmarks/): the CLI's and theirs.
lake_bench_class_path() {
  printf '%s:%s' "$LAKE_ROOT/benchmarks/target/classes" "$(cat "$LAKE_ROOT/benchmarks/target/classpath.txt")"
}

# Long-running services of the lake itself (collector, speed job), started in the background with
# a PID file under $LAKE_LOCAL_DIR/services; `scripts/stack down` stops them too.
LAKE_SERVICES_DIR="$LAKE_LOCAL_DIR/services"

lake_service_running() { # lake_service_running NAME
  local pid_file="$LAKE_SERVICES_DIR/$1.pid"
  [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

lake_service_start() { # lake_service_start NAME lake-arguments...
  local name="$1"; shift
  mkdir -p "$LAKE_SERVICES_DIR" "$LAKE_LOCAL_DIR/logs"
  if lake_service_running "$name"; then return 0; fi
  setsid nohup "$LAKE_ROOT/scripts/lake" "$@" >>"$LAKE_LOCAL_DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$LAKE_SERVICES_DIR/$name.pid"
}

lake_service_stop() { # lake_service_stop NAME: SIGTERM (a graceful drain), SIGKILL after 60 s
  local name="$1" pid_file="$LAKE_SERVICES_DIR/$1.pid" pid waited=0
  [ -f "$pid_file" ] || return 0
  pid="$(cat "$pid_file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && [ $waited -lt 60 ]; do sleep 1; waited=$((waited + 1)); done
    kill -KILL "$pid" 2>/dev/null || true
    echo "Stopped $name."
  fi
  rm -f "$pid_file"
}

lake_services_stop_all() {
  local pid_file
  for pid_file in "$LAKE_SERVICES_DIR"/*.pid; do
    [ -e "$pid_file" ] || continue
    lake_service_stop "$(basename "$pid_file" .pid)"
  done
}
