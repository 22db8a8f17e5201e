package dist.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * {@code dist ssh HOST...}: a cluster over SSH, as dask's {@code dask-ssh}: a scheduler on the
 * first host, a worker under a nanny on each of the others (on every host when only one is
 * given), their output relayed here with the host as prefix. They listen on every interface and
 * advertise the host as given, so every one of them asks its peers for the cluster's token: one
 * given ({@code --token-file}, {@code DIST_TOKEN}) or a fresh random one, written to a file only its
 * owner can read. The token reaches each remote process on the ssh session's standard input and
 * lives there in its environment ({@code DIST_TOKEN}), never in a command line that {@code ps} shows.
 * Ctrl-C (or SIGTERM) stops every
 * remote process: each carries a marker argument unique to this cluster, and each host is told
 * to kill what carries it, since closing an SSH session without a terminal leaves its command
 * running. With {@code --adapt MIN:MAX} no worker is started up front: the load decides how many
 * run, each on the next worker host in turn ({@link SshCluster}).
 *
 * <pre>
 * java -jar dist.jar ssh node1 node2 node3 --nthreads 4
 * java -jar dist.jar ssh --hostfile hosts.txt --java /opt/jdk21/bin/java --classpath /opt/dist/dist.jar
 * </pre>
 */
public final class SshCommand {
    static final String USAGE = """
            usage: java -jar dist.jar ssh HOST [HOST...] [options]
              starts a scheduler on the first host and a worker (under a nanny) on each of the
              others over ssh; Ctrl-C stops them all. HOST is NAME or USER@NAME.
              --hostfile FILE        hosts, one per line (blank lines and # comments ignored)
              --scheduler-port P     the scheduler's port (default 8786)
              --nthreads N           task slots per worker (default: the host's cores)
              --nprocs N             worker processes per host (default 1)
              --memory-limit SIZE    per worker, e.g. 4GB
              --java PATH            java on the remote hosts (default: this java's path)
              --classpath CP         class path on the remote hosts (default: this class path)
              --jvm-options "OPTS"   JVM options for the remote scheduler and workers, e.g. "-Xmx2g"
              --ssh-username USER    log in as USER where HOST names none
              --ssh-port P           sshd's port on the hosts (default 22)
              --ssh-private-key FILE the key to log in with
              --ssh-options "OPTS"   more options for ssh, e.g. "-o StrictHostKeyChecking=accept-new"
              --startup-timeout S    seconds to wait for the scheduler to start (default 60)
              --token-file FILE      the cluster's token (first line); also DIST_TOKEN. Default: a fresh
                                     random token, written to a file only you can read (its path is
                                     printed; clients use DIST_TOKEN_FILE=FILE)
              --ssh-program PATH     the ssh client to run (default ssh), e.g. a wrapper script
              --adapt MIN:MAX        size the cluster by its load instead: MIN to MAX workers, each
                                     new one on the next worker host in turn (see ClusterManager.adapt)
            """;
    /** The system property that marks every remote process of one cluster. */
    static final String MARKER = "dist-ssh-cluster";

    private SshCommand() {
    }

    /** A host to start a role on: how ssh reaches it and the name the cluster uses for it. */
    record Target(String login, String host) {
        static Target parse(String text) throws UsageException {
            String t = text.strip();
            int at = t.lastIndexOf('@');
            String host = at >= 0 ? t.substring(at + 1) : t;
            if (host.isEmpty() || t.startsWith("-") || host.contains(" ") || host.contains("/")
                    || (host.contains(":") && !host.startsWith("["))) {
                throw new UsageException("'" + text + "' is no host: give NAME or USER@NAME (ssh's port goes in"
                        + " --ssh-port)");
            }
            return new Target(t, host);
        }
    }

