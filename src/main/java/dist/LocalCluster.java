package dist;

import dist.client.InProcessTransport;
import dist.nanny.ChildJvm;
import dist.comm.CommConfig;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.worker.WorkerServer;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A scheduler and workers on this machine, all on 127.0.0.1: workers as threads of this JVM, or
 * as child JVMs ({@code processes(true)}) that share this JVM's class path, so the user's classes
 * reach them. No child outlives this process, even when it is killed. It grows and shrinks by
 * {@link #scale} and {@link #adapt} (see {@link ClusterManager}); its workers are named
 * {@code worker-0}, {@code worker-1}... in the order they start.
 *
 * <pre>{@code
 * try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).processes(true).start();
 *      Client client = cluster.client()) {
 *     Future<Integer> x = client.submit(Demo::inc, 10);
 *     System.out.println(x.result());   // 11
 * }
 * }</pre>
 */
public final class LocalCluster implements ClusterManager {

    /** Settings for {@link LocalCluster}; {@link #start()} builds it. */
    public static final class Builder {
        private int workers = Math.max(1, Runtime.getRuntime().availableProcessors());
        private int threadsPerWorker = 1;
        private boolean processes = false;
        private boolean nannies = true;
        private long memoryLimit = 0;
        private int schedulerPort = 0;
        private int dashboardPort = -1;
        private PrintStream output = System.err;
        private final List<String> workerJvmArgs = new ArrayList<>();
        private java.nio.file.Path schedulerFile;
        private final java.util.Map<String, String> workerEnv = new java.util.LinkedHashMap<>();

        private Builder() {
        }

        /** How many workers (default: the number of cores). */
        public Builder workers(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("workers must be 0 or more, got " + n);
            }
            this.workers = n;
            return this;
        }

