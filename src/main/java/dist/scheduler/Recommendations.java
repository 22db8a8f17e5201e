package dist.scheduler;

import java.util.Arrays;

/**
 * The recommendation loop's queue: (task, target state) pairs in order, in two parallel rings, so
 * a recommendation costs two array stores and no object (no boxed target, no entry).
 */
final class Recommendations {
    private TaskState[] tasks = new TaskState[64];
    private byte[] targets = new byte[64];
    private int head;
    private int size;
    /** The target of the task last returned by {@link #poll()}. */
    private byte target;

    void add(TaskState ts, byte to) {
        if (size == tasks.length) {
            grow();
        }
        int i = (head + size) & (tasks.length - 1);
        tasks[i] = ts;
        targets[i] = to;
        size++;
    }

    /** The next task, or null when none is left; its target is then {@link #target()}. */
    TaskState poll() {
        if (size == 0) {
            return null;
        }
        TaskState ts = tasks[head];
        target = targets[head];
        tasks[head] = null;
        head = (head + 1) & (tasks.length - 1);
        size--;
        return ts;
    }

    byte target() {
        return target;
    }

    void clear() {
        Arrays.fill(tasks, null);
        head = 0;
        size = 0;
    }

    private void grow() {
        int n = tasks.length;
        TaskState[] t = new TaskState[n * 2];
        byte[] g = new byte[n * 2];
        for (int k = 0; k < size; k++) {
            t[k] = tasks[(head + k) & (n - 1)];
            g[k] = targets[(head + k) & (n - 1)];
        }
        tasks = t;
        targets = g;
        head = 0;
    }
}
