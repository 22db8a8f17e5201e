package dist.nanny;

import dist.config.Config;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Starts {@code dist.Main} in a child JVM with this JVM's java and class path, so user classes
 * on the parent's class path reach the child. The child is told to exit when this process dies,
 * even by SIGKILL ({@code --die-with-parent}).
 */
public final class ChildJvm {
    /**
     * JVM options every role starts with (given options come later and win). The JIT compiles hot
     * paths after a fifth of the usual calls, so a fresh cluster serves tasks at full speed after a
     * few thousand of them rather than tens of thousands. Smaller inlining budgets keep each of
     * those compilations short: on two cores shared by four JVMs, the JIT's own CPU is what holds a
     * fresh cluster's throughput back, and the warmed-up speed is the same. From JDK 25, where
     * compact object headers are a product option, objects have 8-byte headers: a waiting task
     * costs the scheduler about a quarter fewer bytes ({@code ./run.sh bench-cluster --memory}).
     */
    public static final List<String> ROLE_JVM_OPTIONS = roleJvmOptions(Runtime.version().feature());

    /** The first JDK in which compact object headers are a product option. */
    static final int COMPACT_HEADERS_FEATURE = 25;

    static List<String> roleJvmOptions(int jdkFeature) {
        List<String> options = new ArrayList<>(List.of("-XX:CompileThresholdScaling=0.2",
                "-XX:FreqInlineSize=100", "-XX:InlineSmallCode=500"));
        if (jdkFeature >= COMPACT_HEADERS_FEATURE) {
            options.add("-XX:+UseCompactObjectHeaders");
        }
        return List.copyOf(options);
    }

    /**
     * The collector a worker JVM runs unless its options name one: the parallel collector, built for
     * throughput. A worker's tasks are batch work, where G1's concurrent bookkeeping and region
     * copying are pure cost: the 10M-record groupBy runs warm in 1.65 s instead of 2.1 s with a third
     * less peak memory, and the million-task run spends 9.2 instead of 12.3 us of worker CPU a task.
     * Its full collections stop the world, so a worker with a large heap that wants short pauses
     * names another in its JVM options ({@code -XX:+UseG1GC}, {@code -XX:+UseZGC}).
     */
    public static final String WORKER_GC = "-XX:+UseParallelGC";
    private static final java.util.regex.Pattern GC_OPTION = java.util.regex.Pattern.compile("-XX:[+-]Use\\w*GC");

    /** {@link #WORKER_GC} for a worker whose {@code given} options choose no collector; else nothing. */
    public static List<String> gcOptions(String role, List<String> given) {
        if (!role.equals("worker") || given.stream().anyMatch(a -> GC_OPTION.matcher(a.trim()).matches())) {
            return List.of();
        }
        return List.of(WORKER_GC);
    }

    /**
     * What a worker JVM takes besides its heap, measured with native memory tracking under the
     * memory test (256 MiB limit): code, metaspace and the class data share, GC tables, thread
     * stacks, malloc arenas and the JVM's own mapped code, about 87 MiB; the rest is margin.
     */
    static final long WORKER_NON_HEAP_MB = 112;
    /** The smallest heap the nanny gives a worker, whatever its limit. */
    static final long WORKER_MIN_HEAP_MB = 32;

    /**
     * The {@code -Xmx} in MiB for a worker whose nanny stops it past {@code terminateFraction} x
     * {@code memoryLimit} bytes of resident memory: 60% of the limit, but no more than leaves the JVM
     * its own memory below that line. At 256 MiB, 60% (154 MiB) left the process at 236 to 242 MiB,
     * a few MiB under the 243 MiB line, and a worker could be stopped for the JVM's own memory. From
     * a limit of about 320 MiB up the 60% is the smaller.
     */
    public static long workerHeapMb(long memoryLimit, double terminateFraction) {
        long share = (long) (memoryLimit * 0.6) >> 20;
        long belowLine = ((long) (memoryLimit * terminateFraction) >> 20) - WORKER_NON_HEAP_MB;
        return Math.max(WORKER_MIN_HEAP_MB, Math.min(share, belowLine));
    }

    /** Config key: the directory of the roles' ahead-of-time caches, {@code ROLE.aot}. */
    public static final String AOT_CACHE_DIR = "distributed.jvm.aot-cache-dir";
    /** Config key: where child JVMs record their training runs, {@code ROLE-pidN.aotconf}. */
    public static final String AOT_RECORD_DIR = "distributed.jvm.aot-record-dir";
    /** The first JDK whose ahead-of-time caches keep method profiles (and whose log has an "aot" tag). */
    static final int AOT_FEATURE = 25;

    private ChildJvm() {
    }

