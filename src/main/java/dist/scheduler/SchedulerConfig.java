package dist.scheduler;

import dist.config.Config;

import java.time.Duration;
import java.util.Objects;
import java.util.UUID;

/**
 * Settings of the scheduler's state machine.
 *
 * <pre>{@code
 * SchedulerConfig cfg = new SchedulerConfig(Duration.ofSeconds(3), 500, 3, 8192, "scheduler-1");
 * SchedulerState state = new SchedulerState(cfg);
 * }</pre>
 *
 * @param workerTimeout           a worker silent for longer than this is removed (on {@link SchedulerEvent.Tick})
 * @param heartbeatIntervalMillis how often workers are told to send a heartbeat
 * @param allowedFailures         how many workers a task may be processing on when they die before it fails
 *                                with a KilledWorker error
 * @param inlineResultLimit       inline results larger than this many bytes are not forwarded to clients
 *                                (they fetch from a worker instead)
 * @param schedulerId             identifies this scheduler incarnation to workers
 * @param unknownKeyGrace         keys that a returning worker holds but no client has asked for yet are kept
 *                                this long (a client re-sending its graph after a scheduler restart adopts them)
 * @param nannyReportWait         a worker run by a nanny whose connection ends stays counted this long (at
 *                                most, checked on each tick) for the nanny's report of how it died; zero: removed at once
 * @param workStealing            whether the work-stealing extension runs (dask's distributed.scheduler.work-stealing)
 * @param idleTimeout             a scheduler with nothing to run and no change for this long shuts the cluster
 *                                down; null: never (dask's {@code idle-timeout})
 * @param noWorkersTimeout        a task no worker can take (none joined, or none matches its restrictions) fails
 *                                after waiting this long; null: it waits until one comes (dask's {@code no-workers-timeout})
 */
