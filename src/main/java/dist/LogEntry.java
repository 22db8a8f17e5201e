package dist;

import java.time.Instant;

/**
 * One log record of a scheduler or worker, as {@link Client#schedulerLogs(int)} and
 * {@link Client#workerLogs(int)} return them (newest first).
 *
 * <pre>{@code
 * for (LogEntry e : client.schedulerLogs(5)) {
 *     System.out.println(e);   // dist.scheduler.TaskLifecycle - INFO - worker joined: 127.0.0.1:40123 (...)
 * }
 * }</pre>
 *
 * @param time    when it was logged, by the clock of the process that logged it
 * @param level   the java.util.logging level's name: SEVERE, WARNING, INFO, FINE, ...
 * @param logger  the logger's name, e.g. dist.scheduler.TaskLifecycle or a task's own logger
 * @param message the message with its parameters filled in (and the exception, when one was logged)
 */
public record LogEntry(Instant time, String level, String logger, String message) {
    /** {@code logger - LEVEL - message}, as dask's log lines after their time. */
    @Override
    public String toString() {
        return logger + " - " + level + " - " + message;
    }
}
