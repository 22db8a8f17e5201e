package dist.worker;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The numbers of a worker's thread slots, 0 to nthreads - 1, as the task stream names them (dask's
 * "thread"): a task takes the lowest free one when it starts and gives it back when it ends or secedes.
 * Slot threads themselves come and go (a seceded task's thread leaves the pool), so the number is not
 * the thread's.
 */
final class SlotNumbers {
    /** Per number: the thread running a task in it, null when free. */
    private final AtomicReferenceArray<Thread> holders;

    SlotNumbers(int nthreads) {
        holders = new AtomicReferenceArray<>(Math.max(1, nthreads));
    }

    /** The lowest free number, now held by {@code self}; 0 when all are taken (a task on a reader thread). */
    int take(Thread self) {
        for (int i = 0; i < holders.length(); i++) {
            if (holders.get(i) == null && holders.compareAndSet(i, null, self)) {
                return i;
            }
        }
        return 0;
    }

    /** Frees number {@code slot} if the calling thread holds it ({@code -1}: whichever it holds). */
    void release(int slot) {
        Thread self = Thread.currentThread();
        if (slot >= 0) {
            holders.compareAndSet(slot, self, null);
            return;
        }
        for (int i = 0; i < holders.length(); i++) {
            holders.compareAndSet(i, self, null);
        }
    }
}
