# Sourced by the bench scripts: the server jar they run. By default it is built first
# (./mvnw package); with --no-build (or NO_BUILD=1) server/target/netboot.jar is taken as it is,
# e.g. the jar the tests just ran against, and ./netboot is told not to rebuild it either.

# no_build_flag ARGS...: sets NO_BUILD=1 when --no-build is among ARGS; the other ARGS go to REST.
no_build_flag() {
  REST=()
  for a in "$@"; do
    if [[ $a == --no-build ]]; then NO_BUILD=1; else REST+=("$a"); fi
  done
}

# bench_jar REPO BUILD_LOG: builds the jar (unless NO_BUILD=1), then sets JAVA_HOME (.mvn/find-java.sh).
bench_jar() {
  local repo=$1 build_log=$2 jar=$1/server/target/netboot.jar
  if [[ ${NO_BUILD:-0} == 1 ]]; then
    [[ -f $jar ]] || { echo "--no-build: there is no $jar; build it (./mvnw -q -B -DskipTests -pl server -am package) or drop --no-build" >&2; exit 1; }
    echo "--no-build: using $jar as it is (built $(date -r "$jar" '+%F %T'))" >&2
    export NETBOOT_NO_BUILD=1
  else
    echo "building $jar ..." >&2
    (cd "$repo" && ./mvnw -q -B -DskipTests -pl server -am package) >"$build_log" 2>&1 \
      || { tail -n 30 "$build_log" >&2; echo "build failed (see $build_log)" >&2; exit 1; }
  fi
  . "$repo/.mvn/find-java.sh"
  # The JVM's AOT cache of that jar (`./netboot aot-cache` makes it when stale; here, outside any bench namespace,
  # whose loopback the training run needs). Benches that start ./netboot serve then start it with the cache.
  (cd "$repo" && NETBOOT_NO_BUILD=1 ./netboot aot-cache) >>"$build_log" 2>&1 \
    || echo "no AOT cache for $jar (see $build_log): servers start without it" >&2
}
