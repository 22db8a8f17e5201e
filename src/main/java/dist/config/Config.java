package dist.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Settings by dask-style key, e.g. {@code distributed.scheduler.allowed-failures}. Each key is read
 * from, lowest precedence first: its built-in default, a properties file, the environment, a system
 * property, and a value set in code.
 *
 * <ul>
 *   <li>file: {@code -Ddist.config=PATH} or {@code DIST_CONFIG=PATH}, lines {@code distributed.scheduler.allowed-failures=100}</li>
 *   <li>environment: {@code DIST_SCHEDULER__ALLOWED_FAILURES=100} ("distributed." becomes "DIST_", "." becomes "__", "-" becomes "_")</li>
 *   <li>system property: {@code -Ddist.scheduler.allowed-failures=100} ("distributed." becomes "dist.")</li>
 *   <li>code: {@code Config.set("distributed.scheduler.allowed-failures", 100)}</li>
 * </ul>
 *
 * <pre>{@code
 * try (Config.Override o = Config.set("distributed.scheduler.allowed-failures", 100)) {
 *     int n = Config.getInt("distributed.scheduler.allowed-failures");   // 100
 * }
 * }</pre>
 *
 * Every key is listed with its default in {@link #KEYS} and in the README. An unknown key or a value
 * of the wrong form is an {@link IllegalArgumentException} that names the key, the value and where it came from.
 */
public final class Config {

    /** A known key, its default (as text) and what it means. */
    public record Key(String name, String defaultValue, String doc) {}

    /** Duration keys that take {@code inf} for no limit, as dask's do. */
    private static final java.util.Set<String> UNLIMITED = java.util.Set.of("distributed.scheduler.locks.lease-timeout");

    /** Every key the project reads, with its default. */
    public static final Map<String, Key> KEYS;

    /** Map key: environment variables of a nanny's worker process (dask's distributed.nanny.pre-spawn-environ). */
    public static final String NANNY_PRE_SPAWN_ENVIRON = "distributed.nanny.pre-spawn-environ";
    /** Map key: environment variables of a nanny's worker process, over pre-spawn ones (dask's distributed.nanny.environ). */
    public static final String NANNY_ENVIRON = "distributed.nanny.environ";
    /**
     * Keys whose value is a map: each entry is a key of its own, {@code FAMILY.NAME}, set, overridden
     * and {@link #unset} one by one, and read together with {@link #getMap}.
     */
    public static final java.util.Set<String> MAPS = java.util.Set.of(NANNY_PRE_SPAWN_ENVIRON, NANNY_ENVIRON);

    static {
        LinkedHashMap<String, Key> k = new LinkedHashMap<>();
        for (Key key : List.of(
                new Key("distributed.scheduler.allowed-failures", "3",
                        "worker deaths a task may be executing through before it fails with KilledWorkerException"),
                new Key("distributed.scheduler.worker-ttl", "60s",
                        "a worker that sends nothing (not even a heartbeat) this long is removed"),
                new Key("distributed.scheduler.nanny-report-wait", "500ms",
                        "how long the scheduler waits for a nanny to say why its worker's connection ended"),
                new Key("distributed.scheduler.unknown-key-grace", "10s",
                        "keys a returning worker holds that no client has asked for yet are kept this long"),
                new Key("distributed.scheduler.work-stealing", "true",
                        "whether the scheduler moves queued tasks from busy workers to idle ones (false: each task runs where it was first sent)"),
                new Key("distributed.scheduler.locks.lease-timeout", "30s",
                        "a lock or semaphore permit whose holder stops renewing it (its process died) is freed after this; holders renew at a fifth of it; inf: never freed so, nor renewed"),
                new Key("distributed.scheduler.locks.max-waiters", "10000",
                        "most waits for locks and semaphores at once; an acquire past it is refused"),
                new Key("distributed.scheduler.locks.max-names", "100000",
                        "most lock names held and semaphores made at once; one more is refused"),
                new Key("distributed.scheduler.active-memory-manager.start", "true",
                        "whether the active memory manager runs its policies every interval (retirement uses it either way)"),
                new Key("distributed.scheduler.active-memory-manager.interval", "2s",
                        "how often the active memory manager runs its policies"),
                new Key("distributed.scheduler.active-memory-manager.policies", "ReduceReplicas",
                        "the active memory manager's policies, comma-separated: ReduceReplicas and class names of dist.scheduler.MemoryManagerPolicy implementations"),
                new Key("distributed.scheduler.idle-timeout", "",
                        "a scheduler with no task to run and no change this long shuts the cluster down (empty: never)"),
                new Key("distributed.scheduler.no-workers-timeout", "",
                        "a task no worker can run (none joined, or none matches its restrictions) fails after this long (empty: it waits)"),
                new Key("distributed.scheduler.actors.max", "10000",
                        "actors the scheduler holds at once; creating one more is refused until some are released"),
                new Key("distributed.worker.actor-pending-calls", "100000",
                        "calls one actor may have waiting on its worker; past it a call fails saying so"),
                new Key("distributed.scheduler.queue-max-items", "100000",
                        "items one queue holds at most: the bound of a queue made with maxSize 0 and the largest maxSize allowed"),
                new Key("distributed.scheduler.shared-max-waiters", "10000",
                        "waiting calls (queue put/take, event wait, variable get) one name may have; more are refused"),
                new Key("distributed.scheduler.shared-max-names", "10000",
                        "queues, events, variables and topics the scheduler keeps, each kind; a new name beyond it is refused"),
                new Key("distributed.scheduler.events-log-length", "100000",
                        "events the scheduler keeps per topic for Client.events (older ones are dropped)"),
                new Key("distributed.worker.heartbeat-interval", "500ms",
                        "how often workers send heartbeats (the scheduler tells its workers)"),
                new Key("distributed.worker.reconnect-timeout", "60s",
                        "how long a worker keeps trying to reach a lost scheduler before it stops"),
                new Key("distributed.worker.idle-spin-us", "0",
                        "microseconds a free task slot polls for the next task before it sleeps: lower latency on cores to spare, lost time on busy ones"),
                new Key("distributed.worker.memory.target", "0.6",
                        "past this fraction of --memory-limit a worker writes its least recently used results to disk"),
                new Key("distributed.worker.memory.spill", "0.7",
                        "results read back from disk may fill memory up to this fraction before others go back to disk"),
                new Key("distributed.worker.memory.pause", "0.8",
                        "past this fraction of --memory-limit held in memory a worker starts no new task"),
                new Key("distributed.worker.profile.enabled", "true",
                        "whether workers sample the stacks of their running tasks for Client.profile and the dashboard's /profile"),
                new Key("distributed.worker.profile.interval", "10ms",
                        "how often a worker samples the stacks of its running tasks"),
                new Key("distributed.worker.profile.cycle", "1000ms",
                        "how often a worker sends the samples it took to the scheduler, which keeps them per task group"),
                new Key("distributed.dashboard.link", "{scheme}://{host}:{port}/status",
                        "how Client.dashboardLink() writes the dashboard's address: {scheme}, {host}, {port} and environment variables such as {USER}"),
                new Key("distributed.scheduler-address", "",
                        "the scheduler (host:port) Client.connect(), the worker and the nanny commands reach when given no address"),
                new Key("distributed.client.reconnect-timeout", "60s",
                        "how long a client keeps trying to reach a lost scheduler before its futures fail"),
                new Key("distributed.client.result-spin-us", "500",
                        "microseconds a thread waiting for a result polls for it before it sleeps (0: never)"),
                new Key("distributed.client.restart-timeout", "60s",
                        "how long Client.restart() waits for the workers to come back"),
                new Key("distributed.serialization.strict", "false",
                        "true: user values of a class that is not built in, a record, an enum, an exception, a serializable lambda or registered travel only when allow-listed (Registry.allow); false: any ordinary class travels field by field"),
                new Key("distributed.comm.reconnect-backoff-max", "2s",
                        "longest pause between two attempts to reach a lost scheduler (pauses double from 50 ms)"),
                new Key("distributed.nanny.restart-limit", "10",
                        "worker starts in a row that may fail (die before registering) before the nanny gives up"),
                new Key("distributed.nanny.restart-backoff", "500ms",
                        "pause after a failed worker start; doubles with each further failure, up to 10 s"),
                new Key("distributed.nanny.memory-poll-interval", "200ms",
                        "how often the nanny reads its worker's resident memory"),
                new Key("distributed.nanny.memory-terminate-fraction", "0.95",
                        "the nanny stops its worker when resident memory passes this fraction of --memory-limit"),
                new Key("distributed.nanny.worker-jvm-options", "",
                        "extra JVM options for worker processes started by a nanny, separated by spaces"),
                new Key("distributed.admin.log-length", "10000",
                        "log records each scheduler and worker process keeps for Client.schedulerLogs and Client.workerLogs"),
                new Key(NANNY_PRE_SPAWN_ENVIRON, "",
                        "a map: environment variables a nanny gives its worker process, entries distributed.nanny.pre-spawn-environ.NAME; a variable of the nanny's own environment keeps its value"),
                new Key(NANNY_ENVIRON, "",
                        "a map as pre-spawn-environ, over it: environment variables a nanny gives its worker process, entries distributed.nanny.environ.NAME"),
                new Key("distributed.jvm.aot-cache-dir", "",
                        "a directory of ahead-of-time caches (worker.aot, nanny.aot) that worker and nanny processes start with on JDK 25+; run.sh makes target/aot"),
                new Key("distributed.jvm.aot-record-dir", "",
                        "worker and nanny processes record what they load and run into ROLE-pid.aotconf files here, to make caches from"),
                new Key("distributed.adaptive.interval", "1s",
                        "how often an adaptive cluster (ClusterManager.adapt) asks the scheduler how many workers it wants"),
                new Key("distributed.adaptive.wait-count", "3",
                        "intervals in a row the scheduler must recommend closing a worker before an adaptive cluster retires it"),
                new Key("distributed.adaptive.target-duration", "5s",
                        "an adaptive cluster wants enough workers to finish the queued and running work in about this long"),
                new Key("distributed.adaptive.minimum", "0",
                        "the fewest workers of an adaptive cluster started by ClusterManager.adapt() without bounds"),
                new Key("distributed.adaptive.maximum", "inf",
                        "the most workers of an adaptive cluster started by ClusterManager.adapt() without bounds (inf: no limit)"),
                // the shuffle under Bag.groupBy, distinct and join
                new Key("distributed.shuffle.method", "p2p",
                        "how Bag.groupBy, distinct and join move elements between partitions: p2p (input tasks push shards to the worker that owns each output partition; n_in + n_out + 1 tasks) or tasks (graph tasks only; n_in * n_out)"),
                // task streams, spans and performance reports
                new Key("distributed.scheduler.spans.max", "1000",
                        "spans the scheduler keeps totals for (Client.span); beyond it the oldest done ones are dropped, and while none is done a new span is not counted"))) {
            k.put(key.name(), key);
        }
        KEYS = Collections.unmodifiableMap(k);
    }

    /** Undoes a {@link #set} when closed. */
    public interface Override extends AutoCloseable {
        @java.lang.Override
        void close();
    }

    private static final Map<String, String> CODE = new ConcurrentHashMap<>();
    private static volatile Map<String, String> fileValues;
    private static volatile String fileSource;

    private Config() {
    }

    /**
     * Sets {@code key} in this JVM (highest precedence) until the returned handle is closed. A map key
     * ({@link #MAPS}) takes a {@link Map} and sets each of its entries; a null entry value unsets it.
     */
    public static Override set(String key, Object value) {
        if (key != null && MAPS.contains(key)) {
            if (!(value instanceof Map<?, ?> m)) {
                throw new IllegalArgumentException(key + " is a map of names to values: give a Map, or set one entry as "
                        + key + ".NAME; got '" + value + "' (from Config.set)");
            }
            List<Override> done = new ArrayList<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                String entry = key + "." + e.getKey();
                done.add(e.getValue() == null ? unset(entry) : set(entry, e.getValue()));
            }
            return () -> done.reversed().forEach(Override::close);
        }
        Key k = known(key);
        Objects.requireNonNull(value, "value for " + key + " must not be null");
        String text = String.valueOf(value instanceof Duration d ? d.toMillis() + "ms" : value);
        check(k, text, "Config.set");
        String before = CODE.put(key, text);
        return () -> {
            if (before == null) {
                CODE.remove(key);
            } else {
                CODE.put(key, before);
            }
        };
    }

    /**
     * Takes {@code key} out of lower sources (file, environment, system property) in this JVM until the
     * returned handle is closed: a map entry is then absent, any other key has its default (dask's
     * {@code None} in a config overlay).
     *
     * <pre>{@code
     * try (Config.Override o = Config.unset("distributed.nanny.environ.HTTP_PROXY")) {
     *     Config.getMap("distributed.nanny.environ");   // without HTTP_PROXY
     * }
     * }</pre>
     */
    public static Override unset(String key) {
        known(key);
        String before = CODE.put(key, UNSET);
        return () -> {
            if (before == null) {
                CODE.remove(key);
            } else {
                CODE.put(key, before);
            }
        };
    }

    /**
     * The entries of map key {@code key} ({@link #MAPS}), by name, each from the highest-precedence source
     * that has it: {@code FAMILY.NAME} set in code, {@code -Ddist....NAME}, environment {@code DIST_...__NAME}
     * (NAME as written), or the file.
     *
     * <pre>{@code
     * Config.set("distributed.nanny.environ", Map.of("OMP_NUM_THREADS", 1));
     * Config.getMap("distributed.nanny.environ");   // {OMP_NUM_THREADS=1}
     * }</pre>
     */
    public static Map<String, String> getMap(String key) {
        if (key == null || !MAPS.contains(key)) {
            throw new IllegalArgumentException("'" + key + "' is not a map key; map keys: " + String.join(", ", MAPS));
        }
        java.util.TreeSet<String> names = new java.util.TreeSet<>();
        String dot = key + ".";
        CODE.keySet().stream().filter(n -> n.startsWith(dot)).forEach(n -> names.add(n.substring(dot.length())));
        String prop = propertyName(key) + ".";
        System.getProperties().stringPropertyNames().stream().filter(n -> n.startsWith(prop))
                .forEach(n -> names.add(n.substring(prop.length())));
        String env = environmentName(key) + "__";
        System.getenv().keySet().stream().filter(n -> n.startsWith(env)).forEach(n -> names.add(n.substring(env.length())));
        file().keySet().stream().filter(n -> n.startsWith(dot)).forEach(n -> names.add(n.substring(dot.length())));
        LinkedHashMap<String, String> out = new LinkedHashMap<>();
        for (String name : names) {
            if (name.isEmpty()) {
                continue;
            }
            String v = lookup(known(dot + name))[0];
            if (v != null) {
                out.put(name, v);
            }
        }
        return out;
    }

    /** The value of {@code key} as text, from the highest-precedence source that has it. */
    public static String get(String key) {
        return lookup(known(key))[0];
    }

    /** Where {@code key}'s current value comes from ("default", "file PATH", "environment NAME", ...). */
    public static String source(String key) {
        return lookup(known(key))[1];
    }

    public static int getInt(String key) {
        String[] v = lookup(known(key));
        return parseInt(key, v[0], v[1]);
    }

    public static double getDouble(String key) {
        String[] v = lookup(known(key));
        return parseDouble(key, v[0], v[1]);
    }

    /** "true" or "false" (any case), e.g. {@code Config.getBoolean("distributed.scheduler.work-stealing")}. */
    public static boolean getBoolean(String key) {
        String[] v = lookup(known(key));
        return parseBoolean(key, v[0], v[1]);
    }

    /**
     * A duration such as {@code 500ms}, {@code 3s} or {@code 2m}; for a key that allows no limit
     * (as {@code distributed.scheduler.locks.lease-timeout}), {@code inf} is
     * {@link java.time.temporal.ChronoUnit#FOREVER}'s duration:
     * {@code Duration lease = Config.getDuration("distributed.scheduler.locks.lease-timeout");}
     */
    public static Duration getDuration(String key) {
        String[] v = lookup(known(key));
        if (UNLIMITED.contains(key) && isInf(v[0])) {
            return java.time.temporal.ChronoUnit.FOREVER.getDuration();
        }
        return parseDuration(key, v[0], v[1]);
    }

    private static boolean isInf(String text) {
        return text != null && text.trim().equalsIgnoreCase("inf");
    }

    /** Every key with its current value, in the order of {@link #KEYS}. */
    public static Map<String, String> all() {
        LinkedHashMap<String, String> m = new LinkedHashMap<>();
        for (Key k : KEYS.values()) {
            m.put(k.name(), lookup(k)[0]);
        }
        return m;
    }

    /**
     * {@code -Ddist...=value} options that carry to a child JVM the keys set in code, by system
     * property or by file here (the environment reaches children by itself).
     */
    public static List<String> childJvmOptions() {
        List<String> out = new ArrayList<>();
        for (Key k : KEYS.values()) {
            if (MAPS.contains(k.name())) {
                for (String name : getMap(k.name()).keySet()) {
                    String[] v = lookup(known(k.name() + "." + name));
                    if (!v[1].startsWith("environment")) {
                        out.add("-D" + propertyName(k.name()) + "." + name + "=" + v[0]);
                    }
                }
                continue;
            }
            String[] v = lookup(k);
            if (!v[1].equals("default") && !v[1].startsWith("environment")) {
                out.add("-D" + propertyName(k.name()) + "=" + v[0]);
            }
        }
        return out;
    }

    /** "distributed.scheduler.allowed-failures" -> "dist.scheduler.allowed-failures". */
    public static String propertyName(String key) {
        return "dist." + key.substring("distributed.".length());
    }

    /** "distributed.scheduler.allowed-failures" -> "DIST_SCHEDULER__ALLOWED_FAILURES". */
    public static String environmentName(String key) {
        String family = family(key);
        if (family != null) {
            return environmentName(family) + "__" + key.substring(family.length() + 1); // the NAME as written
        }
        return "DIST_" + key.substring("distributed.".length()).replace(".", "__").replace('-', '_')
                .toUpperCase(Locale.ROOT);
    }

    /** Forgets the file read so far, so the next read sees a changed -Ddist.config or file (tests). */
    public static void reload() {
        fileValues = null;
    }

    // ------------------------------------------------------------------ internals

    /** Stands in code for a key taken out ({@link #unset}); no value is this very string. */
    private static final String UNSET = new String("(unset)");

    /** The map key {@code key} is an entry of, or null. */
    private static String family(String key) {
        for (String m : MAPS) {
            if (key.length() > m.length() + 1 && key.startsWith(m) && key.charAt(m.length()) == '.') {
                return m;
            }
        }
        return null;
    }

    private static Key known(String key) {
        if (key != null && family(key) != null) {
            return new Key(key, "", "an entry of " + family(key));
        }
        Key k = key == null ? null : KEYS.get(key);
        if (k == null) {
            throw new IllegalArgumentException("unknown config key '" + key + "'; known keys: "
                    + String.join(", ", KEYS.keySet()));
        }
        return k;
    }

    /** [value, source] */
    private static String[] lookup(Key k) {
        String v = CODE.get(k.name());
        if (v == UNSET) {
            return new String[]{family(k.name()) != null ? null : k.defaultValue(), "Config.unset"};
        }
        if (v != null) {
            return new String[]{v, "Config.set"};
        }
        String prop = propertyName(k.name());
        v = System.getProperty(prop);
        if (v != null) {
            return new String[]{v.trim(), "system property " + prop};
        }
        String env = environmentName(k.name());
        v = System.getenv(env);
        if (v != null) {
            return new String[]{v.trim(), "environment " + env};
        }
        Map<String, String> file = file();
        v = file.get(k.name());
        if (v != null) {
            return new String[]{v, "file " + fileSource};
        }
        return new String[]{k.defaultValue(), "default"};
    }

    private static Map<String, String> file() {
        Map<String, String> f = fileValues;
        if (f != null) {
            return f;
        }
        String path = System.getProperty("dist.config");
        if (path == null) {
            path = System.getenv("DIST_CONFIG");
        }
        f = path == null || path.isBlank() ? Map.of() : readFile(Path.of(path));
        fileSource = path;
        fileValues = f;
        return f;
    }

    /** Reads a properties file of config keys; an unknown key or a bad value names the file and the key. */
    public static Map<String, String> readFile(Path path) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the dist config file " + path + " (named by -Ddist.config "
                    + "or DIST_CONFIG): " + e.getMessage(), e);
        }
        LinkedHashMap<String, String> m = new LinkedHashMap<>();
        for (String name : p.stringPropertyNames()) {
            if (MAPS.contains(name)) {
                throw new IllegalArgumentException(name + " in " + path + " is a map: write one line per entry, "
                        + name + ".NAME=VALUE");
            }
            Key k = family(name) != null ? known(name) : KEYS.get(name);
            if (k == null) {
                throw new IllegalArgumentException("unknown config key '" + name + "' in " + path
                        + "; known keys: " + String.join(", ", KEYS.keySet()));
            }
            String v = p.getProperty(name).trim();
            check(k, v, "file " + path);
            m.put(name, v);
        }
        return m;
    }

    private static void check(Key k, String text, String source) {
        String d = k.defaultValue();
        if (d.isEmpty()) {
            return;
        }
        if (d.equals("true") || d.equals("false")) {
            parseBoolean(k.name(), text, source);
        } else if (d.matches("\\d+")) {
            parseInt(k.name(), text, source);
        } else if (d.matches("\\d*\\.\\d+")) {
            parseDouble(k.name(), text, source);
        } else if (d.matches("\\d+[a-z]*")) {
            if (!(UNLIMITED.contains(k.name()) && isInf(text))) {
                parseDuration(k.name(), text, source);
            }
        } // else a text value, such as a template: taken as it is
    }

    static int parseInt(String key, String text, String source) {
        try {
            int n = Integer.parseInt(text.trim());
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a whole number of 0 or more, got '" + text
                    + "' (from " + source + ")");
        }
    }

    static boolean parseBoolean(String key, String text, String source) {
        String v = text.trim().toLowerCase(Locale.ROOT);
        if (v.equals("true") || v.equals("false")) {
            return v.equals("true");
        }
        throw new IllegalArgumentException(key + " must be true or false, got '" + text + "' (from " + source + ")");
    }

    static double parseDouble(String key, String text, String source) {
        try {
            double d = Double.parseDouble(text.trim());
            if (!(d > 0) || Double.isInfinite(d)) {
                throw new NumberFormatException();
            }
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a positive number such as 0.95, got '" + text
                    + "' (from " + source + ")");
        }
    }

    /** "500ms", "3s", "2m", "1h", or a plain number of seconds ("1.5"). */
    public static Duration parseDuration(String key, String text, String source) {
        String v = text.trim().toLowerCase(Locale.ROOT);
        double mult;
        if (v.endsWith("ms")) {
            mult = 1;
            v = v.substring(0, v.length() - 2);
        } else if (v.endsWith("s")) {
            mult = 1000;
            v = v.substring(0, v.length() - 1);
        } else if (v.endsWith("m")) {
            mult = 60_000;
            v = v.substring(0, v.length() - 1);
        } else if (v.endsWith("h")) {
            mult = 3_600_000;
            v = v.substring(0, v.length() - 1);
        } else {
            mult = 1000;
        }
        try {
            double d = Double.parseDouble(v.trim());
            if (!(d > 0) || Double.isInfinite(d)) {
                throw new NumberFormatException();
            }
            return Duration.ofMillis(Math.max(1, Math.round(d * mult)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a positive duration such as 500ms, 3s or 2m, got '"
                    + text + "' (from " + source + ")");
        }
    }
}
