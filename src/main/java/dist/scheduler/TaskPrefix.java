package dist.scheduler;

/** Tasks sharing a key prefix (the key up to its last '-'): their measured run times. */
final class TaskPrefix {
    final String name;
    long count;
    long totalNanos;
    /** Live tasks with this prefix; a prefix nobody uses may be dropped when there are many. */
    int live;

    TaskPrefix(String name) {
        this.name = name;
    }

    static String of(String key) {
        int dash = key.lastIndexOf('-');
        return dash > 0 ? key.substring(0, dash) : key;
    }

    void record(long nanos) {
        if (nanos >= 0) {
            count++;
            totalNanos += nanos;
        }
    }

    /** Mean measured duration, or {@code fallback} before any task finished. */
    long expected(long fallback) {
        return count == 0 ? fallback : totalNanos / count;
    }
}
