package dist.scheduler;

/**
 * A call that waits on a shared object (a take, a put into a full queue, an event's wait, a
 * variable's get): answered later, to {@code requestId} of {@code clientId}, or when
 * {@code deadlineNanos} (scheduler time) passes on a tick. {@code waitId} is the client's name for
 * it, to cancel it.
 */
record SharedWait(String clientId, long requestId, long waitId, long deadlineNanos) {

    static long deadline(long now, long timeoutMillis) {
        return now + Math.max(0, Math.min(timeoutMillis, Long.MAX_VALUE / 4_000_000L)) * 1_000_000L;
    }

    boolean expired(long now) {
        return now - deadlineNanos >= 0;
    }
}
