package dist.scheduler;

/**
 * One step in a task's story as the scheduler saw it: the task {@code key} went from state
 * {@code from} to {@code to} at {@code nanos} (the scheduler's {@link System#nanoTime()} clock),
 * concerning {@code worker} (where it was sent or where its result lives; null when none).
 */
public record StoryEntry(String key, String where, String from, String to, long nanos, String worker) {}
