package dist.conformance;

import dist.Client;
import dist.LocalCluster;
import dist.NannyPlugin;
import dist.Wait;
import dist.WorkerPlugin;
import dist.it.Processes;
import dist.nanny.NannyContext;
import dist.worker.WorkerContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;

/**
 * Plugins for the plugin tests, and a cluster of worker processes for them. The plugins run in
 * other processes, so they leave what they saw in files of a folder the test reads: one file per
 * plugin, worker (by port) and callback.
 */
final class PluginProbes {
    static final Duration T = Duration.ofSeconds(60);

    private PluginProbes() {
    }

    /** The port of "host:port": names a worker's files. */
    static String port(String address) {
        return address.substring(address.lastIndexOf(':') + 1);
    }

    static Path file(String dir, String plugin, String where, String what) {
        return Path.of(dir).resolve(plugin + "." + where + "." + what);
    }

    static void write(Path f, String text, boolean append) {
        try {
            if (append) {
                Files.writeString(f, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.APPEND);
                return;
            }
            // whole or not at all: a reader waiting for the file never sees it empty
            Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, f, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The file's text once it exists (null when it does not within {@link #T}). */
    static String await(Path f) throws InterruptedException {
        if (!Wait.until(T, () -> Files.exists(f))) {
            return null;
        }
        return read(f);
    }

    static String read(Path f) {
        try {
            return Files.exists(f) ? Files.readString(f) : null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The transitions a {@link Recorder} wrote, one "key from to" each. */
    static List<String> transitions(String dir, String plugin, String worker) {
        String t = read(file(dir, plugin, port(worker), "transitions"));
        return t == null ? List.of() : t.lines().toList();
    }

    /**
     * dask's MyPlugin of test_worker_plugins.py: writes its data and the worker's status at setup,
     * each transition, and its teardown.
     */
    public static class Recorder implements WorkerPlugin {
        final String dir;
        final String name;
        final Object data;

        public Recorder(String dir, String name, Object data) {
            this.dir = dir;
            this.name = name;
            this.data = data;
        }

        @Override
        public String name() {
            return name;
        }

        /** The worker's port, for the transitions' file: set at setup, not sent. */
        private transient String port;

        @Override
        public void setup(WorkerContext worker) {
            port = port(worker.address());
            write(file(dir, name, port, "setup"), data + " " + worker.status(), false);
        }

        @Override
        public void teardown(WorkerContext worker) {
            write(file(dir, name, port(worker.address()), "teardown"), String.valueOf(data), false);
        }

        @Override
        public void transition(String key, String from, String to) {
            // only the test's keys: the worker's others would make the lists depend on timing
            if (key.startsWith("task") || key.startsWith("dep")) {
                write(file(dir, name, port, "transitions"), key + " " + from + " " + to + "\n", true);
            }
        }
    }

    /** A plugin that overrides nothing (dask's EmptyPlugin). */
    public static class Empty implements WorkerPlugin {
    }

    /** A plugin whose setup throws {@code error}. */
    public static class Throwing implements WorkerPlugin {
        final RuntimeException error;

        public Throwing(RuntimeException error) {
            this.error = error;
        }

        @Override
        public void setup(WorkerContext worker) {
            throw error;
        }
    }

    /** dask's DummyNannyPlugin: marks its setup and teardown in the nanny, by nanny id. */
    public static class NannyRecorder implements NannyPlugin {
        final String dir;
        final String name;
        final boolean restart;

        public NannyRecorder(String dir, String name, boolean restart) {
            this.dir = dir;
            this.name = name;
            this.restart = restart;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public boolean restart() {
            return restart;
        }

        @Override
        public void setup(NannyContext nanny) {
            write(file(dir, name, nanny.id(), "setup"), "worker " + nanny.workerAddress(), false);
        }

        @Override
        public void teardown(NannyContext nanny) {
            write(file(dir, name, nanny.id(), "teardown"), "done", false);
        }
    }

    /** A cluster of worker processes for plugin tests; closes everything, the extra processes too. */
    static final class Cluster implements AutoCloseable {
        final LocalCluster cluster;
        final Client client;
        final Processes procs = new Processes();

        private Cluster(LocalCluster cluster) {
            this.cluster = cluster;
            this.client = cluster.client();
        }

        /** {@code n} single-threaded worker processes, with nannies or not. */
        static Cluster start(int n, boolean nannies) {
            return new Cluster(LocalCluster.builder().workers(n).threadsPerWorker(1).processes(true).nannies(nannies)
                    .output(null).start());
        }

        /** Starts one more worker process (no nanny) with these extra options; waits until it registered. */
        String addWorker(String... extra) throws Exception {
            List<String> before = addresses();
            List<String> args = new java.util.ArrayList<>(List.of("worker", cluster.schedulerAddress(), "--nthreads", "1",
                    "--host", "127.0.0.1", "--no-nanny", "--no-dashboard"));
            args.addAll(List.of(extra));
            Processes.Proc p = procs.dist(args.toArray(String[]::new));
            String[] added = {null};
            if (!Wait.until(T, () -> {
                for (String a : addresses()) {
                    if (!before.contains(a)) {
                        added[0] = a;
                        return true;
                    }
                }
                return false;
            })) {
                throw new AssertionError("the new worker did not join: " + p.output());
            }
            lastWorker = p;
            return added[0];
        }

        Processes.Proc lastWorker;

        List<String> addresses() {
            return client.workersInfo().stream().map(dist.WorkerInfo::address).sorted().toList();
        }

        @Override
        public void close() {
            try {
                procs.close();
            } finally {
                try {
                    client.close();
                } finally {
                    cluster.close();
                }
            }
        }
    }
}
