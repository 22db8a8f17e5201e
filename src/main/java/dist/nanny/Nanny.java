package dist.nanny;

import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.comm.ConnectionClosedException;
import dist.comm.Handler;
import dist.config.Config;
import dist.protocol.Message;
import dist.protocol.Role;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Starts one worker JVM and keeps it alive: restarts it when it dies (at once after a worker that
 * had registered, with doubling pauses after starts that failed, giving up after
 * {@code distributed.nanny.restart-limit} failures in a row), stops it when its resident memory
 * passes the memory limit, relays its output, tells the scheduler why it died
 * ({@link Message.WorkerDied}) and restarts it on the scheduler's {@link Message.RestartWorker}.
 * The worker dies with the nanny, even when the nanny is killed by SIGKILL.
 *
 * <pre>{@code
 * Nanny n = Nanny.start(new Nanny.Options("127.0.0.1:8786", List.of("--nthreads", "1"), 400_000_000L,
 *         List.of(), System.out, ""));
 * n.awaitWorker(Duration.ofSeconds(30));   // the worker's address
 * n.close();                                // stops the worker too
 * }</pre>
 */
public final class Nanny implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dist.nanny");
    private static final long MAX_BACKOFF_MILLIS = 10_000;

    /**
     * @param schedulerAddress "host:port" of the scheduler
     * @param workerArgs       worker options after the scheduler address (e.g. --nthreads 1 --name a)
     * @param memoryLimit      bytes (0: none); passed to the worker and enforced here
     * @param jvmArgs          options for the worker JVM (with a memory limit and no -Xmx, -Xmx is set
     *                         to 60% of the limit)
     * @param out              where the worker's output goes (null: dropped)
     * @param prefix           put before each relayed line
     * @param connectTimeout   how long to try reaching the scheduler at the start
     */
    public record Options(String schedulerAddress, List<String> workerArgs, long memoryLimit, List<String> jvmArgs,
                          PrintStream out, String prefix, Duration connectTimeout) {
        /** With a 10 s connect timeout. */
        public Options(String schedulerAddress, List<String> workerArgs, long memoryLimit, List<String> jvmArgs,
                       PrintStream out, String prefix) {
            this(schedulerAddress, workerArgs, memoryLimit, jvmArgs, out, prefix, Duration.ofSeconds(10));
        }

        public Options {
            workerArgs = List.copyOf(workerArgs);
            jvmArgs = List.copyOf(jvmArgs);
            prefix = prefix == null ? "" : prefix;
            if (memoryLimit < 0) {
                throw new IllegalArgumentException("memoryLimit must be 0 (none) or more, got " + memoryLimit);
            }
        }
    }

    private sealed interface Event {}

    private record Exited(Process p) implements Event {}

    private record Registered(Process p, String address) implements Event {}

    private record Restart(String reason) implements Event {}

    private record OverMemory(Process p, String reason) implements Event {}

    private record Stop() implements Event {}

    private final Options options;
    private final String id = "nanny-" + ProcessHandle.current().pid() + "-" + UUID.randomUUID().toString().substring(0, 8);
    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final AtomicBoolean closing = new AtomicBoolean();
    private final AtomicBoolean reconnecting = new AtomicBoolean();
    private final int restartLimit = Config.getInt("distributed.nanny.restart-limit");
    private final Duration restartBackoff = Config.getDuration("distributed.nanny.restart-backoff");
    private final Duration memoryPoll = Config.getDuration("distributed.nanny.memory-poll-interval");
    private final double memoryFraction = Config.getDouble("distributed.nanny.memory-terminate-fraction");
    private volatile Connection scheduler;
    private volatile Process worker;
    private volatile String workerAddress;
    private volatile int restarts;
    private volatile String gaveUp;
    private Thread supervisor;

    private Nanny(Options options) {
        this.options = options;
    }

    /** Connection settings with the token and TLS of this process's settings as they are now. */
    private static CommConfig comm() {
        return CommConfig.DEFAULT.withSecurity(dist.comm.Security.fromEnvironment());
    }

    /** Connects to the scheduler and starts the worker; returns at once (the worker registers by itself). */
    public static Nanny start(Options options) throws IOException {
        Nanny n = new Nanny(options);
        n.scheduler = Connection.connect(options.schedulerAddress(), Role.NANNY, comm().withConnectTimeout(
                options.connectTimeout()), n.handler);
        n.sendToScheduler(new Message.RegisterNanny(n.id, null));
        n.supervisor = Thread.ofPlatform().name("dist-nanny").daemon(true).start(n::supervise);
        Thread.ofVirtual().name("dist-nanny-memory").start(n::watchMemory);
        return n;
    }

    /** This nanny's id, as the scheduler knows it. */
    public String id() {
        return id;
    }

    /** The address of the running worker, or null while none is registered. */
    public String workerAddress() {
        return workerAddress;
    }

    /** The process id of the worker JVM, or -1 while none runs. */
    public long workerPid() {
        Process p = worker;
        return p == null || !p.isAlive() ? -1 : p.pid();
    }

    /** How many times the worker was started again. */
    public int restarts() {
        return restarts;
    }

    /** Waits until a worker is registered and returns its address; null on timeout or after giving up. */
    public String awaitWorker(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline && closed.getCount() > 0) {
            String a = workerAddress;
            if (a != null) {
                return a;
            }
            Thread.sleep(20);
        }
        return workerAddress;
    }

    /** Waits until the nanny stopped (closed, or gave up restarting); true if it did. */
    public boolean awaitClose(long timeout, TimeUnit unit) throws InterruptedException {
        return closed.await(timeout, unit);
    }

    /** Why the nanny gave up restarting its worker, or null. */
    public String gaveUpReason() {
        return gaveUp;
    }

    private final Handler handler = new Handler() {
        @Override
        public void onMessage(Connection c, Message m, long requestId) {
            if (m instanceof Message.Batch b) {
                for (Message part : b.messages()) {
                    onMessage(c, part, 0);
                }
            } else if (m instanceof Message.RestartWorker r) {
                events.add(new Restart(r.reason()));
            }
        }

        @Override
        public void onClose(Connection c, Throwable cause) {
            if (!closing.get() && c == scheduler) {
                Thread.ofVirtual().name("dist-nanny-reconnect").start(() -> reconnect(c));
            }
        }
    };

    /** The scheduler went away: reach it again with back-off (as long as the nanny lives). */
    private void reconnect(Connection lost) {
        if (!reconnecting.compareAndSet(false, true)) {
            return;
        }
        try {
            long maxPause = Config.getDuration("distributed.comm.reconnect-backoff-max").toMillis();
            long pause = 50;
            CommConfig once = comm().withConnectTimeout(Duration.ofSeconds(1));
            while (!closing.get() && scheduler == lost) {
                try {
                    Connection c = Connection.connect(options.schedulerAddress(), Role.NANNY, once, handler);
                    scheduler = c;
                    sendToScheduler(new Message.RegisterNanny(id, workerAddress));
                    return;
                } catch (IOException | RuntimeException e) {
                    LOG.log(Level.DEBUG, "scheduler not back yet: " + e.getMessage());
                } catch (Error e) {
                    survive("reconnection", e);
                }
                Thread.sleep(pause);
                pause = Math.min(pause * 2, maxPause);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            reconnecting.set(false);
        }
    }

    private void sendToScheduler(Message m) {
        Connection c = scheduler;
        try {
            if (c != null) {
                c.send(m);
            }
        } catch (ConnectionClosedException e) {
            LOG.log(Level.DEBUG, "scheduler unreachable; dropped " + m);
        } catch (RuntimeException e) {
            // the scheduler misses this report, but the worker must still be watched and restarted
            LOG.log(Level.WARNING, "could not tell the scheduler " + m.getClass().getSimpleName() + ": " + e);
        }
    }

    /** Failure kinds of the nanny's loops logged so far: each is logged once. */
    private final java.util.Set<String> loggedFailures = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * A step of a loop failed: logged once per kind, and the loop goes on, since the worker must stay
     * watched. Running out of memory is rethrown: this process is not to be trusted any more.
     */
    private void survive(String loop, Throwable t) {
        if (t instanceof OutOfMemoryError oom) {
            throw oom;
        }
        if (loggedFailures.add(loop + "/" + t.getClass().getName())) {
            LOG.log(Level.ERROR, "the nanny's " + loop + " failed (logged once per kind of failure); it carries on", t);
        }
    }

    private Process startWorker() throws IOException {
        List<String> args = new ArrayList<>();
        args.add("worker");
        args.add(options.schedulerAddress());
        args.addAll(options.workerArgs());
        if (options.memoryLimit() > 0) {
            args.add("--memory-limit");
            args.add(String.valueOf(options.memoryLimit()));
        }
        args.add("--no-nanny");
        List<String> jvm = new ArrayList<>();
        String extra = Config.get("distributed.nanny.worker-jvm-options").trim();
        if (!extra.isEmpty()) {
            jvm.addAll(List.of(extra.split("\\s+")));
        }
        jvm.addAll(options.jvmArgs());
        if (options.memoryLimit() > 0 && jvm.stream().noneMatch(a -> a.startsWith("-Xmx"))) {
            long heapMb = Math.max(64, (long) (options.memoryLimit() * 0.6) >> 20);
            jvm.add("-Xmx" + heapMb + "m");
        }
        Process[] self = new Process[1];
        CountDownLatch started = new CountDownLatch(1);
        Process p = ChildJvm.start(jvm, args, options.prefix(), options.out(), line -> {
            if (line.startsWith("worker at: ")) {
                String rest = line.substring("worker at: ".length()).trim();
                int space = rest.indexOf(' ');
                try {
                    started.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                events.add(new Registered(self[0], space < 0 ? rest : rest.substring(0, space)));
            }
        });
        self[0] = p;
        started.countDown();
        p.onExit().thenRun(() -> events.add(new Exited(p)));
        return p;
    }

    private void supervise() {
        int failedStarts = 0;
        boolean registered = false;
        String stopReason = null; // set when the nanny itself stopped the worker
        try {
            worker = startWorker();
            while (true) {
                Event e = events.take();
                Process p = worker;
                try {
                    switch (e) {
                        case Stop s -> {
                            if (p != null) {
                                ChildJvm.stop(p, 5000);
                            }
                            return;
                        }
                        case Registered r -> {
                            if (r.p() == p) {
                                registered = true;
                                workerAddress = r.address();
                                sendToScheduler(new Message.RegisterNanny(id, r.address()));
                            }
                        }
                        case Restart r -> {
                            LOG.log(Level.INFO, "restarting the worker: " + r.reason());
                            stopReason = "restart";
                            if (p != null) {
                                Process old = p;
                                Thread.ofVirtual().start(() -> ChildJvm.stop(old, 3000));
                            }
                        }
                        case OverMemory m -> {
                            if (m.p() == p && stopReason == null) {
                                stopReason = m.reason();
                                LOG.log(Level.WARNING, "stopping the worker: " + m.reason());
                                Thread.ofVirtual().start(() -> ChildJvm.stop(m.p(), 1000));
                            }
                        }
                        case Exited x -> {
                            if (x.p() != p) {
                                continue;
                            }
                            String addr = workerAddress;
                            workerAddress = null;
                            boolean requested = "restart".equals(stopReason);
                            String reason = stopReason != null && !requested ? stopReason : describeExit(p.exitValue());
                            if (!requested && addr != null) {
                                sendToScheduler(new Message.WorkerDied(addr, reason));
                            }
                            if (!requested) {
                                println("worker " + (addr == null ? "(pid " + p.pid() + ")" : addr) + " died: " + reason
                                        + "; restarting it");
                            }
                            if (registered || requested) {
                                failedStarts = 0;
                            } else if (++failedStarts > restartLimit) {
                                gaveUp = "the worker failed to start " + failedStarts + " times in a row (last: " + reason
                                        + "); giving up (distributed.nanny.restart-limit = " + restartLimit + ")";
                                println(gaveUp);
                                return;
                            } else {
                                long pause = Math.min(MAX_BACKOFF_MILLIS,
                                        restartBackoff.toMillis() << Math.min(20, failedStarts - 1));
                                Thread.sleep(pause);
                            }
                            if (closing.get()) {
                                return;
                            }
                            registered = false;
                            stopReason = null;
                            worker = startWorker();
                            restarts++;
                        }
                    }
                } catch (RuntimeException | Error t) {
                    survive("supervisor, on " + e.getClass().getSimpleName(), t);
                    if (e instanceof Exited x && x.p() == worker && !closing.get()) {
                        // the worker is gone and no new one started: try again, as after a failed start
                        if (++failedStarts > restartLimit) {
                            gaveUp = "could not start the worker again " + failedStarts + " times in a row (last: "
                                    + t + "); giving up (distributed.nanny.restart-limit = " + restartLimit + ")";
                            println(gaveUp);
                            return;
                        }
                        Thread.sleep(restartBackoff.toMillis());
                        events.add(e);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            gaveUp = "could not start a worker JVM: " + e.getMessage();
            println(gaveUp);
        } finally {
            Process p = worker;
            if (p != null && p.isAlive()) {
                ChildJvm.stop(p, 5000);
            }
            closing.set(true);
            Connection c = scheduler;
            if (c != null) {
                c.close();
            }
            closed.countDown();
        }
    }

    private void println(String line) {
        PrintStream out = options.out();
        if (out != null) {
            try {
                out.println(options.prefix() + "nanny: " + line);
                out.flush();
            } catch (RuntimeException e) {
                // the output is for people: its failure must not keep the worker from being restarted
                survive("output", e);
            }
        }
    }

    /** "exit code 1", "killed by signal 9 (SIGKILL)" and the like, from a JVM's exit value. */
    public static String describeExit(int code) {
        if (code > 128 && code < 160) {
            int sig = code - 128;
            String name = switch (sig) {
                case 1 -> "SIGHUP";
                case 2 -> "SIGINT";
                case 6 -> "SIGABRT";
                case 9 -> "SIGKILL";
                case 11 -> "SIGSEGV";
                case 15 -> "SIGTERM";
                default -> "signal " + sig;
            };
            return "killed by signal " + sig + " (" + name + "), exit code " + code;
        }
        return "exit code " + code;
    }

    /** Polls the worker's resident memory; past the limit's fraction it asks the supervisor to stop it. */
    private void watchMemory() {
        if (options.memoryLimit() <= 0) {
            return;
        }
        long limit = (long) (options.memoryLimit() * memoryFraction);
        boolean warned = false;
        try {
            while (!closing.get()) {
                Thread.sleep(memoryPoll);
                try {
                    warned = checkMemory(limit, warned);
                } catch (RuntimeException | Error t) {
                    survive("memory watch", t);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One look at the worker's resident memory; returns whether the warning that it cannot be read was given. */
    private boolean checkMemory(long limit, boolean warned) {
        Process p = worker;
        if (p == null || !p.isAlive()) {
            return warned;
        }
        long rss = residentBytes(p.pid());
        if (rss < 0) {
            if (!warned) {
                LOG.log(Level.WARNING, "cannot read the worker's resident memory on this system; "
                        + "the memory limit is not enforced");
            }
            return true;
        }
        if (rss > limit) {
            events.add(new OverMemory(p, "exceeded its memory limit: resident " + (rss >> 20) + " MiB > "
                    + memoryFraction + " x " + (options.memoryLimit() >> 20) + " MiB"));
        }
        return warned;
    }

    /** Resident set size of a process from /proc (Linux), or -1 when unknown. */
    static long residentBytes(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    String[] parts = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** Stops the worker and leaves the scheduler. */
    @Override
    public void close() {
        if (closing.getAndSet(true) && closed.getCount() == 0) {
            return;
        }
        events.add(new Stop());
        try {
            closed.await(15, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