public record SchedulerConfig(Duration workerTimeout, long heartbeatIntervalMillis, int allowedFailures,
                              int inlineResultLimit, String schedulerId, Duration unknownKeyGrace,
                              Duration nannyReportWait, boolean workStealing, Duration idleTimeout,
                              Duration noWorkersTimeout) {

    /** With work stealing on, no idle timeout and no no-workers timeout. */
    public SchedulerConfig(Duration workerTimeout, long heartbeatIntervalMillis, int allowedFailures,
                           int inlineResultLimit, String schedulerId, Duration unknownKeyGrace,
                           Duration nannyReportWait) {
        this(workerTimeout, heartbeatIntervalMillis, allowedFailures, inlineResultLimit, schedulerId, unknownKeyGrace,
                nannyReportWait, true, null, null);
    }

    /** With a 500 ms wait for a nanny's report. */
    public SchedulerConfig(Duration workerTimeout, long heartbeatIntervalMillis, int allowedFailures,
                           int inlineResultLimit, String schedulerId, Duration unknownKeyGrace) {
        this(workerTimeout, heartbeatIntervalMillis, allowedFailures, inlineResultLimit, schedulerId, unknownKeyGrace,
                Duration.ofMillis(500));
    }

    /** With a 10 s grace for unknown keys held by returning workers. */
    public SchedulerConfig(Duration workerTimeout, long heartbeatIntervalMillis, int allowedFailures,
                           int inlineResultLimit, String schedulerId) {
        this(workerTimeout, heartbeatIntervalMillis, allowedFailures, inlineResultLimit, schedulerId,
                Duration.ofSeconds(10));
    }

    public SchedulerConfig {
        Objects.requireNonNull(workerTimeout, "workerTimeout must not be null");
        Objects.requireNonNull(schedulerId, "schedulerId must not be null");
        Objects.requireNonNull(unknownKeyGrace, "unknownKeyGrace must not be null");
        Objects.requireNonNull(nannyReportWait, "nannyReportWait must not be null");
        if (nannyReportWait.isNegative()) {
            throw new IllegalArgumentException("nannyReportWait must be 0 or more, got " + nannyReportWait);
        }
        if (workerTimeout.isNegative() || workerTimeout.isZero()) {
            throw new IllegalArgumentException("workerTimeout must be positive, got " + workerTimeout);
        }
        if (heartbeatIntervalMillis <= 0) {
            throw new IllegalArgumentException("heartbeatIntervalMillis must be positive, got " + heartbeatIntervalMillis);
        }
        if (allowedFailures < 0) {
            throw new IllegalArgumentException("allowedFailures must be 0 or more, got " + allowedFailures);
        }
        if (inlineResultLimit < 0) {
            throw new IllegalArgumentException("inlineResultLimit must be 0 or more, got " + inlineResultLimit);
        }
        if (idleTimeout != null && (idleTimeout.isNegative() || idleTimeout.isZero())) {
            throw new IllegalArgumentException("idleTimeout must be positive or null (none), got " + idleTimeout);
        }
        if (noWorkersTimeout != null && (noWorkersTimeout.isNegative() || noWorkersTimeout.isZero())) {
            throw new IllegalArgumentException("noWorkersTimeout must be positive or null (none), got " + noWorkersTimeout);
        }
    }

    /**
     * The settings of {@link Config}: by default worker timeout 3 s (about six missed heartbeats, the
     * "roughly three seconds" users expect), heartbeat every 500 ms, 3 allowed failures; inline results
     * up to 8 KiB, a random id, work stealing on, no idle and no no-workers timeout.
     */
    public static SchedulerConfig defaults() {
        return new SchedulerConfig(Config.getDuration("distributed.scheduler.worker-ttl"),
                Config.getDuration("distributed.worker.heartbeat-interval").toMillis(),
                Config.getInt("distributed.scheduler.allowed-failures"), 8 * 1024, "scheduler-" + UUID.randomUUID(),
                Config.getDuration("distributed.scheduler.unknown-key-grace"),
                Config.getDuration("distributed.scheduler.nanny-report-wait"),
                Config.getBoolean("distributed.scheduler.work-stealing"),
                optionalDuration("distributed.scheduler.idle-timeout"),
                optionalDuration("distributed.scheduler.no-workers-timeout"));
    }

    /** An empty value means none. */
    private static Duration optionalDuration(String key) {
        String v = Config.get(key);
        return v.isBlank() ? null : Config.parseDuration(key, v, Config.source(key));
    }

    /** The same settings with another worker timeout. */
    public SchedulerConfig withWorkerTimeout(Duration timeout) {
        return new SchedulerConfig(timeout, heartbeatIntervalMillis, allowedFailures, inlineResultLimit, schedulerId,
                unknownKeyGrace, nannyReportWait, workStealing, idleTimeout, noWorkersTimeout);
    }

    /** The same settings with another number of allowed failures. */
    public SchedulerConfig withAllowedFailures(int failures) {
        return new SchedulerConfig(workerTimeout, heartbeatIntervalMillis, failures, inlineResultLimit, schedulerId,
                unknownKeyGrace, nannyReportWait, workStealing, idleTimeout, noWorkersTimeout);
    }

    /**
     * The same settings with another wait for a nanny's report of its worker's death, e.g.
     * {@code defaults().withNannyReportWait(Duration.ZERO)} to remove a lost worker at once.
     */
    public SchedulerConfig withNannyReportWait(Duration wait) {
        return new SchedulerConfig(workerTimeout, heartbeatIntervalMillis, allowedFailures, inlineResultLimit,
                schedulerId, unknownKeyGrace, wait, workStealing, idleTimeout, noWorkersTimeout);
    }

    /**
     * The same settings with work stealing on or off, e.g. {@code defaults().withWorkStealing(false)}
     * for a scheduler that leaves each task on the worker it was first sent to.
     */
    public SchedulerConfig withWorkStealing(boolean on) {
        return new SchedulerConfig(workerTimeout, heartbeatIntervalMillis, allowedFailures, inlineResultLimit,
                schedulerId, unknownKeyGrace, nannyReportWait, on, idleTimeout, noWorkersTimeout);
    }

    /**
     * The same settings with an idle timeout ({@code null}: none), e.g.
     * {@code defaults().withIdleTimeout(Duration.ofMinutes(30))} to stop a forgotten cluster.
     */
    public SchedulerConfig withIdleTimeout(Duration timeout) {
        return new SchedulerConfig(workerTimeout, heartbeatIntervalMillis, allowedFailures, inlineResultLimit,
                schedulerId, unknownKeyGrace, nannyReportWait, workStealing, timeout, noWorkersTimeout);
    }

    /**
     * The same settings with a no-workers timeout ({@code null}: none), e.g.
     * {@code defaults().withNoWorkersTimeout(Duration.ofMinutes(5))} so tasks no worker can run fail.
     */
    public SchedulerConfig withNoWorkersTimeout(Duration timeout) {
        return new SchedulerConfig(workerTimeout, heartbeatIntervalMillis, allowedFailures, inlineResultLimit,
                schedulerId, unknownKeyGrace, nannyReportWait, workStealing, idleTimeout, timeout);
    }
}