    /**
     * The ahead-of-time cache options of a child in {@code role}: a training run's recording when
     * {@code recordDir} is set, else {@code cacheDir/ROLE.aot} when that file exists. A role that
     * starts from its cache finds its classes loaded and linked, and its hot methods' profiles, so
     * the JIT compiles them at once. Nothing before JDK 25.
     */
    static List<String> aotOptions(String role, int jdkFeature, String cacheDir, String recordDir) {
        if (jdkFeature < AOT_FEATURE || role.isEmpty() || !role.chars().allMatch(Character::isLetter)) {
            return List.of();
        }
        if (!recordDir.isBlank()) {
            return List.of("-XX:AOTMode=record",
                    "-XX:AOTConfiguration=" + Path.of(recordDir.trim(), role + "-%p.aotconf"));
        }
        if (!cacheDir.isBlank()) {
            Path cache = Path.of(cacheDir.trim(), role + ".aot");
            if (Files.isRegularFile(cache)) {
                // a cache that no longer fits this class path is left unused, without a word on the output
                return List.of("-XX:AOTCache=" + cache, "-Xlog:aot=off", "-Xlog:cds=off");
            }
        }
        return List.of();
    }

    /** The java executable of this JVM. */
    public static String javaExecutable() {
        return ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
    }

    /**
     * Starts {@code java [jvmArgs] -cp <this class path> dist.Main args... --die-with-parent}.
     * Its output lines are relayed to {@code out} with {@code prefix}.
     */
    public static Process start(List<String> jvmArgs, List<String> args, String prefix, PrintStream out)
            throws IOException {
        return start(jvmArgs, args, prefix, out, null);
    }

    /**
     * As {@link #start(List, List, String, PrintStream)}; {@code onLine}, when not null, also sees every
     * line the child prints (unprefixed), on the relaying thread. Config keys set in this JVM (in code,
     * by system property or by file) are passed on as system properties.
     */
    public static Process start(List<String> jvmArgs, List<String> args, String prefix, PrintStream out,
                                Consumer<String> onLine) throws IOException {
        return start(jvmArgs, args, prefix, out, onLine, null);
    }

    /**
     * As {@link #start(List, List, String, PrintStream, Consumer)}; {@code onEnd}, when not null, runs once
     * the child's output has been read to its end, so a watcher of its exit also has its last lines.
     */
    public static Process start(List<String> jvmArgs, List<String> args, String prefix, PrintStream out,
                                Consumer<String> onLine, Runnable onEnd) throws IOException {
        return start(jvmArgs, args, Map.of(), prefix, out, onLine, onEnd);
    }

    /**
     * As {@link #start(List, List, String, PrintStream, Consumer, Runnable)}, with {@code env} added to
     * (or replacing variables of) the environment the child inherits from this process.
     */
    public static Process start(List<String> jvmArgs, List<String> args, Map<String, String> env, String prefix,
                                PrintStream out, Consumer<String> onLine, Runnable onEnd) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaExecutable());
        cmd.addAll(ROLE_JVM_OPTIONS);
        cmd.addAll(aotOptions(args.isEmpty() ? "" : args.get(0), Runtime.version().feature(),
                Config.get(AOT_CACHE_DIR), Config.get(AOT_RECORD_DIR)));
        List<String> given = new ArrayList<>(Config.childJvmOptions());
        given.addAll(jvmArgs);
        cmd.addAll(gcOptions(args.isEmpty() ? "" : args.get(0), given));
        cmd.addAll(given);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("dist.Main");
        cmd.addAll(args);
        cmd.add("--die-with-parent");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        // a platform thread: a pipe read pins a virtual thread's carrier for as long as the child lives, and
        // a few such readers left no carrier for the connections' writers
        Thread.ofPlatform().daemon(true).name("relay-" + p.pid()).start(() -> {
            try {
                relay(p, prefix, out, onLine);
            } finally {
                if (onEnd != null) {
                    onEnd.run();
                }
            }
        });
        return p;
    }

    private static void relay(Process p, String prefix, PrintStream out, Consumer<String> onLine) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (out != null) {
                    out.println(prefix + line);
                }
                if (onLine != null) {
                    onLine.accept(line);
                }
            }
        } catch (IOException e) {
            // the child went away; nothing left to relay
        }
    }

    /** SIGTERM, then SIGKILL after {@code graceMillis}; waits for the exit. */
    public static void stop(Process p, long graceMillis) {
        if (!p.isAlive()) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(graceMillis, TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** In a child: exit at once when the parent process is gone. */
    public static void dieWithParent() {
        ProcessHandle.current().parent().ifPresentOrElse(
                parent -> parent.onExit().thenRun(() -> Runtime.getRuntime().halt(3)),
                () -> Runtime.getRuntime().halt(3));
    }
}
