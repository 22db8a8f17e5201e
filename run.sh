#!/usr/bin/env bash
# The one entry point: finds a JDK 21+, builds, tests, benchmarks and runs dist.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)

die() { echo "run.sh: $*" >&2; exit 1; }

java_major() { # prints the major version of the java binary in $1/bin, or nothing
  local v
  v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2; exit}') || return 0
  echo "${v%%.*}"
}

find_jdk() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
    local m; m=$(java_major "$JAVA_HOME")
    if [ -n "$m" ] && [ "$m" -ge 21 ]; then echo "$JAVA_HOME"; return; fi
  fi
  local best="" bestv=0 d m
  for d in /usr/lib/jvm/*/; do
    d=${d%/}
    [ -x "$d/bin/javac" ] || continue
    m=$(java_major "$d"); [ -n "$m" ] || continue
    if [ "$m" -ge 21 ] && [ "$m" -gt "$bestv" ]; then best=$d; bestv=$m; fi
  done
  [ -n "$best" ] && echo "$best"
}

JDK=$(find_jdk || true)
if [ -z "$JDK" ]; then
  die "no JDK 21 or newer found (JAVA_HOME=${JAVA_HOME:-unset}; looked in /usr/lib/jvm).
Install one, e.g. 'apt-get install openjdk-21-jdk-headless' (or Temurin 21+), or point JAVA_HOME at it."
fi
export JAVA_HOME=$JDK
export PATH="$JAVA_HOME/bin:$PATH"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow -XX:+IgnoreUnrecognizedVMOptions"
JAVA="$JAVA_HOME/bin/java"

need_mvn() {
  command -v mvn >/dev/null 2>&1 && return
  echo "run.sh: Maven is missing; installing Debian's maven package" >&2
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven >/dev/null
  fi
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is required: install it with 'apt-get install maven'"
}

MVN_FLAGS=(-B -q -Dstyle.color=never)

build() {
  need_mvn
  mvn "${MVN_FLAGS[@]}" -DskipTests package
}

jar_fresh() { # is target/dist.jar newer than every source file?
  [ -f target/dist.jar ] || return 1
  [ -z "$(find src/main pom.xml -newer target/dist.jar -print -quit)" ]
}

ensure_jar() { jar_fresh || build; make_aot target/dist.jar target/aot; }

# JDK 25+: each role's ahead-of-time cache (its classes loaded and linked, and its hot methods'
# profiles), trained once per build on dist.examples.JitTraining, so a fresh cluster starts warm
aot_supported() { "$JAVA" -XX:+PrintFlagsFinal -version 2>/dev/null | grep -q ' AOTCacheOutput '; }
AOT_QUIET="-Xlog:aot=off -Xlog:cds=off"

make_aot() { # CLASSPATH DIR: DIR/{host,worker,nanny}.aot, remade when a jar of CLASSPATH, the JDK or the options changed
  local cp=$1 dir=$2 jar role conf jdk
  aot_supported || return 0
  jdk="$("$JAVA" -version 2>&1 | tr '\n' ' ')$ROLE_JVM_OPTS" # a JVM refuses a cache made with other options
  if [ -f "$dir/host.aot" ] && [ "$(cat "$dir/jdk" 2>/dev/null)" = "$jdk" ]; then
    local stale=""
    for jar in ${cp//:/ }; do [ "$jar" -nt "$dir/host.aot" ] && stale=1; done
    [ -z "$stale" ] && return 0
  fi
  echo "run.sh: training the ahead-of-time caches in $dir (once per build)" >&2
  rm -rf "$dir"; mkdir -p "$dir/record"
  # shellcheck disable=SC2086
  if ! "$JAVA" $ROLE_JVM_OPTS $AOT_QUIET -XX:AOTMode=record -XX:AOTConfiguration="$dir/record/host-0.aotconf" \
      -Ddist.jvm.aot-record-dir="$dir/record" -cp "$cp" dist.examples.JitTraining >"$dir/training.log" 2>&1; then
    echo "run.sh: the training run failed (see $dir/training.log); roles start without caches" >&2
    return 0
  fi
  for role in host worker nanny; do
    conf=$(ls "$dir/record/$role"-*.aotconf 2>/dev/null | head -1)
    [ -n "$conf" ] || continue
    # shellcheck disable=SC2086
    "$JAVA" $ROLE_JVM_OPTS $AOT_QUIET -XX:AOTMode=create -XX:AOTConfiguration="$conf" \
      -XX:AOTCache="$dir/$role.aot" -cp "$cp" >>"$dir/training.log" 2>&1 || rm -f "$dir/$role.aot"
  done
  rm -rf "$dir/record"
  echo "$jdk" >"$dir/jdk"
}

aot_opts() { # ROLE DIR: the options that start ROLE from its cache and let its children find theirs
  [ -f "$2/$1.aot" ] && echo "-XX:AOTCache=$ROOT/$2/$1.aot $AOT_QUIET -Ddist.jvm.aot-cache-dir=$ROOT/$2"
  return 0
}

test_classpath() {
  need_mvn
  mvn "${MVN_FLAGS[@]}" -DskipTests test-compile dependency:build-classpath \
      -Dmdep.includeScope=test -Dmdep.outputFile=target/test.classpath >/dev/null
  echo "target/test-classes:target/classes:$(cat target/test.classpath)"
}

# as dist.nanny.ChildJvm.ROLE_JVM_OPTIONS: full speed after fewer calls, short compilations, and
# from JDK 25 (a product option there) 8-byte object headers
ROLE_JVM_OPTS="-XX:CompileThresholdScaling=0.2 -XX:FreqInlineSize=100 -XX:InlineSmallCode=500"
JDK_FEATURE=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$JAVA_HOME/release" 2>/dev/null || true)
[ -n "$JDK_FEATURE" ] || JDK_FEATURE=$(java_major "$JAVA_HOME")
if [ "${JDK_FEATURE:-0}" -ge 25 ]; then
  ROLE_JVM_OPTS="$ROLE_JVM_OPTS -XX:+UseCompactObjectHeaders"
fi
role() { # the process a role command starts: a scheduler, or a nanny unless --no-nanny
  ensure_jar
  local r=$1
  [ "$r" = worker ] && r=nanny && for a in "$@"; do [ "$a" = --no-nanny ] && r=worker; done
  [ "$r" = scheduler ] && r=host
  # shellcheck disable=SC2046
  exec "$JAVA" $ROLE_JVM_OPTS $(aot_opts "$r" target/aot) ${DIST_JAVA_OPTS:-} -jar target/dist.jar "$@"
}

bench_classpath() { # jars only: an ahead-of-time cache cannot hold classes from directories
  test_classpath >/dev/null
  jar_fresh || build >&2 # stdout is the class path
  if [ ! -f target/dist-bench.jar ] || [ -n "$(find target/test-classes -newer target/dist-bench.jar -print -quit)" ]; then
    "$JAVA_HOME/bin/jar" cf target/dist-bench.jar -C target/test-classes . >&2
  fi
  local cp="target/dist-bench.jar:target/dist.jar:$(cat target/test.classpath)"
  make_aot "$cp" target/aot-bench >&2
  echo "$cp"
}

cmd=${1:-help}
[ $# -gt 0 ] && shift
case "$cmd" in
  build) build; echo "built target/dist.jar" ;;
  install)
    need_mvn
    mvn "${MVN_FLAGS[@]}" -DskipTests -Plibrary-jars install "$@"
    v=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' pom.xml | head -1)
    g=$(sed -n 's:^  <groupId>\(.*\)</groupId>:\1:p' pom.xml | head -1)
    echo "installed $g:dist:$v (jar, sources, javadoc) in ${HOME}/.m2/repository/${g//.//}/dist/$v"
    ;;
  test)
    need_mvn
    # -Dtest.excludedGroups= runs the slow soak tests too
    mvn -B -Dstyle.color=never "$@" verify
    ;;
  bench)
    cp=$(test_classpath)
    # default: every benchmark; pass JMH arguments to narrow, e.g. ./run.sh bench Serializer -f 1
    [ $# -gt 0 ] || set -- -f 1 -wi 3 -i 5 -w 1s -r 1s
    exec "$JAVA" -cp "$cp" org.openjdk.jmh.Main "$@"
    ;;
  bench-cluster)
    cp=$(bench_classpath)
    # shellcheck disable=SC2046
    exec "$JAVA" $ROLE_JVM_OPTS $(aot_opts host target/aot-bench) -cp "$cp" dist.bench.ClusterBench "$@"
    ;;
  sim)
    cp=$(test_classpath)
    exec "$JAVA" -Xmx4g -cp "$cp" dist.sim.SchedulerSim "$@"
    ;;
  soak) exec "$0" test -Dtest.excludedGroups= -Dgroups=slow "$@" ;;
  memory)
    ensure_jar
    # a map of N 1 MiB leaves (100,000) and its tree reduction on 2 worker processes of 256 MiB
    # shellcheck disable=SC2046
    exec "$JAVA" $ROLE_JVM_OPTS $(aot_opts host target/aot) ${DIST_JAVA_OPTS:-} -cp target/dist.jar dist.examples.MemoryPressure "$@"
    ;;
  fuzz)
    cp=$(test_classpath)
    # the long campaign: 10,000,000 hostile handshakes and frames (args: INPUTS THREADS SEED)
    exec "$JAVA" -Xmx1g -cp "$cp" dist.security.FuzzMain "$@"
    ;;
  demo)
    ensure_jar
    # shellcheck disable=SC2046
    "$JAVA" $(aot_opts host target/aot) -cp target/dist.jar dist.examples.Quickstart
    # shellcheck disable=SC2046
    exec "$JAVA" $(aot_opts host target/aot) -cp target/dist.jar dist.examples.PreemptibleWorkers "$@"
    ;;
  example)
    ensure_jar
    # shellcheck disable=SC2046
    exec "$JAVA" $(aot_opts host target/aot) ${DIST_JAVA_OPTS:-} -cp target/dist.jar dist.examples.Examples "$@"
    ;;
  compare)
    # the same workloads on dask.distributed and on dist, in one run, side by side
    py=/usr/bin/python3
    if ! "$py" -c 'import distributed' >/dev/null 2>&1; then
      [ "$(id -u)" = 0 ] || die "dask.distributed is missing: install Debian's python3-distributed (as root: apt-get install python3-distributed)"
      echo "run.sh: installing Debian's python3-distributed for the comparison" >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-distributed >/dev/null \
        || die "could not install python3-distributed"
    fi
    cp=$(bench_classpath)
    mkdir -p target/compare
    echo "dask: $("$py" -c 'import distributed; print(distributed.__version__)'); dist: $("$JAVA" -version 2>&1 | head -1)"
    echo "running the workloads on dask (2 worker processes x 1 thread) ..." >&2
    (cd target/compare && "$py" "$ROOT/bench/compare/dask_bench.py" 2>dask.log) > target/compare/dask.txt \
      || die "the dask run failed; see target/compare/dask.log"
    echo "running the workloads on dist (2 worker processes x 1 thread) ..." >&2
    # shellcheck disable=SC2046
    "$JAVA" $ROLE_JVM_OPTS $(aot_opts host target/aot-bench) -cp "$cp" dist.bench.ClusterBench "$@" > target/compare/dist.txt 2>target/compare/dist.log \
      || die "the dist run failed; see target/compare/dist.log"
    awk '
      FNR == NR { dask[$1] = $2; dunit[$1] = $3; next }
      { order[++n] = $1; dist[$1] = $2; unit[$1] = $3 }
      END {
        printf "%-30s %14s %14s %10s  %s\n", "figure", "dask", "dist", "dask/dist", "unit"
        for (i = 1; i <= n; i++) {
          k = order[i]; d = (k in dask) ? dask[k] : "-"
          r = (k in dask && dist[k] > 0) ? sprintf("%.2f", dask[k] / dist[k]) : "-"
          printf "%-30s %14s %14s %10s  %s\n", k, d, dist[k], r, unit[k]
        }
        # dask-only figures (dask.dataframe'"'"'s shuffle beside the bag groupby): dist'"'"'s row is the groupby above
        for (k in dask) if (!(k in dist)) printf "%-30s %14s %14s %10s  %s\n", k, dask[k], "-", "-", dunit[k]
      }' target/compare/dask.txt target/compare/dist.txt | tee target/compare/table.txt
    ;;
  scheduler|worker|nanny|ssh|report) role "$cmd" "$@" ;;
  java) ensure_jar; exec "$JAVA" "$@" ;;
  help|-h|--help)
    cat <<USAGE
usage: ./run.sh COMMAND [ARGS]
  demo [--sigkill]     start a local cluster, run the quickstart and the preemptible-workers scenario
  example NAME [ARGS]  run an example program: wordcount [DIR], treereduction [N],
                       preemptibleworkers [--sigkill], quickstart, bagshuffle [MB] [N]
  test                 run the test suite (what CI runs)
  soak                 the long resilience runs (tests tagged "slow")
  memory [N]           N (100,000) leaves of 1 MiB and their tree reduction on 2 worker processes of
                       256 MiB: time, tasks/s, each worker's memory peaks and spilled bytes, the answer
  build                build target/dist.jar
  install              put the jar, its sources and its Javadoc in the local Maven repository
                       (~/.m2), for projects that depend on org.distjava:dist
  bench [JMH ARGS]     run the JMH benchmarks in bench/
  bench-cluster        latency, throughput, chain and tree figures of a local cluster
  sim [--workers N[,N...] --tasks N]   the scheduler state machine driven by simulated workers
                       (no sockets): placements per second and finish vs ideal per cluster size,
                       the median of --repeat N runs (3) after an uncounted --warmup TASKS (200,000)
  fuzz [INPUTS]        feed every listener 10,000,000 hostile inputs while honest peers work
  compare              the same workloads on dask.distributed and dist, side by side
                       (for times a dask/dist above 1 means dist is faster; for rates, below 1)
  scheduler|worker|nanny|ssh ARGS   run a role, as 'java -jar target/dist.jar ROLE ARGS'
  report FILE.jfr... [--out F.html] a performance report from Flight Recorder recordings of a run
  java ARGS            run the JDK 21+ found here, e.g. java -cp target/dist.jar Demo.java
JDK in use: $JAVA_HOME
USAGE
    ;;
  *) die "unknown command '$cmd'; try './run.sh help'" ;;
esac
