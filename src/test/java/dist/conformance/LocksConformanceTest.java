package dist.conformance;

import dist.Client;
import dist.ClusterSemaphore;
import dist.Future;
import dist.LocalCluster;
import dist.WorkerClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * dask's distributed/tests/test_locks.py, test_multi_lock.py and test_semaphore.py, through
 * {@code client.lock}, {@code client.multiLock} and {@code client.semaphore}, on clients and inside
 * tasks through {@code WorkerClient.get()}. dask's {@code acquire(timeout=t)} is
 * {@code tryLock(t, unit)}; {@code blocking=False} is {@code tryLock()}.
 *
 * <p>Not applicable:
 * <ul>
 * <li>test_locks.py::test_lock_types → names are Strings by type.</li>
 * <li>test_locks.py::test_serializable, test_semaphore.py::test_serializable → a lock object is
 *     not sent into tasks: a task asks for the lock by name through WorkerClient.get(), and each object
 *     is a holder of its own (as each dask Lock has its own id).</li>
 * <li>test_multi_lock.py::test_num_locks → taking only some of the names is not offered: a multi-lock
 *     takes all its names.</li>
 * <li>test_locks.py::test_acquires_blocking's TypeError → the call shape does not compile.</li>
 * </ul>
 * Lease expiry when a holder's process dies (test_semaphore.py::test_worker_dies) is in
 * dist.it.LocksHistoryTest, with real processes.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LocksConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    static LocalCluster cluster;
    static Client c;
    /** Holders inside the guarded part now and at most: the workers are threads of this JVM. */
    static final AtomicInteger inside = new AtomicInteger();
    static final AtomicInteger most = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalCluster.builder().workers(2).threadsPerWorker(4).output(null).start();
        c = cluster.client();
    }

    @AfterAll
    static void stop() {
        if (c != null) {
            c.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Stays inside a while, long enough that two holders would meet. */
    static void guarded() {
        int now = inside.incrementAndGet();
        most.accumulateAndGet(now, Math::max);
        for (int i = 0; i < 2_000; i++) {
            Thread.yield();
        }
        inside.decrementAndGet();
    }

    static int underLock(int x) {
        Lock l = WorkerClient.get().lock("x");
        l.lock();
        try {
            guarded();
        } finally {
            l.unlock();
        }
        return x;
    }

    static int underMultiLock(int x) {
        Lock l = WorkerClient.get().multiLock(List.of("m"));
        l.lock();
        try {
            guarded();
        } finally {
            l.unlock();
        }
        return x;
    }

    static int underSemaphore(int x) throws InterruptedException {
        ClusterSemaphore s = WorkerClient.get().semaphore("tasks", 2);
        s.acquire();
        try {
            guarded();
        } finally {
            s.release();
        }
        return x;
    }

    private static int mostInside(dist.Fn1<Integer, Integer> fn) throws Exception {
        inside.set(0);
        most.set(0);
        List<Future<Integer>> fs = c.map(fn, IntStream.range(0, 20).boxed().toList());
        assertEquals(IntStream.range(0, 20).boxed().toList(), c.gather(fs));
        return most.get();
    }

    /** dask: test_locks.py::test_lock and test_lock_sync (tasks on one worker do not share a hold). */
    @Test
    void tasksTakeTheLockOneAtATime() throws Exception {
        assertEquals(1, mostInside(LocksConformanceTest::underLock));
    }

    /** dask: test_multi_lock.py::test_single_lock */
    @Test
    void tasksTakeAOneNameMultiLockOneAtATime() throws Exception {
        assertEquals(1, mostInside(LocksConformanceTest::underMultiLock));
    }

    /** dask: test_semaphore.py::test_access_semaphore_by_name */
    @Test
    void tasksHoldAtMostThePermitsOfASemaphoreTheyNameAndAnotherCountIsRefused() throws Exception {
        assertTrue(mostInside(LocksConformanceTest::underSemaphore) <= 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.semaphore("tasks", 3));
        assertTrue(e.getMessage().contains("2") && e.getMessage().contains("3") && e.getMessage().contains("tasks"),
                e.getMessage());
    }

    /** dask: test_locks.py::test_timeout and test_timeout_sync */
    @Test
    void aSecondHolderTimesOutWhileTheFirstHolds() throws Exception {
        Lock lock = c.lock("t");
        Lock lock2 = c.lock("t");
        assertTrue(lock.tryLock(5, TimeUnit.SECONDS));
        assertFalse(lock2.tryLock(100, TimeUnit.MILLISECONDS));
        assertFalse(lock2.tryLock(), "the first still holds");
        lock.unlock();
        assertTrue(lock2.tryLock());
        lock2.unlock();
    }

    /** dask: test_locks.py::test_acquires_with_zero_timeout and test_acquires_blocking */
    @Test
    void zeroTimeoutsAndNonBlockingTriesTakeAFreeLock() throws Exception {
        dist.ClusterLock lock = (dist.ClusterLock) c.lock("z");
        assertTrue(lock.tryLock(0, TimeUnit.SECONDS));
        assertTrue(lock.isHeld());
        lock.unlock();
        assertTrue(lock.tryLock(1, TimeUnit.SECONDS));
        lock.unlock();
        assertTrue(lock.tryLock());
        lock.unlock();
        assertFalse(lock.isHeld());
    }

    /** dask: test_locks.py::test_errors (release of a lock not held); JDK: IllegalMonitorStateException. */
    @Test
    void unlockingWhatThisObjectDoesNotHoldNamesTheLock() {
        Lock lock = c.lock("e");
        IllegalMonitorStateException e = assertThrows(IllegalMonitorStateException.class, lock::unlock);
        assertTrue(e.getMessage().contains("'e'"), e.getMessage());
        Lock holder = c.lock("e");
        holder.lock();
        try {
            assertThrows(IllegalMonitorStateException.class, lock::unlock, "another object's hold is not this one's");
        } finally {
            holder.unlock();
        }
    }

    @Test
    void conditionsAreRefusedWithWhatToUseInstead() {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> c.lock("c").newCondition());
        assertTrue(e.getMessage().contains("event"), e.getMessage());
    }

    @Test
    void anInterruptedWaitThrowsAndIsWithdrawn() throws Exception {
        Lock holder = c.lock("i");
        holder.lock();
        CompletableFuture<Throwable> waited = new CompletableFuture<>();
        Thread t = Thread.ofVirtual().start(() -> {
            try {
                c.lock("i").lockInterruptibly();
                waited.complete(null);
            } catch (Throwable x) {
                waited.complete(x);
            }
        });
        // interrupted once it waits for the scheduler's answer, so the withdrawal is what is tested
        assertTrue(dist.Wait.until(T, () -> t.getState() == Thread.State.WAITING
                || t.getState() == Thread.State.TIMED_WAITING));
        t.interrupt();
        assertInstanceOf(InterruptedException.class, waited.get(30, TimeUnit.SECONDS));
        holder.unlock();
        Lock next = c.lock("i");
        assertTrue(next.tryLock(10, TimeUnit.SECONDS), "the withdrawn wait took nothing");
        next.unlock();
    }

    /** JDK Lock.lock(): an interrupt does not end the wait; the flag is set again once it holds. */
    @Test
    void lockKeepsWaitingThroughAnInterruptAndRestoresTheFlag() throws Exception {
        Lock holder = c.lock("u");
        holder.lock();
        CompletableFuture<Boolean> flagAfter = new CompletableFuture<>();
        Lock waiter = c.lock("u");
        Thread t = Thread.ofVirtual().start(() -> {
            waiter.lock();
            flagAfter.complete(Thread.currentThread().isInterrupted());
        });
        assertTrue(dist.Wait.until(T, () -> t.getState() == Thread.State.WAITING
                || t.getState() == Thread.State.TIMED_WAITING));
        t.interrupt();
        assertTrue(dist.Wait.until(T, () -> t.getState() == Thread.State.WAITING
                || t.getState() == Thread.State.TIMED_WAITING), "waits again after the interrupt");
        assertFalse(flagAfter.isDone());
        holder.unlock();
        assertTrue(flagAfter.get(30, TimeUnit.SECONDS), "the interrupt flag is set again");
        waiter.unlock();
    }

    /** dask: test_multi_lock.py::test_timeout (no partial hold while one name is taken) */
    @Test
    void aMultiLockHoldsNoneOfItsNamesWhileOneIsTaken() throws Exception {
        Lock x = c.multiLock(List.of("mx"));
        assertTrue(x.tryLock());
        Lock xy = c.multiLock(List.of("mx", "my"));
        assertFalse(xy.tryLock(100, TimeUnit.MILLISECONDS));
        Lock y = c.lock("my");
        assertTrue(y.tryLock(), "my was not taken by the multi-lock that failed");
        y.unlock();
        x.unlock();
        assertTrue(xy.tryLock(10, TimeUnit.SECONDS));
        xy.unlock();
    }

    /** dask: test_multi_lock.py::test_multiple_locks and test_timeout_wake_waiter */
    @Test
    void overlappingMultiLocksTakeTurnsWithoutDeadlock() throws Exception {
        Lock ab = c.multiLock(List.of("ma", "mb"));
        Lock bc = c.multiLock(List.of("mb", "mc"));
        Lock ca = c.multiLock(List.of("mc", "ma"));
        ab.lock();
        CompletableFuture<Boolean> second = CompletableFuture.supplyAsync(() -> take(bc));
        CompletableFuture<Boolean> third = CompletableFuture.supplyAsync(() -> take(ca));
        ab.unlock();
        // bc and ca share mc: whichever asked first holds, the other is served after it lets go
        CompletableFuture.anyOf(second, third).get(30, TimeUnit.SECONDS);
        Lock first = ((dist.ClusterLock) bc).isHeld() ? bc : ca;
        Lock then = first == bc ? ca : bc;
        first.unlock();
        assertTrue(second.get(30, TimeUnit.SECONDS) && third.get(30, TimeUnit.SECONDS));
        then.unlock();
        Lock all = c.multiLock(List.of("ma", "mb", "mc"));
        assertTrue(all.tryLock(10, TimeUnit.SECONDS), "nothing is held any more");
        all.unlock();
    }

    private static boolean take(Lock l) {
        try {
            return l.tryLock(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** dask: test_semaphore.py::test_semaphore_trivial and test_acquires_with_timeout */
    @Test
    void aSemaphoreGivesItsPermitsAndNoMore() throws Exception {
        ClusterSemaphore s = c.semaphore("trivial", 2);
        assertEquals(2, s.permits());
        assertTrue(s.tryAcquire());
        assertTrue(s.tryAcquire(1, TimeUnit.SECONDS));
        ClusterSemaphore other = c.semaphore("trivial", 2);
        assertFalse(other.tryAcquire(100, TimeUnit.MILLISECONDS));
        s.release();
        assertTrue(other.tryAcquire(10, TimeUnit.SECONDS));
        other.release();
        s.release();
        assertEquals(0, s.held());
    }

    /** dask: test_semaphore.py::test_release_once_too_many and test_release_simple */
    @Test
    void releasingMoreThanTakenIsAnError() throws Exception {
        ClusterSemaphore s = c.semaphore("once", 1);
        s.acquire();
        s.release();
        IllegalStateException e = assertThrows(IllegalStateException.class, s::release);
        assertTrue(e.getMessage().contains("Released too often"), e.getMessage());
        assertTrue(s.tryAcquire(), "the extra release did not break the count");
        s.release();
    }

    /** A client that closes lets go at once; nobody waits for its lease to run out. */
    @Test
    void aClosedClientsHoldsAreFreedAtOnce() throws Exception {
        Client other = cluster.client();
        Lock held = other.lock("closing");
        held.lock();
        ClusterSemaphore sem = other.semaphore("closing-sem", 1);
        sem.acquire();
        other.close();
        Lock mine = c.lock("closing");
        assertTrue(mine.tryLock(10, TimeUnit.SECONDS), "freed long before the 30 s lease");
        mine.unlock();
        ClusterSemaphore s = c.semaphore("closing-sem", 1);
        assertTrue(s.tryAcquire(10, TimeUnit.SECONDS));
        s.release();
    }

    @Test
    void anUnknownCountOrNameIsRefusedClearly() {
        assertThrows(IllegalArgumentException.class, () -> c.semaphore("zero", 0));
        assertThrows(IllegalArgumentException.class, () -> c.lock(""));
        assertThrows(IllegalArgumentException.class, () -> c.multiLock(List.of()));
    }
}
