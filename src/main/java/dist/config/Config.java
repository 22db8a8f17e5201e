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

    /** Every key the project reads, with its default. */
    public static final Map<String, Key> KEYS;

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
                new Key("distributed.scheduler.idle-timeout", "",
                        "a scheduler with no task to run and no change this long shuts the cluster down (empty: never)"),
                new Key("distributed.scheduler.no-workers-timeout", "",
                        "a task no worker can run (none joined, or none matches its restrictions) fails after this long (empty: it waits)"),
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
                new Key("distributed.scheduler-address", "",
                        "the scheduler (host:port) Client.connect() reaches when given no address"),
                new Key("distributed.client.reconnect-timeout", "60s",
                        "how long a client keeps trying to reach a lost scheduler before its futures fail"),
                new Key("distributed.client.result-spin-us", "500",
                        "microseconds a thread waiting for a result polls for it before it sleeps (0: never)"),
                new Key("distributed.client.restart-timeout", "60s",
                        "how long Client.restart() waits for the workers to come back"),
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
                new Key("distributed.jvm.aot-cache-dir", "",
                        "a directory of ahead-of-time caches (worker.aot, nanny.aot) that worker and nanny processes start with on JDK 25+; run.sh makes target/aot"),
                new Key("distributed.jvm.aot-record-dir", "",
                        "worker and nanny processes record what they load and run into ROLE-pid.aotconf files here, to make caches from"))) {
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

    /** Sets {@code key} in this JVM (highest precedence) until the returned handle is closed. */
    public static Override set(String key, Object value) {
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

    public static Duration getDuration(String key) {
        String[] v = lookup(known(key));
        return parseDuration(key, v[0], v[1]);
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
        return "DIST_" + key.substring("distributed.".length()).replace(".", "__").replace('-', '_')
                .toUpperCase(Locale.ROOT);
    }

    /** Forgets the file read so far, so the next read sees a changed -Ddist.config or file (tests). */
    public static void reload() {
        fileValues = null;
    }

    // ------------------------------------------------------------------ internals

    private static Key known(String key) {
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
            Key k = KEYS.get(name);
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
        if (d.matches("\\d+")) {
            parseInt(k.name(), text, source);
        } else if (d.matches("\\d*\\.\\d+")) {
            parseDouble(k.name(), text, source);
        } else {
            parseDuration(k.name(), text, source);
        }
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
