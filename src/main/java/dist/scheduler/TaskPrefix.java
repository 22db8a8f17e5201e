package dist.scheduler;

/** Tasks of one group (the key without its hash, uuid or index, see {@link #split}): their measured run times. */
final class TaskPrefix {
    final String name;
    long count;
    long totalNanos;
    /** Live tasks with this prefix; a prefix nobody uses may be dropped when there are many. */
    int live;
    /** Tasks of this prefix per state (indexed by {@link TaskState}'s state byte); forgotten ones stay counted. */
    final int[] states = new int[8];
    /** How many times a task of this prefix reached memory. */
    long finished;
    /** {@link #totalNanos} / {@link #count}, kept as they change: placement asks for it per decision. */
    private long mean;
    /** Memo of {@link Placement#pipeline}: its value, and the {@link #count} it was computed at (-1: none). */
    int pipeline;
    long pipelineAt = -1;
    /** Creation order, so dashboards list groups as they came. */
    final long order;
    private static final java.util.concurrent.atomic.AtomicLong CREATED = new java.util.concurrent.atomic.AtomicLong();

    TaskPrefix(String name) {
        this.name = name;
        this.order = CREATED.getAndIncrement();
    }

    /** A task changed state (every change passes here, also creation from "released" and forgetting). */
    void moved(byte from, byte to) {
        states[from]--;
        states[to]++;
        if (to == TaskState.MEMORY) {
            finished++;
        }
    }

    /** The cluster was restarted: every live task was dropped without its own transitions. */
    void dropLive() {
        for (int i = 0; i < states.length; i++) {
            if (i != TaskState.FORGOTTEN) {
                states[TaskState.FORGOTTEN] += states[i];
                states[i] = 0;
            }
        }
    }

    /** The group name of {@code key}, as dask's {@code key_split} (see {@link dist.protocol.KeySplit#split}). */
    static String split(String key) {
        return dist.protocol.KeySplit.split(key);
    }

    /** See {@link dist.protocol.KeySplit#end}. */
    static int end(String key) {
        return dist.protocol.KeySplit.end(key);
    }

    void record(long nanos) {
        if (nanos >= 0) {
            count++;
            totalNanos += nanos;
            mean = totalNanos / count;
        }
    }

    /** Mean measured duration, or {@code fallback} before any task finished. */
    long expected(long fallback) {
        return count == 0 ? fallback : mean;
    }
}
