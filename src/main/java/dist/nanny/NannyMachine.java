package dist.nanny;

import dist.protocol.Message;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What a nanny decides, as a pure state machine: events in, actions out, time passed in as a value.
 * It starts no process, reads no clock and never sleeps; {@link Nanny} feeds it what happened to the
 * worker process and carries out the returned actions in order.
 *
 * <pre>{@code
 * NannyMachine m = new NannyMachine("nanny-1", NannyMachine.Settings.fromConfig(0));
 * for (NannyMachine.Action a : m.handle(new NannyMachine.Begin(), System.nanoTime())) {
 *     switch (a) { case NannyMachine.StartWorker s -> spawn(s.generation()); ... }
 * }
 * }</pre>
 *
 * <h2>States</h2>
 * <b>new</b> → <b>starting</b> (a worker process was started, not registered yet) → <b>running</b>
 * (it registered). When it dies it is started again at once if it had registered or the nanny
 * stopped it; after a start that failed, the nanny <b>waits</b> (the pause doubles per failure in a
 * row, from {@code distributed.nanny.restart-backoff}, at most 10 s) and <b>gave up</b> after
 * {@code distributed.nanny.restart-limit} such failures. A worker the nanny stops (restart asked,
 * memory past its limit) is <b>killing</b> until it exited; {@link Close} makes it <b>stopping</b>,
 * then <b>stopped</b>. A worker that exits with {@link #CANNOT_START} or {@link #BAD_COMMAND_LINE}
 * said a restart cannot help (its port is taken, an option or config value is bad): the nanny gives
 * up at once, with the reason the worker printed. A worker that exits by itself with code 0 closed
 * cleanly: the nanny closes too (<b>stopped</b>), unless its settings restart such a worker (one
 * given a lifetime).
 *
 * <p>Every process-related event names the {@code generation} of the process it is about (the
 * {@link StartWorker} that started it): events of an earlier process are ignored. A change of state
 * that is not in the table throws an {@link IllegalStateException} naming both states and the event.
 *
 * <p>Not thread-safe: one thread owns an instance.
 */
public final class NannyMachine {

    /**
     * Exit code of a worker that cannot start for a reason a restart cannot cure: its port is taken,
     * a config value is bad (78, EX_CONFIG of sysexits.h). It prints the reason on stderr first, as
     * {@code worker: cannot start: REASON}.
     */
    public static final int CANNOT_START = 78;
    /** Exit code of {@code dist.Main} for a bad command line (an unknown flag, a bad option value). */
    public static final int BAD_COMMAND_LINE = 2;
    /** The longest pause between failed starts. */
    static final long MAX_BACKOFF_NANOS = 10_000_000_000L;
    /** How long a worker asked to stop (SIGTERM) has before it is killed (SIGKILL). */
    static final long STOP_GRACE_NANOS = 5_000_000_000L;
    /** As {@link #STOP_GRACE_NANOS} for a restart the scheduler asked for. */
    static final long RESTART_GRACE_NANOS = 3_000_000_000L;
    /** As {@link #STOP_GRACE_NANOS} for a worker past its memory limit. */
    static final long MEMORY_GRACE_NANOS = 1_000_000_000L;
    /** After SIGKILL, how long the nanny waits for the exit before it stops regardless. */
    static final long KILL_WAIT_NANOS = 5_000_000_000L;

    /** The states of a nanny; see the class comment. */
    public enum State { NEW, STARTING, RUNNING, KILLING, WAITING, STOPPING, STOPPED, GAVE_UP }

    /** Allowed changes of state: a pair not here is a bug, refused with both states and the event. */
    private static final Map<State, Set<State>> TRANSITIONS = new EnumMap<>(State.class);

    static {
        allow(State.NEW, State.STARTING, State.STOPPED, State.GAVE_UP);
        allow(State.STARTING, State.RUNNING, State.KILLING, State.WAITING, State.STOPPING, State.STOPPED, State.GAVE_UP);
        allow(State.RUNNING, State.KILLING, State.STARTING, State.STOPPING, State.STOPPED, State.GAVE_UP);
        allow(State.KILLING, State.STARTING, State.WAITING, State.STOPPING, State.GAVE_UP);
        allow(State.WAITING, State.STARTING, State.STOPPED, State.GAVE_UP);
        allow(State.STOPPING, State.STOPPED);
    }

    private static void allow(State from, State... to) {
        TRANSITIONS.put(from, EnumSet.of(to[0], to));
    }

    /**
     * @param restartLimit       failed starts in a row before giving up
     * @param restartBackoffNanos the pause after the first failed start; doubles per failure in a row
     * @param memoryLimit        bytes (0: none)
     * @param memoryFraction     the worker is stopped past this fraction of {@code memoryLimit}
     * @param memoryPollNanos    how often the worker's resident memory is read
     * @param restartAfterCleanExit whether a worker that exits by itself with code 0 is started again (as one
     *                           ending its {@code --lifetime} is); otherwise the nanny closes with it
     */
    public record Settings(int restartLimit, long restartBackoffNanos, long memoryLimit, double memoryFraction,
                           long memoryPollNanos, boolean restartAfterCleanExit) {
        /** A worker that exits by itself with code 0 is not started again: the nanny closes with it. */
        public Settings(int restartLimit, long restartBackoffNanos, long memoryLimit, double memoryFraction,
                        long memoryPollNanos) {
            this(restartLimit, restartBackoffNanos, memoryLimit, memoryFraction, memoryPollNanos, false);
        }

        /** The same settings, starting a worker again after a clean exit too (a worker given a lifetime). */
        public Settings restartingAfterCleanExit() {
            return new Settings(restartLimit, restartBackoffNanos, memoryLimit, memoryFraction, memoryPollNanos, true);
        }

        public Settings {
            if (restartLimit < 0 || restartBackoffNanos < 0 || memoryLimit < 0 || memoryPollNanos <= 0
                    || !(memoryFraction > 0)) {
                throw new IllegalArgumentException("bad nanny settings: " + restartLimit + ", " + restartBackoffNanos
                        + ", " + memoryLimit + ", " + memoryFraction + ", " + memoryPollNanos);
            }
        }

        /** The {@code distributed.nanny.*} settings, with {@code memoryLimit} bytes (0: none). */
        public static Settings fromConfig(long memoryLimit) {
            return new Settings(dist.config.Config.getInt("distributed.nanny.restart-limit"),
                    dist.config.Config.getDuration("distributed.nanny.restart-backoff").toNanos(), memoryLimit,
                    dist.config.Config.getDouble("distributed.nanny.memory-terminate-fraction"),
                    dist.config.Config.getDuration("distributed.nanny.memory-poll-interval").toNanos());
        }
    }

    // ------------------------------------------------------------------ events

    /** What happened, as the shell saw it. */
    public sealed interface Event {}

    /** The nanny is set up: start the first worker. */
    public record Begin() implements Event {}

    /** Time passed; deadlines (back-off, kill) are checked against {@code now}. */
    public record Tick() implements Event {}

    /** Worker process {@code generation} printed that it serves at {@code address}. */
    public record WorkerRegistered(int generation, String address) implements Event {}

    /** Worker process {@code generation} exited with {@code code}; {@code output} is its last lines. */
    public record WorkerExited(int generation, int code, List<String> output) implements Event {
        public WorkerExited {
            output = List.copyOf(output);
        }
    }

    /** Worker process {@code generation} could not be started at all (no java, no such file). */
    public record StartFailed(int generation, String reason) implements Event {}

    /** Worker process {@code generation} uses {@code residentBytes} (-1: cannot be read here). */
    public record MemoryUsed(int generation, long residentBytes) implements Event {}

    /** The scheduler asked for a fresh worker. */
    public record RestartRequested(String reason) implements Event {}

    /**
     * Stop the worker and the nanny; {@code reason} (null: none given) is what the scheduler hears of a
     * registered worker, rather than a connection that closed.
     */
    public record Close(String reason) implements Event {
        public Close() {
            this(null);
        }
    }

    // ------------------------------------------------------------------ actions

    /** What the shell must do. */
    public sealed interface Action {}

    /** Start a worker process; later events about it carry {@code generation}. */
    public record StartWorker(int generation) implements Action {}

    /** Ask worker process {@code generation} to stop (SIGTERM), or kill it ({@code force}: SIGKILL). */
    public record StopWorker(int generation, boolean force) implements Action {}

    /** Read the resident memory of worker process {@code generation} and answer with {@link MemoryUsed}. */
    public record PollMemory(int generation) implements Action {}

    /** Send {@code message} to the scheduler (dropped while it is unreachable). */
    public record Send(Message message) implements Action {}

    /** A line for the people watching the nanny's output. */
    public record Say(String line) implements Action {}

    /** A line for the log. */
    public record Log(Level level, String line) implements Action {}

    /** The nanny is done: {@code gaveUp} says why it gave up (null: it was closed). */
    public record Finish(String gaveUp) implements Action {}

    // ------------------------------------------------------------------ state

    private final String nannyId;
    private final Settings settings;
    private State state = State.NEW;
    private int generation;
    private int starts;
    private int restarts;
    private int failedStarts;
    private boolean registered;
    private String workerAddress;
    /** Why the nanny stops the worker it is killing; null: a restart was asked for (nothing to report). */
    private String killReason;
    /** When the state's deadline passes: the next start (waiting), SIGKILL (killing, stopping). */
    private long deadline;
    /** SIGKILL was sent to the process being stopped. */
    private boolean forced;
    private long nextMemoryPoll;
    private boolean memoryUnreadable;
    private String gaveUp;
    private boolean cannotStart;
    private List<Action> out;

    public NannyMachine(String nannyId, Settings settings) {
        this.nannyId = Objects.requireNonNull(nannyId, "nannyId");
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    /** Applies {@code event} at time {@code nowNanos} (a value, never a clock read); returns the actions, in order. */
    public List<Action> handle(Event event, long nowNanos) {
        Objects.requireNonNull(event, "event");
        out = new ArrayList<>(4);
        switch (event) {
            case Begin b -> onBegin(b, nowNanos);
            case Tick t -> onTick(t, nowNanos);
            case WorkerRegistered r -> onRegistered(r);
            case WorkerExited x -> onExited(x, nowNanos);
            case StartFailed f -> onStartFailed(f);
            case MemoryUsed m -> onMemory(m, nowNanos);
            case RestartRequested r -> onRestart(r, nowNanos);
            case Close c -> onClose(c, nowNanos);
        }
        List<Action> done = out;
        out = null;
        return done;
    }

    public State state() {
        return state;
    }

    /** How many worker processes were started. */
    public int starts() {
        return starts;
    }

    /** How many of them were started after the first. */
    public int restarts() {
        return restarts;
    }

    /** The address of the registered worker, or null. */
    public String workerAddress() {
        return workerAddress;
    }

    /** The generation of the newest worker process. */
    public int generation() {
        return generation;
    }

    /** Why the nanny gave up, or null. */
    public String gaveUpReason() {
        return gaveUp;
    }

    /** The nanny gave up because the worker said a restart cannot help ({@link #CANNOT_START}). */
    public boolean cannotStart() {
        return cannotStart;
    }

    /** Whether the nanny is done (stopped or gave up). */
    public boolean finished() {
        return state == State.STOPPED || state == State.GAVE_UP;
    }

    /** Whether a worker that exited with {@code code} said that starting it again cannot help. */
    public static boolean isCannotStart(int code) {
        return code == CANNOT_START || code == BAD_COMMAND_LINE;
    }

    // ------------------------------------------------------------------ transitions

    private void onBegin(Begin b, long now) {
        if (state == State.NEW) {
            start(b, now, false);
        }
    }

    private void onTick(Tick t, long now) {
        switch (state) {
            case WAITING -> {
                if (now - deadline >= 0) {
                    start(t, now, true);
                }
            }
            case KILLING, STOPPING -> {
                if (now - deadline < 0) {
                    return;
                }
                if (!forced) {
                    forced = true;
                    deadline = now + KILL_WAIT_NANOS;
                    out.add(new Log(Level.WARNING, "worker process did not stop when asked; killing it"));
                    out.add(new StopWorker(generation, true));
                } else if (state == State.STOPPING) {
                    // it was killed and its exit never came: stop without it rather than hang
                    out.add(new Log(Level.WARNING, "worker process did not exit after it was killed; stopping anyway"));
                    move(State.STOPPED, t);
                    out.add(new Finish(null));
                }
            }
            case STARTING, RUNNING -> {
                if (settings.memoryLimit() > 0 && !memoryUnreadable && now - nextMemoryPoll >= 0) {
                    nextMemoryPoll = now + settings.memoryPollNanos();
                    out.add(new PollMemory(generation));
                }
            }
            default -> { }
        }
    }

    private void onRegistered(WorkerRegistered r) {
        if (r.generation() != generation || !(state == State.STARTING || state == State.RUNNING
                || state == State.KILLING)) {
            return;
        }
        registered = true;
        workerAddress = r.address();
        out.add(new Send(new Message.RegisterNanny(nannyId, r.address())));
        if (state == State.STARTING) {
            move(State.RUNNING, r);
        }
    }

    private void onMemory(MemoryUsed m, long now) {
        if (m.generation() != generation || !(state == State.STARTING || state == State.RUNNING)) {
            return;
        }
        if (m.residentBytes() < 0) {
            memoryUnreadable = true;
            out.add(new Log(Level.WARNING, "cannot read the worker's resident memory on this system; "
                    + "the memory limit is not enforced"));
            return;
        }
        long limit = (long) (settings.memoryLimit() * settings.memoryFraction());
        if (m.residentBytes() > limit) {
            String reason = "exceeded its memory limit: resident " + (m.residentBytes() >> 20) + " MiB > "
                    + settings.memoryFraction() + " x " + (settings.memoryLimit() >> 20) + " MiB";
            out.add(new Log(Level.WARNING, "stopping the worker: " + reason));
            kill(m, reason, now, MEMORY_GRACE_NANOS);
        }
    }

    private void onRestart(RestartRequested r, long now) {
        switch (state) {
            case STARTING, RUNNING -> {
                out.add(new Log(Level.INFO, "restarting the worker: " + r.reason()));
                kill(r, null, now, RESTART_GRACE_NANOS);
            }
            case KILLING -> killReason = null; // asked for as well: it starts again without a report
            case WAITING -> {
                out.add(new Log(Level.INFO, "restarting the worker: " + r.reason()));
                failedStarts = 0;
                start(r, now, true);
            }
            default -> { }
        }
    }

    private void onClose(Close c, long now) {
        switch (state) {
            case NEW, WAITING -> {
                move(State.STOPPED, c);
                out.add(new Finish(null));
            }
            case STARTING, RUNNING, KILLING -> {
                if (workerAddress != null) {
                    // a stop is no failure to guess at: the scheduler hears why before the connection ends
                    out.add(new Send(new Message.WorkerDied(workerAddress, "stopped: "
                            + (c.reason() == null ? "its nanny closed" : c.reason()))));
                }
                move(State.STOPPING, c);
                forced = false;
                deadline = now + STOP_GRACE_NANOS;
                out.add(new StopWorker(generation, false));
            }
            default -> { }
        }
    }

    private void onStartFailed(StartFailed f) {
        if (f.generation() != generation || state != State.STARTING) {
            return;
        }
        giveUp(f, "could not start a worker JVM: " + f.reason());
    }

    private void onExited(WorkerExited x, long now) {
        if (x.generation() != generation) {
            return;
        }
        switch (state) {
            case STOPPING -> {
                move(State.STOPPED, x);
                out.add(new Finish(null));
                return;
            }
            case STARTING, RUNNING, KILLING -> { }
            default -> {
                return;
            }
        }
        boolean requested = state == State.KILLING && killReason == null;
        String addr = workerAddress;
        workerAddress = null;
        String jvmError = state == State.KILLING ? null : jvmRefused(x.output());
        if (jvmError != null) {
            // the JVM refused its options before any dist code ran: each start would refuse them again
            cannotStart = true;
            giveUp(x, "the worker's JVM cannot start: " + jvmError + " (" + describeExit(x.code())
                    + "); check --worker-jvm-options and distributed.nanny.worker-jvm-options; the nanny stops");
            return;
        }
        if (state != State.KILLING && isCannotStart(x.code())) {
            String why = reasonIn(x.output());
            cannotStart = true;
            if (addr != null) {
                out.add(new Send(new Message.WorkerDied(addr, why)));
            }
            giveUp(x, "the worker cannot start: " + (why.isEmpty() ? "" : why + " ") + "(" + describeExit(x.code())
                    + "); starting it again would not help, so the nanny stops");
            return;
        }
        if (state != State.KILLING && x.code() == 0 && !settings.restartAfterCleanExit()) {
            // it closed by itself, cleanly (as dask's Worker.terminate): the nanny closes with it
            String why = "closed by itself (exit code 0)";
            if (addr != null) {
                out.add(new Send(new Message.WorkerDied(addr, why)));
            }
            out.add(new Say("worker " + (addr == null ? "(generation " + generation + ")" : addr) + " " + why
                    + "; the nanny closes"));
            move(State.STOPPED, x);
            out.add(new Finish(null));
            return;
        }
        String reason = state == State.KILLING && !requested ? killReason : describeExit(x.code());
        if (!requested && addr != null) {
            out.add(new Send(new Message.WorkerDied(addr, reason)));
        }
        boolean again = registered || requested || failedStarts + 1 <= settings.restartLimit();
        if (!requested && again) {
            // the last failure is said by the give-up line alone: "restarting it" would not be true
            out.add(new Say("worker " + (addr == null ? "(generation " + generation + ")" : addr) + " died: "
                    + reason + "; restarting it"));
        }
        if (registered || requested) {
            failedStarts = 0;
            start(x, now, true);
        } else if (++failedStarts > settings.restartLimit()) {
            giveUp(x, "the worker failed to start " + failedStarts + " times in a row (last: " + reason
                    + "); giving up (distributed.nanny.restart-limit = " + settings.restartLimit() + ")");
        } else {
            move(State.WAITING, x);
            deadline = now + backoffNanos(settings.restartBackoffNanos(), failedStarts);
        }
    }

    /** "exit code 1", "killed by signal 9 (SIGKILL), exit code 137" and the like, from a JVM's exit value. */
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

    /** The pause after {@code failures} failed starts in a row: doubling from {@code base}, at most 10 s. */
    static long backoffNanos(long base, int failures) {
        int shift = Math.min(20, Math.max(0, failures - 1));
        return base > (MAX_BACKOFF_NANOS >> shift) ? MAX_BACKOFF_NANOS : Math.min(MAX_BACKOFF_NANOS, base << shift);
    }

    /**
     * What the JVM said when it refused to start (a bad -X option, too little heap), from a worker's last
     * lines; null when they do not end with the JVM's "Could not create the Java Virtual Machine".
     */
    static String jvmRefused(List<String> output) {
        for (int i = 0; i < output.size(); i++) {
            if (output.get(i).contains("Could not create the Java Virtual Machine")) {
                for (int j = i - 1; j >= 0; j--) {
                    String line = output.get(j).strip();
                    if (!line.isEmpty() && !line.startsWith("Error: A fatal exception")) {
                        return line;
                    }
                }
                return output.get(i).strip();
            }
        }
        return null;
    }

    /**
     * The reason a worker that cannot start printed: its last line that starts with "worker: " (its
     * own report) or "dist worker: " (a bad command line), without that prefix; else its last line.
     */
    static String reasonIn(List<String> output) {
        String last = "";
        for (int i = output.size() - 1; i >= 0; i--) {
            String line = output.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            if (last.isEmpty()) {
                last = line;
            }
            for (String prefix : List.of("worker: cannot start: ", "dist worker: ", "worker: ")) {
                if (line.startsWith(prefix)) {
                    return line.substring(prefix.length());
                }
            }
        }
        return last;
    }

    private void start(Event cause, long now, boolean again) {
        move(State.STARTING, cause);
        generation++;
        starts++;
        if (again) {
            restarts++;
        }
        registered = false;
        killReason = null;
        forced = false;
        nextMemoryPoll = now + settings.memoryPollNanos();
        out.add(new StartWorker(generation));
    }

    private void kill(Event cause, String reason, long now, long grace) {
        move(State.KILLING, cause);
        killReason = reason;
        forced = false;
        deadline = now + grace;
        out.add(new StopWorker(generation, false));
    }

    private void giveUp(Event cause, String reason) {
        move(State.GAVE_UP, cause);
        gaveUp = reason;
        out.add(new Say(reason)); // said once: the shell's log and exit carry no second copy
        out.add(new Finish(reason));
    }

    private void move(State to, Event cause) {
        check(state, to, cause);
        state = to;
    }

    /** Refuses a change of state that is not in the table, naming both states and the event. */
    static void check(State from, State to, Event cause) {
        Set<State> allowed = TRANSITIONS.get(from);
        if (allowed == null || !allowed.contains(to)) {
            throw new IllegalStateException("nanny cannot go from " + from + " to " + to + " on "
                    + cause.getClass().getSimpleName() + " " + cause);
        }
    }
}
