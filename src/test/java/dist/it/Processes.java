package dist.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * Real JVMs for integration tests: started with this JVM's java and class path, their output
 * captured line by line, and all of them (and their descendants) killed by {@link #close()},
 * or by a shutdown hook if the test JVM itself goes away first.
 */
public final class Processes implements AutoCloseable {

    /** A started JVM and the lines it printed. */
    public static final class Proc {
        public final Process process;
        private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final List<String> all = new CopyOnWriteArrayList<>();
        private final Thread reader;

        Proc(Process p) {
            this.process = p;
            // a platform thread: the output is still read when this JVM's virtual threads are starved,
            // which is when a failing test most needs it
            this.reader = Thread.ofPlatform().daemon().name("proc-output-" + p.pid()).start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        lines.add(line);
                        all.add(line);
                    }
                } catch (IOException e) {
                    // process ended
                }
            });
        }

        public long pid() {
            return process.pid();
        }

        /** The first line (from now on) that matches, or TimeoutException after {@code timeout}. */
        public String awaitLine(Predicate<String> match, Duration timeout) throws TimeoutException,
                InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                long left = deadline - System.nanoTime();
                String line = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
                if (line == null) {
                    throw new TimeoutException("no matching line within " + timeout + "; output so far:\n"
                            + String.join("\n", all));
                }
                if (match.test(line)) {
                    return line;
                }
            }
        }

        public String output() {
            return String.join("\n", all);
        }

        /** The exit code, waiting at most {@code timeout}. */
        public int awaitExit(Duration timeout) throws InterruptedException, TimeoutException {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new TimeoutException("process " + pid() + " still running after " + timeout
                        + "; output:\n" + output());
            }
            reader.join(5000); // the last lines may still be in the pipe
            return process.exitValue();
        }
    }

    private final List<Proc> started = new CopyOnWriteArrayList<>();
    private final Thread hook = new Thread(this::killAll);

    public Processes() {
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Starts {@code java -cp <test class path> mainClass args}. */
    public Proc java(String mainClass, String... args) throws IOException {
        return javaWith(List.of(), mainClass, args);
    }

    public Proc javaWith(List<String> jvmArgs, String mainClass, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElseThrow());
        cmd.add("-Xmx256m");
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Proc proc = new Proc(p);
        started.add(proc);
        return proc;
    }

    /** Starts {@code java -Xmx256m args}, with no class path of its own (e.g. {@code --module-path ... -m ...}). */
    public Proc javaRaw(List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElseThrow());
        cmd.add("-Xmx256m");
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Proc proc = new Proc(p);
        started.add(proc);
        return proc;
    }

    /** {@code dist.Main} with these arguments. */
    public Proc dist(String... args) throws IOException {
        return java("dist.Main", args);
    }

    /**
     * Every thread of process {@code pid}, virtual ones too ({@code jcmd Thread.dump_to_file}), at
     * most {@code maxChars}; for a failure message. Never throws: says why it has none instead.
     */
    public static String threadDump(long pid, int maxChars) {
        try {
            Path file = Files.createTempFile("dist-threads-", ".txt");
            Files.delete(file); // jcmd refuses to overwrite
            String jcmd = Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("jcmd").toString();
            Process p = new ProcessBuilder(jcmd, String.valueOf(pid), "Thread.dump_to_file", file.toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "(no thread dump of " + pid + ": jcmd did not finish in 20 s)";
            }
            if (!Files.exists(file)) {
                return "(no thread dump of " + pid + ": jcmd exited " + p.exitValue() + ")";
            }
            String dump = Files.readString(file);
            Files.deleteIfExists(file);
            return dump.length() <= maxChars ? dump : dump.substring(0, maxChars) + "\n... (" + dump.length() + " chars)";
        } catch (IOException | RuntimeException e) {
            return "(no thread dump of " + pid + ": " + e + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "(no thread dump of " + pid + ": interrupted)";
        }
    }

    private void killAll() {
        for (Proc p : started) {
            p.process.descendants().forEach(ProcessHandle::destroyForcibly);
            p.process.destroyForcibly();
        }
        for (Proc p : started) {
            try {
                p.process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        killAll();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // already shutting down
        }
    }

    /** Polls {@code condition} every 20 ms until true or the bound passes. */
    public static boolean eventually(Duration bound, java.util.function.BooleanSupplier condition)
            throws InterruptedException {
        return dist.Wait.until(bound, condition);
    }
}