        /** Task slots per worker (default 1). */
        public Builder threadsPerWorker(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("threadsPerWorker must be at least 1, got " + n);
            }
            this.threadsPerWorker = n;
            return this;
        }

        /** Workers as child JVMs (true) or as threads of this JVM (false, the default). */
        public Builder processes(boolean processes) {
            this.processes = processes;
            return this;
        }

        /**
         * With {@code processes(true)}: run each worker under a nanny process that restarts it when it
         * dies and enforces the memory limit (true, the default), or bare (false).
         */
        public Builder nannies(boolean nannies) {
            this.nannies = nannies;
            return this;
        }

        /** Memory limit per worker in bytes (0: none). */
        public Builder memoryLimit(long bytes) {
            this.memoryLimit = bytes;
            return this;
        }

        /** The scheduler's port (default 0: any free port). */
        public Builder schedulerPort(int port) {
            this.schedulerPort = port;
            return this;
        }

        /**
         * Serve the scheduler's web dashboard on 127.0.0.1:{@code port} (0: any free port; the default
         * is no dashboard, so clusters in tests never compete for a port).
         */
        public Builder dashboard(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("dashboard port must be 0 (any free port) to 65535, got " + port);
            }
            this.dashboardPort = port;
            return this;
        }

        /** Where child workers' output goes (default System.err; null drops it). */
        public Builder output(PrintStream out) {
            this.output = out;
            return this;
        }

        /**
         * Writes a scheduler file (the scheduler's address and id, as JSON) at {@code file} once the
         * scheduler listens, removed when the cluster closes: workers and clients elsewhere find the
         * scheduler there ({@code worker --scheduler-file FILE}, {@link Client#connectSchedulerFile}).
         */
        public Builder schedulerFile(java.nio.file.Path file) {
            this.schedulerFile = java.util.Objects.requireNonNull(file, "file");
            return this;
        }

        /** Extra JVM options for worker processes, e.g. "-Xmx512m". */
        public Builder workerJvmArgs(String... args) {
            workerJvmArgs.addAll(List.of(args));
            return this;
        }

        /**
         * With {@code processes(true)}: environment variables of the worker processes (dask's
         * {@code LocalCluster(env=...)}); under nannies they go over the nanny's own environment and
         * {@code distributed.nanny.environ}. Workers in this process (the default) cannot have them.
         *
         * <pre>{@code
         * LocalCluster.builder().processes(true).workerEnv(Map.of("OMP_NUM_THREADS", "1")).start();
         * }</pre>
         */
        public Builder workerEnv(java.util.Map<String, String> env) {
            env.forEach((k, v) -> {
                if (k == null || k.isEmpty() || k.contains("=") || v == null) {
                    throw new IllegalArgumentException("workerEnv takes names without '=' and values, got " + k + "=" + v);
                }
            });
            workerEnv.putAll(env);
            return this;
        }

        /**
         * Starts the scheduler and the workers, and returns once every worker is registered.
         *
         * @throws java.io.UncheckedIOException when a port is taken or a worker process cannot start
         * @throws DistTimeoutException         when the workers do not all register within 60 s
         */
        public LocalCluster start() {
            try {
                return new LocalCluster(this);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e.getMessage(), e);
            }
        }
    }

    /** How long the workers (and their nannies) have to register. */
    private static final java.time.Duration START_TIMEOUT = java.time.Duration.ofSeconds(60);
    /** How long a retired worker's process has to end by itself, then after SIGTERM. */
    private static final java.time.Duration STOP_GRACE = java.time.Duration.ofSeconds(5);

    private final Builder config;
    private final SchedulerServer scheduler;
    private final dist.cluster.DashboardService.Running dashboard;
    private final List<WorkerServer> threadWorkers = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<Process> processWorkers = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Each worker (thread or nanny / worker process) by its name, to stop the one a scale-down retired. */
    private final java.util.Map<String, Object> byName = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<Client> clients = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final java.util.concurrent.locks.ReentrantLock clientLock = new java.util.concurrent.locks.ReentrantLock();
    /** The client scaling asks through, made when first needed. */
    private Client managerClient;
    private final AbstractClusterManager manager = new AbstractClusterManager(this::managerClient) {
        @Override
        protected void startWorker(String name) throws IOException {
            LocalCluster.this.startWorker(name);
        }

        @Override
        protected void stopWorker(String name) {
            LocalCluster.this.stopWorker(name);
        }
    };
    private volatile boolean closed;

    public static Builder builder() {
        return new Builder();
    }

    private LocalCluster(Builder b) throws IOException {
        if (!b.processes && !b.workerEnv.isEmpty()) {
            throw new IllegalArgumentException("workerEnv needs processes(true): workers in this process share its"
                    + " environment");
        }
        this.config = b;
        this.scheduler = SchedulerServer.start("127.0.0.1", b.schedulerPort, SchedulerConfig.defaults(),
                CommConfig.DEFAULT);
        try {
            this.dashboard = b.dashboardPort < 0 ? null : dist.cluster.DashboardService.find().start(scheduler, "127.0.0.1",
                    b.dashboardPort);
        } catch (IOException e) {
            scheduler.close();
            throw new IOException("the dashboard cannot use port " + b.dashboardPort + ": " + e.getMessage()
                    + " (choose another, or 0 for any free port)", e);
        }
        try {
            if (b.schedulerFile != null) {
                scheduler.writeSchedulerFile(b.schedulerFile);
            }
            try {
                manager.scale(b.workers);
            } catch (IllegalStateException e) {
                if (e.getCause() instanceof IOException io) {
                    throw io;
                }
                throw e;
            }
            if (!scheduler.awaitWorkers(b.workers, START_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                throw new DistTimeoutException("LocalCluster.start", START_TIMEOUT, "LocalCluster's fixed start bound",
                        "only " + scheduler.workerCount() + " of " + b.workers + " workers registered", null);
            }
            if (b.processes && b.nannies) {
                awaitNannies(b.workers);
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        } catch (InterruptedException e) {
            close();
            throw Calls.interrupted("the cluster to start", e);
        }
    }

    /**
     * Each nanny tells the scheduler which worker it runs just after that worker registers; until
     * then a restart cannot go through the nanny, so the cluster is ready only once all have.
     */
    private void awaitNannies(int n) throws IOException, InterruptedException {
        long end = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            int known;
            try {
                known = scheduler.query(s -> s.view().workersWithNanny(), 10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new DistTimeoutException("LocalCluster.start", java.time.Duration.ofSeconds(10),
                        "LocalCluster's fixed bound on a query of its scheduler", e.getMessage(), e);
            }
            if (known >= n) {
                return;
            }
            if (System.nanoTime() - end > 0) {
                throw new DistTimeoutException("LocalCluster.start", START_TIMEOUT, "LocalCluster's fixed start bound",
                        "only " + known + " of " + n + " nannies reported their worker", null);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted while waiting for the nannies");
            }
        }
    }

    private void startWorker(String name) throws IOException {
        if (config.processes) {
            List<String> args = new ArrayList<>(List.of(config.nannies ? "nanny" : "worker", scheduler.address(),
                    "--nthreads", String.valueOf(config.threadsPerWorker), "--name", name, "--host", "127.0.0.1"));
            if (config.memoryLimit > 0) {
                args.add("--memory-limit");
                args.add(String.valueOf(config.memoryLimit));
            }
            if (config.nannies) {
                if (!config.workerJvmArgs.isEmpty()) {
                    args.add("--worker-jvm-options");
                    args.add(String.join(" ", config.workerJvmArgs));
                }
                config.workerEnv.forEach((k, v) -> {
                    args.add("--env");
                    args.add(k + "=" + v);
                });
                // a nanny only watches: a small heap and one GC thread leave the cores to the workers
                Process p = ChildJvm.start(List.of("-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"),
                        args, "[" + name + "] ", config.output);
                processWorkers.add(p);
                byName.put(name, p);
            } else {
                args.add("--no-nanny");
                Process p = ChildJvm.start(config.workerJvmArgs, args, config.workerEnv, "[" + name + "] ",
                        config.output, null, null);
                processWorkers.add(p);
                byName.put(name, p);
            }
        } else {
            WorkerServer w = WorkerServer.start(new WorkerServer.Options(scheduler.address(), "127.0.0.1", 0,
                    config.threadsPerWorker, name, config.memoryLimit, 8 * 1024, CommConfig.DEFAULT));
            threadWorkers.add(w);
            byName.put(name, w);
        }
    }

    /** After its retirement (or before it registered): stops what is left of worker {@code name}. */
    private void stopWorker(String name) {
        Object w = byName.remove(name);
        if (w instanceof WorkerServer t) {
            threadWorkers.remove(t);
            t.close();
        } else if (w instanceof Process p) {
            processWorkers.remove(p);
            try {
                // a retired worker's nanny closes by itself: give it the time to say goodbye
                p.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ChildJvm.stop(p, STOP_GRACE.toMillis());
        }
    }

    private Client managerClient() {
        clientLock.lock();
        try {
            if (managerClient == null) {
                managerClient = client();
            }
            return managerClient;
        } finally {
            clientLock.unlock();
        }
    }

    /**
     * Brings the cluster to {@code n} workers (see {@link ClusterManager#scale}): new ones continue the
     * names ({@code worker-4}, {@code worker-5}...); fewer retire gracefully, their results moved to
     * the workers that stay, then their threads or processes stop.
     *
     * <pre>{@code
     * cluster.scale(4);
     * client.waitForWorkers(4, Duration.ofSeconds(60));
     * }</pre>
     */
    @Override
    public void scale(int n) {
        manager.scale(n);
    }

    /**
     * Sizes the cluster by its load from now on, within [{@code minimum}, {@code maximum}] workers
     * (see {@link ClusterManager#adapt} and {@link Adaptive}).
     *
     * <pre>{@code
     * Adaptive adaptive = cluster.adapt(1, 4);
     * }</pre>
     */
    @Override
    public Adaptive adapt(int minimum, int maximum) {
        return manager.adapt(minimum, maximum);
    }

    /**
     * Sizes the cluster by its load within bounds in cores and bytes instead of workers, as dask's
     * {@code adapt(minimum_cores=..., maximum_memory=...)}: each bound becomes a count of workers by
     * this cluster's threads and memory limit per worker, a minimum rounded up, a maximum down; where
     * both kinds are given, the larger minimum and the smaller maximum hold. A minimum of 0 and a
     * maximum of {@code Integer.MAX_VALUE} or {@code Long.MAX_VALUE} leave that bound out.
     *
     * <pre>{@code
     * // two threads and 3 GB a worker: at least 7 GB (3 workers), at most 10 cores (5 workers)
     * cluster.adaptResources(0, 10, 7_000_000_000L, Long.MAX_VALUE);
     * }</pre>
     *
     * @throws IllegalArgumentException when a bound is negative, when a memory bound is given but the
     *                                  workers have no memory limit, or when the minimum comes to more
     *                                  workers than the maximum
     */
    public Adaptive adaptResources(int minimumCores, int maximumCores, long minimumMemory, long maximumMemory) {
        if (minimumCores < 0 || maximumCores < 0 || minimumMemory < 0 || maximumMemory < 0) {
            throw new IllegalArgumentException("adaptResources needs bounds of 0 or more, got cores " + minimumCores + ".."
                    + maximumCores + " and memory " + minimumMemory + ".." + maximumMemory);
        }
        boolean memoryBounds = minimumMemory > 0 || maximumMemory != Long.MAX_VALUE;
        if (memoryBounds && config.memoryLimit <= 0) {
            throw new IllegalArgumentException("memory bounds need workers with a memory limit (Builder.memoryLimit);"
                    + " this cluster's workers have none");
        }
        int threads = config.threadsPerWorker;
        long minimum = ceilDiv(minimumCores, threads);
        long maximum = maximumCores == Integer.MAX_VALUE ? Integer.MAX_VALUE : maximumCores / threads;
        if (memoryBounds) {
            minimum = Math.max(minimum, ceilDiv(minimumMemory, config.memoryLimit));
            if (maximumMemory != Long.MAX_VALUE) {
                maximum = Math.min(maximum, maximumMemory / config.memoryLimit);
            }
        }
        return adapt((int) Math.min(Integer.MAX_VALUE, minimum), (int) Math.min(Integer.MAX_VALUE, maximum));
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /** The names of the workers this cluster runs or starts, oldest first ({@code worker-0}, ...). */
    @Override
    public List<String> workers() {
        return manager.workers();
    }

    /** "127.0.0.1:port" of the scheduler. */
    public String schedulerAddress() {
        return scheduler.address();
    }

    /** The dashboard's address ("http://127.0.0.1:port/status"); empty unless the builder asked for one. */
    public java.util.Optional<String> dashboardLink() {
        return dashboard == null ? java.util.Optional.empty() : java.util.Optional.of(dashboard.url());
    }

    /** The in-process scheduler, for tests in this package and tools built on the cluster. */
    SchedulerServer scheduler() {
        return scheduler;
    }

    /**
     * A new client of this cluster; closed with the cluster if not before. It reaches the scheduler,
     * which runs in this process, without a socket: messages pass as objects (a client made with
     * {@link Client#connect(String)} on {@link #schedulerAddress()} goes over TCP instead).
     *
     * @throws SchedulerUnavailableException when the cluster was closed
     */
    public Client client() {
        Client c;
        try {
            c = Client.local(scheduler.address(), InProcessTransport.to(scheduler));
        } catch (IOException e) {
            throw Client.unavailable(scheduler.address(), e);
        }
        clients.add(c);
        return c;
    }

    /**
     * The process ids of the worker processes registered now, in registration order (this JVM's pid for
     * thread workers). Under nannies these change as workers are restarted.
     */
    public List<Long> workerPids() {
        List<Long> pids = new ArrayList<>();
        if (config.processes) {
            try {
                for (dist.protocol.Message.WorkerInfo w : scheduler.query(s -> s.view().workerInfos(), 30, TimeUnit.SECONDS)) {
                    pids.add(w.pid());
                }
            } catch (java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException("the scheduler did not answer within 30 s", e);
            }
        } else {
            threadWorkers.forEach(w -> pids.add(ProcessHandle.current().pid()));
        }
        return pids;
    }

    /** The process ids of the nanny processes (empty without nannies or processes). */
    public List<Long> nannyPids() {
        List<Long> pids = new ArrayList<>();
        if (config.processes && config.nannies) {
            for (Process p : processWorkers) {
                pids.add(p.pid());
            }
        }
        return pids;
    }

    /** How many workers the scheduler has now. */
    public int workerCount() {
        return scheduler.workerCount();
    }

    /**
     * Waits until the scheduler has at least {@code n} workers; false on timeout.
     *
     * <pre>{@code
     * cluster.awaitWorkers(2, 30, TimeUnit.SECONDS);   // after a restart, before sizing work to two workers
     * }</pre>
     *
     * @throws DistInterruptedException when this thread is interrupted while waiting
     */
    public boolean awaitWorkers(int n, long timeout, TimeUnit unit) {
        try {
            return scheduler.awaitWorkers(n, timeout, unit);
        } catch (InterruptedException e) {
            throw Calls.interrupted("workers to register", e);
        }
    }

    /** Closes clients made here, the workers, then the scheduler. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        manager.shut();
        for (Client c : clients) {
            try {
                c.close();
            } catch (RuntimeException e) {
                // closing anyway
            }
        }
        for (WorkerServer w : threadWorkers) {
            w.close();
        }
        for (Process p : processWorkers) {
            p.destroy();
        }
        for (Process p : processWorkers) {
            ChildJvm.stop(p, 5000);
        }
        if (dashboard != null) {
            dashboard.close();
        }
        scheduler.close();
    }

    @Override
    public String toString() {
        return "LocalCluster(" + scheduler.address() + ", workers=" + workerCount() + ")";
    }
}
