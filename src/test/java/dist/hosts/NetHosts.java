package dist.hosts;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * Test hosts made of Linux network namespaces: one bridge, and per host a namespace joined to it
 * by a veth pair, with its own address in 10.77.0.0/24 and its own name in that namespace's
 * {@code /etc/hosts} (through {@code /etc/netns/NS/hosts}, which {@code ip netns exec} mounts).
 * The bridge has no address, so nothing outside these namespaces is reachable from them or
 * reaches them. Every name carries a per-run suffix, so a crashed run never blocks the next;
 * {@link #close()} kills every process started here and removes all of it.
 *
 * <pre>{@code
 * try (NetHosts net = NetHosts.create(3)) {
 *     NetHosts.Proc s = net.java(net.host(0), "dist.Main", "scheduler", "--host", net.host(0).name());
 * }
 * }</pre>
 */
final class NetHosts implements AutoCloseable {

    /** One test host: its namespace, its address, its name and the host end of its veth pair. */
    record Host(String ns, String address, String name, String hostVeth) {}

    /** Why these tests cannot run here, or null when they can. */
    static String unavailableReason() {
        if (!"Linux".equals(System.getProperty("os.name"))) {
            return "multi-host tests need Linux network namespaces; this is " + System.getProperty("os.name");
        }
        try {
            Process id = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
            String uid = new String(id.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            id.waitFor(10, TimeUnit.SECONDS);
            if (!uid.equals("0")) {
                return "multi-host tests create network namespaces and need root (running as uid " + uid
                        + "); run './run.sh test' as root to include them";
            }
            if (!Files.isExecutable(Path.of("/usr/sbin/ip")) && !Files.isExecutable(Path.of("/sbin/ip"))
                    && !Files.isExecutable(Path.of("/usr/bin/ip"))) {
                return "multi-host tests need the 'ip' command (Debian: apt-get install iproute2)";
            }
        } catch (IOException e) {
            return "cannot check for root: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
        return null;
    }

    private final String suffix = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
    private final String bridge = "dbr" + suffix;
    private final List<Host> hosts = new ArrayList<>();
    private final List<Proc> procs = new CopyOnWriteArrayList<>();
    private final Thread hook = new Thread(this::teardown);

    private NetHosts() {
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Creates {@code n} hosts 10.77.0.1 .. 10.77.0.n named dhost1 .. dhostN; throws (after cleaning up) if that fails. */
    static NetHosts create(int n) throws IOException, InterruptedException {
        NetHosts net = new NetHosts();
        try {
            net.sh("ip", "link", "add", net.bridge, "type", "bridge");
            net.sh("ip", "link", "set", net.bridge, "up");
            StringBuilder names = new StringBuilder("127.0.0.1 localhost\n");
            for (int i = 1; i <= n; i++) {
                names.append("10.77.0.").append(i).append(" dhost").append(i).append('\n');
            }
            for (int i = 1; i <= n; i++) {
                String ns = "dist-" + net.suffix + "-h" + i;
                String outer = "dv" + net.suffix + i;
                String inner = "dp" + net.suffix + i;
                Host h = new Host(ns, "10.77.0." + i, "dhost" + i, outer);
                net.sh("ip", "netns", "add", ns);
                net.hosts.add(h);
                Path etc = Path.of("/etc/netns", ns);
                Files.createDirectories(etc);
                Files.writeString(etc.resolve("hosts"), names);
                net.sh("ip", "link", "add", outer, "type", "veth", "peer", "name", inner);
                net.sh("ip", "link", "set", inner, "netns", ns);
                net.sh("ip", "-n", ns, "addr", "add", h.address() + "/24", "dev", inner);
                net.sh("ip", "-n", ns, "link", "set", inner, "up");
                net.sh("ip", "-n", ns, "link", "set", "lo", "up");
                net.sh("ip", "link", "set", outer, "master", net.bridge, "up");
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            net.close();
            throw e;
        }
        return net;
    }

    Host host(int i) {
        return hosts.get(i);
    }

    String suffix() {
        return suffix;
    }

    /** Every packet to and from {@code h} is dropped from now on, with no close on any connection. */
    void cut(Host h) throws IOException, InterruptedException {
        sh("ip", "link", "set", h.hostVeth(), "down");
    }

    void restore(Host h) throws IOException, InterruptedException {
        sh("ip", "link", "set", h.hostVeth(), "up");
    }

    /** Runs a command to completion (bounded), failing with its output when it exits non-zero. */
    String sh(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " did not finish within 60 s");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed with exit code " + p.exitValue() + ": " + text);
        }
        return text;
    }

    /** Starts any command inside host {@code h}'s namespace. */
    Proc exec(Host h, List<String> cmd) throws IOException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", h.ns()));
        full.addAll(cmd);
        Proc p = new Proc(new ProcessBuilder(full).redirectErrorStream(true).start());
        procs.add(p);
        return p;
    }

    /** Starts {@code java -cp <this class path> mainClass args} inside host {@code h}. */
    Proc java(Host h, List<String> jvmArgs, String mainClass, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaCommand());
        cmd.add("-Xmx256m");
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(List.of(args));
        return exec(h, cmd);
    }

    /** Polls {@code condition} every 50 ms until true or the bound passes. */
    static boolean eventually(Duration bound, java.util.function.BooleanSupplier condition) throws InterruptedException {
        return dist.Wait.until(bound, condition);
    }

    static String javaCommand() {
        return ProcessHandle.current().info().command().orElseThrow();
    }

    @Override
    public void close() {
        teardown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down and runs the hook itself
        }
    }

    private void teardown() {
        for (Proc p : procs) {
            p.kill();
        }
        for (Host h : hosts) {
            // anything else still inside the namespace (e.g. started by sshd) goes too
            try {
                String pids = sh("ip", "netns", "pids", h.ns());
                for (String pid : pids.split("\\s+")) {
                    if (!pid.isBlank()) {
                        ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
                    }
                }
            } catch (IOException | InterruptedException | NumberFormatException e) {
                // best effort: the namespace goes below either way
            }
            quietly("ip", "link", "del", h.hostVeth());
            quietly("ip", "netns", "del", h.ns());
            deleteTree(Path.of("/etc/netns", h.ns()));
        }
        hosts.clear();
        quietly("ip", "link", "del", bridge);
    }

    private void quietly(String... cmd) {
        try {
            sh(cmd);
        } catch (IOException | InterruptedException e) {
            // already gone
        }
    }

    private static void deleteTree(Path p) {
        try (var s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // not there
        }
    }

    /** A started process, its output captured line by line. */
    static final class Proc {
        final Process process;
        private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final List<String> all = new CopyOnWriteArrayList<>();
        private final Writer in;

        Proc(Process p) {
            this.process = p;
            this.in = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8);
            Thread.ofVirtual().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        lines.add(line);
                        all.add(line);
                    }
                } catch (IOException e) {
                    // ended
                }
            });
        }

        /** The first line from now on that matches, or TimeoutException with the output so far. */
        String awaitLine(Predicate<String> match, Duration timeout) throws TimeoutException, InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                long left = deadline - System.nanoTime();
                String line = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
                if (line == null) {
                    throw new TimeoutException("no matching line within " + timeout + "; output so far:\n" + output());
                }
                if (match.test(line)) {
                    return line;
                }
            }
        }

        String awaitPrefix(String prefix, Duration timeout) throws TimeoutException, InterruptedException {
            return awaitLine(l -> l.startsWith(prefix), timeout).substring(prefix.length()).strip();
        }

        void tell(String line) throws IOException {
            in.write(line + "\n");
            in.flush();
        }

        String output() {
            return String.join("\n", all);
        }

        void kill() {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