    public static int run(String[] args, PrintStream out, PrintStream err) throws UsageException, IOException,
            InterruptedException {
        CliArgs a = CliArgs.parse(args,
                Set.of("--hostfile", "--scheduler-port", "--nthreads", "--nprocs", "--memory-limit", "--java",
                        "--classpath", "--jvm-options", "--ssh-username", "--ssh-port", "--ssh-private-key",
                        "--ssh-options", "--startup-timeout", "--token-file", "--ssh-program", "--adapt"),
                Set.of("--help"));
        if (a.flag("--help")) {
            out.print(USAGE);
            return 0;
        }
        List<Target> hosts = new ArrayList<>();
        for (String h : a.positional()) {
            hosts.add(Target.parse(h));
        }
        String hostfile = a.get("--hostfile", null);
        if (hostfile != null) {
            hosts.addAll(readHostfile(Path.of(hostfile)));
        }
        if (hosts.isEmpty()) {
            throw new UsageException("ssh needs at least one host: 'ssh HOST [HOST...]' or '--hostfile FILE'");
        }
        int port = a.getInt("--scheduler-port", 8786, 1, 65535);
        int startup = a.getInt("--startup-timeout", 60, 1, 3600);
        List<String> workerOpts = new ArrayList<>();
        if (a.get("--nthreads", null) != null) {
            workerOpts.addAll(List.of("--nthreads", String.valueOf(a.getInt("--nthreads", 1, 1, 4096))));
        }
        if (a.get("--nprocs", null) != null) {
            workerOpts.addAll(List.of("--nprocs", String.valueOf(a.getInt("--nprocs", 1, 1, 1024))));
        }
        if (a.get("--memory-limit", null) != null) {
            WorkerCommand.checkMemoryLimit(a.get("--memory-limit", null), a.getBytes("--memory-limit", 0));
            workerOpts.addAll(List.of("--memory-limit", a.get("--memory-limit", null)));
        }
        int[] adapt = adaptBounds(a.get("--adapt", null));
        String java = a.get("--java", ProcessHandle.current().info().command().orElse("java"));
        String classpath = a.get("--classpath", absoluteClassPath());
        String jvmOpts = a.get("--jvm-options", "").strip();
        List<String> ssh = sshCommand(a);

        String marker = UUID.randomUUID().toString();
        ClusterToken token = clusterToken(a.get("--token-file", null), System.getenv("DIST_TOKEN"), jvmOpts, marker);
        Cluster cluster = new Cluster(ssh, marker, token.value(), out, err);
        cluster.onStop(token::removeFile);
        AtomicReference<dist.Adaptive> adaptive = new AtomicReference<>();
        Thread hook = new Thread(() -> {
            dist.Adaptive ad = adaptive.get();
            if (ad != null) {
                ad.stop(); // no worker starts while the cluster stops
            }
            cluster.stop();
        }, "dist-ssh-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        Target first = hosts.get(0);
        String scheduler = first.host() + ":" + port;
        List<String> base = new ArrayList<>();
        base.add(java);
        base.add("-D" + MARKER + "=" + marker);
        if (!jvmOpts.isEmpty()) {
            base.addAll(List.of(jvmOpts.split("\\s+")));
        }
        base.addAll(List.of("-cp", classpath, "dist.Main"));

        out.println("cluster " + marker + ": scheduler on " + first.host() + ", workers on "
                + (hosts.size() == 1 ? first.host() : hosts.subList(1, hosts.size()).stream().map(Target::host).toList()));
        if (token.file() != null) {
            out.println("token for clients in " + token.file() + " (readable by you only; DIST_TOKEN_FILE="
                    + token.file() + " or -Ddist.comm.token-file=" + token.file() + "); removed when the cluster stops");
        }
        CountDownLatch up = new CountDownLatch(1);
        List<String> sched = new ArrayList<>(base);
        // every interface: a host's own name may resolve to 127.0.1.1 there (Debian's /etc/hosts)
        // the token protects the dashboard as it does the scheduler
        sched.addAll(List.of("scheduler", "--host", "0.0.0.0", "--port", String.valueOf(port),
                "--dashboard-host", "0.0.0.0"));
        cluster.start(first, "scheduler", sched, line -> {
            if (line.startsWith("scheduler at:")) {
                up.countDown();
            }
        });
        if (!up.await(startup, TimeUnit.SECONDS)) {
            err.println("ssh: the scheduler on " + first.host() + " did not start within " + startup
                    + " s (--startup-timeout); stopping");
            cluster.stop();
            return 1;
        }
        List<Target> workerHosts = hosts.size() == 1 ? hosts : hosts.subList(1, hosts.size());
        if (adapt != null) {
            dist.comm.Security security = token.value() != null
                    ? dist.comm.Security.none().withToken(token.value()) : dist.comm.Security.fromEnvironment();
            dist.Client client = dist.Client.connect(scheduler, dist.comm.CommConfig.DEFAULT.withSecurity(security)
                    .withConnectTimeout(Duration.ofSeconds(startup)));
            SshCluster workers = new SshCluster(client, cluster, workerHosts, base, scheduler, workerOpts, marker);
            cluster.onStop(client::close);
            adaptive.set(workers.adapt(adapt[0], adapt[1]));
            out.println("scheduler at: " + scheduler);
            out.println("adapting between " + adapt[0] + " and " + adapt[1] + " workers on " + workerHosts.stream()
                    .map(Target::host).toList());
            out.flush();
            cluster.awaitAllEnded();
            cluster.stop();
            return 0;
        }
        for (Target w : workerHosts) {
            List<String> cmd = new ArrayList<>(base);
            cmd.addAll(List.of("worker", scheduler, "--host", "0.0.0.0", "--contact-address", w.host(),
                    "--name", w.host()));
            cmd.addAll(workerOpts);
            cluster.start(w, "worker", cmd, line -> { });
        }
        out.println("scheduler at: " + scheduler);
        out.flush();
        cluster.awaitAllEnded();
        cluster.stop();
        return 0;
    }

    /** {@code MIN:MAX} of --adapt as {min, max}, or null when not given. */
    static int[] adaptBounds(String text) throws UsageException {
        if (text == null) {
            return null;
        }
        String[] parts = text.split(":");
        try {
            if (parts.length == 2) {
                int min = Integer.parseInt(parts[0].strip());
                int max = Integer.parseInt(parts[1].strip());
                if (min >= 0 && max >= min && max <= 100_000) {
                    return new int[]{min, max};
                }
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new UsageException("--adapt takes MIN:MAX, two whole numbers with 0 <= MIN <= MAX, e.g. --adapt 1:8; got '"
                + text + "'");
    }

    static List<Target> readHostfile(Path file) throws UsageException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UsageException("cannot read --hostfile " + file + ": " + e.getMessage());
        }
        List<Target> hosts = new ArrayList<>();
        for (String line : lines) {
            int hash = line.indexOf('#');
            String t = (hash >= 0 ? line.substring(0, hash) : line).strip();
            if (!t.isEmpty()) {
                hosts.add(Target.parse(t.split("\\s+")[0]));
            }
        }
        return hosts;
    }

    /**
     * The token the cluster's processes share: {@code value} goes to each one over its ssh session (null:
     * none, the processes read the {@code -Ddist.comm.token-file} their JVM options name); {@code file} is the
     * fresh one this command wrote, null when the token was given.
     */
    record ClusterToken(String value, Path file) {
        void removeFile() {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    // left behind; readable by its owner only
                }
            }
        }
    }

    static ClusterToken clusterToken(String tokenFile, String envToken, String jvmOpts, String marker)
            throws UsageException, IOException {
        if (tokenFile != null) {
            try {
                String first = Files.readString(Path.of(tokenFile), StandardCharsets.UTF_8).lines().findFirst()
                        .orElse("").strip();
                if (first.isEmpty()) {
                    throw new UsageException("--token-file " + tokenFile + " is empty; put a long random string in"
                            + " it, e.g. 'head -c 32 /dev/urandom | base64 > " + tokenFile + "'");
                }
                checkTokenLine(first);
                return new ClusterToken(first, null);
            } catch (IOException e) {
                throw new UsageException("cannot read --token-file " + tokenFile + ": " + e.getMessage());
            }
        }
        if (envToken != null && !envToken.isBlank()) {
            checkTokenLine(envToken.strip());
            return new ClusterToken(envToken.strip(), null);
        }
        if (jvmOpts.contains("-Ddist.comm.token-file=")) {
            return new ClusterToken(null, null); // each remote JVM reads the file its options name
        }
        byte[] random = new byte[32];
        new java.security.SecureRandom().nextBytes(random);
        String value = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        Path file;
        try {
            file = Files.createTempFile("dist-ssh-" + marker.substring(0, 8) + "-", ".token",
                    java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                            java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            file = Files.createTempFile("dist-ssh-" + marker.substring(0, 8) + "-", ".token");
        }
        Files.writeString(file, value + "\n", StandardCharsets.UTF_8);
        return new ClusterToken(value, file);
    }

    /** The token travels as one line on the session's input: it must be one line. */
    private static void checkTokenLine(String token) throws UsageException {
        if (token.contains("\n") || token.contains("\r")) {
            throw new UsageException("the token must be a single line");
        }
    }

    /**
     * What the remote shell runs: it reads the token from its input into {@code DIST_TOKEN} (where every
     * process it starts finds it, and no command line shows it), then becomes the java command.
     */
    static String remoteCommand(List<String> javaCommand) {
        return "read -r DIST_TOKEN && export DIST_TOKEN && exec "
                + String.join(" ", javaCommand.stream().map(SshCommand::quote).toList());
    }

    private static List<String> sshCommand(CliArgs a) throws UsageException {
        List<String> ssh = new ArrayList<>(List.of(a.get("--ssh-program", "ssh"), "-o", "BatchMode=yes"));
        if (a.get("--ssh-port", null) != null) {
            ssh.addAll(List.of("-p", String.valueOf(a.getInt("--ssh-port", 22, 1, 65535))));
        }
        if (a.get("--ssh-username", null) != null) {
            ssh.addAll(List.of("-l", a.get("--ssh-username", null)));
        }
        String key = a.get("--ssh-private-key", null);
        if (key != null) {
            if (!Files.isReadable(Path.of(key))) {
                throw new UsageException("--ssh-private-key " + key + " is not a readable file");
            }
            ssh.addAll(List.of("-i", key));
        }
        String more = a.get("--ssh-options", "").strip();
        if (!more.isEmpty()) {
            ssh.addAll(List.of(more.split("\\s+")));
        }
        return ssh;
    }

    private static String absoluteClassPath() {
        List<String> parts = new ArrayList<>();
        for (String p : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (!p.isEmpty()) {
                parts.add(Path.of(p).toAbsolutePath().toString());
            }
        }
        return String.join(java.io.File.pathSeparator, parts);
    }

    /** Quotes one word for the remote POSIX shell. */
    static String quote(String word) {
        return word.matches("[A-Za-z0-9_./:=@%+,-]+") ? word : "'" + word.replace("'", "'\\''") + "'";
    }

    /** The remote processes of one cluster and how to stop them. */
    static final class Cluster {
        private final List<String> ssh;
        private final String marker;
        /** Sent to each remote shell on its input; null: an empty line (the JVMs find theirs elsewhere). */
        private final String token;
        private final List<Runnable> onStop = new CopyOnWriteArrayList<>();
        private final PrintStream out;
        private final PrintStream err;
        private final List<Process> sessions = new CopyOnWriteArrayList<>();
        private final List<Target> targets = new CopyOnWriteArrayList<>();
        private final AtomicBoolean stopped = new AtomicBoolean();

        Cluster(List<String> ssh, String marker, String token, PrintStream out, PrintStream err) {
            this.ssh = ssh;
            this.marker = marker;
            this.token = token;
            this.out = out;
            this.err = err;
        }

        Process start(Target t, String role, List<String> remote, Consumer<String> onLine) throws IOException {
            List<String> cmd = new ArrayList<>(ssh);
            cmd.add(t.login());
            // exec: the remote shell becomes java, so nothing else is left behind on the host
            cmd.add(remoteCommand(remote));
            if (!targets.contains(t)) {
                targets.add(t);
            }
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            sessions.add(p);
            try (java.io.OutputStream in = p.getOutputStream()) {
                in.write(((token == null ? "" : token) + "\n").getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                err.println("[" + t.host() + " " + role + "] could not hand the token over: " + e.getMessage());
            }
            String prefix = "[" + t.host() + " " + role + "] ";
            Thread.ofPlatform().daemon(true).start(() -> { // a pipe read would pin a virtual thread's carrier
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        out.println(prefix + line);
                        out.flush();
                        onLine.accept(line);
                    }
                } catch (IOException e) {
                    // the session ended
                }
                if (!stopped.get()) {
                    p.onExit().thenAccept(x -> err.println(prefix + "ssh session ended with exit code "
                            + x.exitValue()));
                }
            });
            return p;
        }

        /** A script that sends TERM, then KILL after 5 s, to every process whose command line has {@code prop + value + tail}. */
        static String killScript(String prop, String value, String tail) {
            // "[x]yz" matches "xyz" but not the pkill command line that carries the pattern itself
            String pattern = prop + "[" + value.charAt(0) + "]" + value.substring(1) + tail;
            return "pkill -TERM -f -- " + quote(pattern) + "; for i in 1 2 3 4 5 6 7 8 9 10; do"
                    + " pgrep -f -- " + quote(pattern) + " >/dev/null || exit 0; sleep 0.5; done;"
                    + " pkill -KILL -f -- " + quote(pattern) + "; exit 0";
        }

        private Process kill(Target t, String script) {
            List<String> cmd = new ArrayList<>(ssh);
            cmd.addAll(List.of(t.login(), script));
            try {
                return new ProcessBuilder(cmd).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            } catch (IOException e) {
                err.println("ssh: cannot reach " + t.host() + " to stop its processes: " + e.getMessage());
                return null;
            }
        }

        /** Stops the processes on {@code t} marked {@code -D<prop>=<value> }, waiting up to 20 s. */
        void stopMarked(Target t, String prop, String value) throws InterruptedException {
            Process k = kill(t, killScript("-D" + prop + "=", value, " "));
            if (k != null && !k.waitFor(20, TimeUnit.SECONDS)) {
                k.destroyForcibly();
            }
        }

        void onStop(Runnable r) {
            onStop.add(r);
        }

        void awaitAllEnded() throws InterruptedException {
            for (Process p : sessions) {
                p.waitFor();
            }
        }

        /** Kills every process of this cluster on every host (TERM, then KILL after 5 s), then the sessions. */
        void stop() {
            if (!stopped.compareAndSet(false, true)) {
                return;
            }
            String script = killScript("-D" + MARKER + "=", marker, "");
            List<Process> killers = new ArrayList<>();
            for (Target t : targets) {
                Process k = kill(t, script);
                if (k != null) {
                    killers.add(k);
                }
            }
            for (Process k : killers) {
                try {
                    if (!k.waitFor(20, TimeUnit.SECONDS)) {
                        k.destroyForcibly();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            sessions.forEach(Process::destroy);
            onStop.forEach(Runnable::run);
            out.println("cluster " + marker + " stopped");
            out.flush();
        }
    }
}
