package dist.conformance;

import dist.Client;
import dist.DistTimeoutException;
import dist.Event;
import dist.Future;
import dist.LocalCluster;
import dist.SharedQueue;
import dist.Subscription;
import dist.TaskFailedException;
import dist.TopicEvent;
import dist.Variable;
import dist.Wait;
import dist.WorkerClient;
import dist.api.ClusterFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * dask's distributed/tests/test_queues.py, test_events.py, test_variable.py and the topic tests of
 * test_client.py / test_worker_client.py, through {@code client.queue}, {@code client.event},
 * {@code client.variable}, {@code logEvent}, {@code events} and {@code subscribeTopic}. dask's
 * TimeoutError of {@code Queue.get} is a null from {@code poll(timeout)} (the BlockingQueue
 * contract); that of {@code Variable.get} is a DistTimeoutException. A handle is made per client:
 * a task makes its own by name through {@code WorkerClient.get()}, which is what dask's pickled
 * handles do when unpickled on a worker, so dask's cases that send a handle into tasks
 * (test_events.py::test_serializable, test_variable.py::test_pickleable,
 * test_queues.py::test_picklability, test_queues.py::test_picklability_sync) port as the same calls
 * made inside tasks. Timing asserts (the elapsed bounds of test_queues.py::test_timeout and
 * test_variable.py::test_timeout) are left out by rule; what they check, that the wait ends as a
 * timeout, is asserted. dask's checks that the events extension kept nothing
 * ({@code _events}, {@code _waiter_count}) read internals no public API reaches.
 *
 * <p>Not applicable:
 * <ul>
 * <li>test_queues.py::test_unpickle_without_client, test_events.py::test_unpickle_without_client,
 *     test_variable.py::test_unpickle_without_client → a handle is never pickled: one without a
 *     client cannot be made (client.queue, client.event and client.variable make them).</li>
 * <li>test_events.py::test_event_types → names are Strings by type: the ints, tuples, lists and
 *     bytes it names events with do not exist as names in Java's API.</li>
 * </ul>
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SharedStateConformanceTest {
    static final Duration T = Duration.ofSeconds(30);
    static LocalCluster cluster;
    static Client c;

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

    static int inc(int x) {
        return x + 1;
    }

    static double div(int x, int y) {
        if (y == 0) {
            throw new ArithmeticException("division by zero");
        }
        return (double) x / y;
    }

    private static String state(String key) {
        return ClusterFixture.stateOf(cluster, key);
    }

    // ------------------------------------------------------------------ queues

    /** dask: test_queues.py::test_queue — a queued future keeps its data; taken, it is the same key; once taken everywhere it goes. */
    @Test
    void queueOfFutures() throws Exception {
        SharedQueue<Future<Integer>> x = c.queue("q-x");
        SharedQueue<Future<Integer>> y = c.queue("q-y");
        SharedQueue<Future<Integer>> xx = c.queue("q-x");
        Future<Integer> future = c.submit(SharedStateConformanceTest::inc, 1);
        x.put(future);
        y.put(future);
        Future<Integer> future2 = xx.take();
        assertEquals(future.key(), future2.key());
        assertNull(x.poll(100, TimeUnit.MILLISECONDS), "an empty queue's timed take ends empty");
        String key = future.key();
        future.release();
        future2.release();
        assertTrue(Wait.until(T, () -> state(key).equals("memory")), state(key)); // still in y
        Future<Integer> burn = y.take();
        assertEquals(2, burn.result(T));
        burn.release();
        assertTrue(Wait.until(T, () -> state(key).equals("null")), state(key));
    }

    /** dask: test_queues.py::test_queue_with_data — plain values round-trip; a timed take of an empty queue ends empty. */
    @Test
    void queueWithData() throws Exception {
        BlockingQueue<List<Object>> x = c.queue("q-data");
        BlockingQueue<List<Object>> xx = c.queue("q-data");
        x.put(List.of(1, "hello"));
        assertEquals(1, x.size());
        assertEquals(1, xx.size());
        assertEquals(List.of(1, "hello"), xx.take());
        assertNull(x.poll(100, TimeUnit.MILLISECONDS));
        assertTrue(x.isEmpty());
    }

    /** dask: test_queues.py::test_sync — a future put through one handle is counted by both; taken through the other, it gives its result. */
    @Test
    void queueSizeSeenByEveryHandle() throws Exception {
        Future<Integer> future = c.submit(SharedStateConformanceTest::inc, 30);
        SharedQueue<Future<Integer>> x = c.queue("q-sync");
        SharedQueue<Future<Integer>> xx = c.queue("q-sync");
        x.put(future);
        assertEquals(1, x.size());
        assertEquals(1, xx.size());
        assertEquals(31, xx.take().result(T));
    }

    /** dask: test_queues.py::test_close — a queue emptied (twice, quietly) is forgotten by the scheduler: made again, it takes the new bound. dask's close is clear() here, as an empty queue nobody waits on is dropped. */
    @Test
    void anEmptiedQueueIsForgotten() throws Exception {
        SharedQueue<Integer> q = c.queue("q-close", 1);
        q.put(1);
        assertFalse(q.offer(2), "bound 1");
        q.clear();
        q.clear();
        SharedQueue<Integer> again = c.queue("q-close", 2);
        assertTrue(again.offer(1));
        assertTrue(again.offer(2), "the queue was made anew, with bound 2");
        again.clear();
    }

    /** dask: test_queues.py::test_set_cancelled_future — putting a cancelled future is refused. dist refuses it in the client, before anything is sent, saying the future was cancelled (dask's scheduler says its key is unknown). */
    @Test
    void aCancelledFutureIsNotQueued() throws Exception {
        Future<Integer> x = c.submit(SharedStateConformanceTest::blockUntil, "q-cancel-go");
        assertEquals(1, c.cancel(List.of(x)));
        SharedQueue<Future<Integer>> q = c.queue("q-cancelled");
        RuntimeException e = assertThrows(RuntimeException.class, () -> q.offer(x, 100, TimeUnit.MILLISECONDS));
        assertTrue(e.getMessage().contains(x.key() + " was cancelled"), e.toString());
        assertEquals(0, q.size());
        c.event("q-cancel-go").set();
    }

    static int blockUntil(String event) {
        WorkerClient.get().event(event).waitFor(Duration.ofSeconds(30));
        return 1;
    }

    /** dask: test_queues.py::test_hold_futures — a future put by a client that then left is still there for another. */
    @Test
    void queueHoldsFuturesOfAClientThatLeft() throws Exception {
        try (Client c1 = Client.connect(cluster.schedulerAddress())) {
            Future<Integer> f = c1.submit(SharedStateConformanceTest::inc, 10);
            c1.queue("q-hold").put(f);
        }
        try (Client c2 = Client.connect(cluster.schedulerAddress())) {
            Future<Integer> f2 = c2.<Future<Integer>>queue("q-hold").poll(30, TimeUnit.SECONDS);
            assertNotNull(f2);
            assertEquals(11, f2.result(T));
        }
    }

    static int putFromTask(int x) throws InterruptedException {
        WorkerClient.get().queue("q-task").put(x + 1);
        return 0;
    }

    static int takeFromTask() throws InterruptedException {
        Integer v = WorkerClient.get().<Integer>queue("q-task").poll(30, TimeUnit.SECONDS);
        return v == null ? -1 : v;
    }

    /** dask: test_queues.py::test_picklability, test_queues.py::test_picklability_sync, test_queues.py::test_2220, test_queues.py::test_queue_in_task — tasks put and take (a task's client reaches the scheduler over TCP, as from a worker process). */
    @Test
    void queueFromTasks() throws Exception {
        c.submit(SharedStateConformanceTest::putFromTask, 10).result(T);
        assertEquals(11, c.queue("q-task").take());
        Future<Integer> taker = c.submit(SharedStateConformanceTest::takeFromTask);
        c.queue("q-task").put(55);
        assertEquals(55, taker.result(T));
    }

    /** dask: test_queues.py::test_same_futures — one future queued five times stays alive until the last is taken. */
    @Test
    void sameFutureQueuedManyTimes() throws Exception {
        SharedQueue<Future<Integer>> q = c.queue("q-same");
        Future<Integer> f = c.scatter(List.of(-123)).get(0); // scattered keys hash the value: one no other test holds
        String key = f.key();
        for (int i = 0; i < 5; i++) {
            q.put(f);
        }
        f.release();
        for (int i = 0; i < 4; i++) {
            q.take().release();
            assertEquals("memory", state(key));
        }
        q.take().release();
        assertTrue(Wait.until(T, () -> state(key).equals("null")), state(key));
    }

    /** dask: test_queues.py::test_get_many — a batch take is drainTo, all or at most n. Unlike dask's get(batch=2), which waits for two items, drainTo never waits (the BlockingQueue contract): on an empty queue it takes none at once. */
    @Test
    void getMany() throws Exception {
        SharedQueue<Integer> x = c.queue("q-many");
        SharedQueue<Integer> xx = c.queue("q-many");
        x.put(1);
        x.put(2);
        x.put(3);
        List<Integer> all = new ArrayList<>();
        assertEquals(3, xx.drainTo(all));
        assertEquals(List.of(1, 2, 3), all);
        x.put(1);
        x.put(2);
        x.put(3);
        List<Integer> two = new ArrayList<>();
        xx.drainTo(two, 2);
        assertEquals(List.of(1, 2), two);
        xx.clear();
        assertEquals(0, xx.size());
        assertEquals(0, xx.drainTo(new ArrayList<>(), 2));
    }

    /** dask: test_queues.py::test_Future_knows_status_immediately, test_queues.py::test_erred_future — a taken future knows at once that its task finished or erred, and raises its error. */
    @Test
    void takenFutureKnowsItsStatus() throws Exception {
        Future<Integer> x = c.scatter(List.of(123)).get(0);
        c.queue("q-status").put(x);
        try (Client c2 = Client.connect(cluster.schedulerAddress())) {
            Future<Integer> f = c2.<Future<Integer>>queue("q-status").take();
            assertEquals(java.util.concurrent.Future.State.SUCCESS, f.state(), "known as it is handed over");
            assertEquals(123, f.result(T));
            Future<Double> bad = c.submit(SharedStateConformanceTest::div, 1, 0);
            assertThrows(TaskFailedException.class, () -> bad.result(T));
            c.queue("q-status").put(bad);
            Future<Double> f2 = c2.<Future<Double>>queue("q-status").take();
            assertEquals(java.util.concurrent.Future.State.FAILED, f2.state(), "known as it is handed over");
            TaskFailedException e = assertThrows(TaskFailedException.class, () -> f2.result(T));
            assertInstanceOf(ArithmeticException.class, e.getCause());
            assertInstanceOf(ArithmeticException.class, f2.exception(T));
        }
    }

    /** dask: test_queues.py::test_timeout — a take from an empty queue and a put into a full one end at their deadline. */
    @Test
    void queueTimeouts() throws Exception {
        SharedQueue<Integer> q = c.queue("q-v", 1);
        assertNull(q.poll(300, TimeUnit.MILLISECONDS));
        q.put(1);
        assertFalse(q.offer(2, 300, TimeUnit.MILLISECONDS));
        assertFalse(q.offer(2));
        assertEquals(0, q.remainingCapacity());
        assertThrows(IllegalStateException.class, () -> q.add(3), "AbstractQueue.add of a full queue");
        assertEquals(1, q.take());
    }

    /** A put waiting for room goes in when a take makes room; the BlockingQueue methods that need live contents say why they cannot. */
    @Test
    void waitingPutAndUnsupportedMethods() throws Exception {
        SharedQueue<Integer> q = c.queue("q-wait", 1);
        q.put(1);
        Thread putter = Thread.ofVirtual().start(() -> {
            try {
                q.put(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertEquals(1, q.take());
        putter.join(T.toMillis());
        assertFalse(putter.isAlive());
        assertEquals(2, q.take());
        UnsupportedOperationException u = assertThrows(UnsupportedOperationException.class, q::iterator);
        assertTrue(u.getMessage().contains("other clients"), u.getMessage());
        assertThrows(UnsupportedOperationException.class, () -> q.remove((Object) 1));
        assertThrows(UnsupportedOperationException.class, q::peek);
        assertThrows(NullPointerException.class, () -> q.put(null));
        IllegalArgumentException big = assertThrows(IllegalArgumentException.class,
                () -> c.queue("q-huge", Integer.MAX_VALUE).offer(1));
        assertTrue(big.getMessage().contains("queue-max-items"), big.getMessage());
    }

    static int queueRace(int i) throws Exception {
        Client wc = WorkerClient.get();
        SharedQueue<Future<Integer>> q = wc.queue("q-race");
        for (int k = 0; k < 20; k++) {
            Future<Integer> f = q.take();
            int x = f.result(Duration.ofSeconds(30));
            f.release();
            q.put(wc.submit(SharedStateConformanceTest::inc, x));
        }
        Future<Integer> last = q.take();
        return last.result(Duration.ofSeconds(30));
    }

    /** dask: test_queues.py::test_race — tasks take futures, submit their increments and put those back; no increment is lost. */
    @Test
    void queueRace() throws Exception {
        SharedQueue<Future<Integer>> q = c.queue("q-race");
        for (Future<Integer> f : c.scatter(List.of(1000, 1001, 1002, 1003, 1004))) {
            q.put(f);
        }
        List<Future<Integer>> runs = c.map(SharedStateConformanceTest::queueRace, List.of(0, 1, 2, 3, 4));
        int sum = 0;
        for (Object r : c.gather(runs)) {
            sum += (Integer) r;
        }
        assertEquals(1000 + 1001 + 1002 + 1003 + 1004 + 5 * 20, sum);
        assertEquals(0, q.size());
    }

    // ------------------------------------------------------------------ events

    static boolean eventNotSet(String name) {
        Event e = WorkerClient.get().event(name);
        return !e.waitFor(Duration.ofMillis(50)) && !e.isSet();
    }

    static boolean eventSet(String name) {
        Event e = WorkerClient.get().event(name);
        return e.waitFor(Duration.ofSeconds(10)) && e.isSet();
    }

    static int setEvent(String name) {
        WorkerClient.get().event(name).set();
        return 0;
    }

    static int clearEvent(String name) {
        WorkerClient.get().event(name).clear();
        return 0;
    }

    /** dask: test_events.py::test_event_on_workers, test_events.py::test_event_sync, test_events.py::test_serializable — tasks set, clear and wait. */
    @Test
    void eventOnWorkers() throws Exception {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            names.add("e-x");
        }
        for (Object ok : c.gather(c.map(SharedStateConformanceTest::eventNotSet, names))) {
            assertEquals(true, ok);
        }
        c.submit(SharedStateConformanceTest::setEvent, "e-x").result(T);
        for (Object ok : c.gather(c.map(SharedStateConformanceTest::eventSet, names))) {
            assertEquals(true, ok);
        }
        c.submit(SharedStateConformanceTest::clearEvent, "e-x").result(T);
        assertFalse(c.event("e-x").isSet());
    }

    /** dask: test_events.py::test_default_event, test_events.py::test_set_not_set, test_events.py::test_set_not_set_many_events — an event starts clear; set and clear show. */
    @Test
    void setNotSet() {
        Event event = c.event("e-flag");
        assertFalse(event.isSet());
        event.clear();
        assertFalse(event.isSet());
        event.set();
        assertTrue(event.isSet());
        event.set();
        assertTrue(event.isSet());
        event.clear();
        assertFalse(event.isSet());
        List<Event> many = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            many.add(c.event("e-many-" + i));
        }
        for (int i = 0; i < many.size(); i++) {
            if (i % 2 == 0) {
                many.get(i).set();
            }
        }
        for (int i = 0; i < many.size(); i++) {
            assertEquals(i % 2 == 0, many.get(i).isSet());
            many.get(i).clear();
            assertFalse(many.get(i).isSet());
        }
    }

    /** dask: test_events.py::test_timeout — a wait on a clear event ends false at its deadline; on a set one, true. */
    @Test
    void eventTimeout() {
        Event event = c.event("e-t");
        assertFalse(c.event("e-t").waitFor(Duration.ofMillis(100)));
        event.set();
        assertTrue(c.event("e-t").waitFor(Duration.ofMillis(100)));
        event.clear();
        assertFalse(c.event("e-t").waitFor(Duration.ofMillis(100)));
    }

    /** dask: test_events.py::test_two_events_on_workers — two events do not mix. */
    @Test
    void twoEventsOnWorkers() throws Exception {
        assertEquals(true, c.submit(SharedStateConformanceTest::eventNotSet, "e-first").result(T));
        assertEquals(true, c.submit(SharedStateConformanceTest::eventNotSet, "e-second").result(T));
        c.event("e-first").set();
        assertEquals(true, c.submit(SharedStateConformanceTest::eventSet, "e-first").result(T));
        assertEquals(true, c.submit(SharedStateConformanceTest::eventNotSet, "e-second").result(T));
        c.event("e-first").clear();
        c.event("e-second").set();
        assertEquals(true, c.submit(SharedStateConformanceTest::eventNotSet, "e-first").result(T));
        assertEquals(true, c.submit(SharedStateConformanceTest::eventSet, "e-second").result(T));
        c.event("e-second").clear();
    }

    /** A waiter blocked before the set wakes when another client sets the event. */
    @Test
    void waiterWakesOnSet() throws Exception {
        Future<Boolean> waiter = c.submit(SharedStateConformanceTest::eventSet, "e-wake");
        assertTrue(Wait.until(T, () -> !waiter.isDone())); // it waits while the event is clear
        c.event("e-wake").set();
        assertTrue(waiter.result(T));
        c.event("e-wake").clear();
    }

    // ------------------------------------------------------------------ variables

    /** dask: test_variable.py::test_variable, test_variable.py::test_sync, test_variable.py::test_variables_do_not_leak_client — a variable keeps its future alive until deleted, and then holds nothing. */
    @Test
    void variableOfAFuture() throws Exception {
        Variable<Future<Integer>> x = c.variable("v-x");
        Variable<Future<Integer>> xx = c.variable("v-x");
        Future<Integer> future = c.submit(SharedStateConformanceTest::inc, 1);
        String key = future.key();
        assertFalse(x.isSet());
        x.set(future);
        assertTrue(x.isSet());
        Future<Integer> future2 = xx.get(T);
        assertEquals(key, future2.key());
        assertEquals(2, future2.result(T));
        future.release();
        future2.release();
        assertTrue(Wait.until(T, () -> state(key).equals("memory")), state(key));
        x.delete();
        assertFalse(x.isSet());
        assertTrue(Wait.until(T, () -> state(key).equals("null")), state(key));
    }

    /** dask: test_variable.py::test_delete_unset_variable — deleting what is not set is quiet. */
    @Test
    void deleteUnsetVariable() {
        c.variable("v-never").delete();
        assertFalse(c.variable("v-never").isSet());
    }

    /** dask: test_variable.py::test_queue_with_data — a plain value round-trips. */
    @Test
    void variableWithData() {
        c.<List<Object>>variable("v-data").set(List.of(1, "hello"));
        assertEquals(List.of(1, "hello"), c.<List<Object>>variable("v-data").get(T));
    }

    /** dask: test_variable.py::test_set_cancelled_future — setting a cancelled future is refused. dist refuses it in the client, before anything is sent, saying the future was cancelled (dask's set times out waiting for the key). */
    @Test
    void aCancelledFutureIsNotSet() {
        Future<Integer> x = c.submit(SharedStateConformanceTest::blockUntil, "v-cancel-go");
        assertEquals(1, c.cancel(List.of(x)));
        Variable<Future<Integer>> v = c.variable("v-cancelled");
        RuntimeException e = assertThrows(RuntimeException.class, () -> v.set(x));
        assertTrue(e.getMessage().contains(x.key() + " was cancelled"), e.toString());
        assertFalse(v.isSet());
        c.event("v-cancel-go").set();
    }

    /** dask: test_variable.py::test_hold_futures — the value outlives the client that set it. */
    @Test
    void variableHoldsFuturesOfAClientThatLeft() throws Exception {
        try (Client c1 = Client.connect(cluster.schedulerAddress())) {
            c1.variable("v-hold").set(c1.submit(SharedStateConformanceTest::inc, 10));
        }
        try (Client c2 = Client.connect(cluster.schedulerAddress())) {
            Future<Integer> f = c2.<Future<Integer>>variable("v-hold").get(T);
            assertEquals(11, f.result(T));
        }
    }

    /** dask: test_variable.py::test_timeout, test_variable.py::test_timeout_sync — a get of an unset variable times out. */
    @Test
    void variableTimeout() {
        Variable<Integer> v = c.variable("v-t");
        DistTimeoutException e = assertThrows(DistTimeoutException.class, () -> v.get(Duration.ofMillis(200)));
        assertTrue(e.getMessage().contains("v-t"), e.getMessage());
        assertThrows(DistTimeoutException.class, () -> v.get(Duration.ofMillis(10)));
    }

    static int setVariable(int x) {
        WorkerClient.get().<Integer>variable("v-task").set(x + 1);
        return 0;
    }

    static int getVariable(String name) {
        return WorkerClient.get().<Integer>variable(name).get(Duration.ofSeconds(10));
    }

    /** dask: test_variable.py::test_pickleable, test_variable.py::test_variable_in_task, test_variable.py::test_timeout_get — set and got inside tasks (whose client reaches the scheduler over TCP, as from a worker process); a waiting get gets the later set. */
    @Test
    void variableFromTasks() throws Exception {
        c.submit(SharedStateConformanceTest::setVariable, 10).result(T);
        assertEquals(11, c.<Integer>variable("v-task").get(T));
        Future<Integer> waiting = c.submit(SharedStateConformanceTest::getVariable, "v-later");
        assertTrue(Wait.until(T, () -> !waiting.isDone()));
        c.<Integer>variable("v-later").set(1);
        assertEquals(1, waiting.result(T));
    }

    /** dask: test_variable.py::test_cleanup — a get sees the value set then; replacing it lets the old future go only once nothing holds it. */
    @Test
    void variableCleanup() throws Exception {
        Variable<Future<Integer>> v = c.variable("v-clean");
        Future<Integer> x = c.submit(SharedStateConformanceTest::inc, 10);
        Future<Integer> y = c.submit(SharedStateConformanceTest::inc, 20);
        String xKey = x.key();
        v.set(x);
        x.release();
        Future<Integer> got = c.<Future<Integer>>variable("v-clean").get(T);
        v.set(y);
        assertEquals(xKey, got.key());
        assertEquals(11, got.result(T));
        assertEquals(21, v.get(T).result(T));
        v.delete();
    }

    /** dask: test_variable.py::test_Future_knows_status_immediately, test_variable.py::test_erred_future, test_variable.py::test_future_erred_sync — a future read from a variable knows at once that its task finished or erred, and raises its error. */
    @Test
    void variableErredFuture() throws Exception {
        Future<Integer> x = c.scatter(List.of(124)).get(0);
        c.<Future<Integer>>variable("v-ok").set(x);
        Future<Double> bad = c.submit(SharedStateConformanceTest::div, 1, 0);
        assertThrows(TaskFailedException.class, () -> bad.result(T));
        Variable<Future<Double>> var = c.variable("v-err");
        var.set(bad);
        try (Client c2 = Client.connect(cluster.schedulerAddress())) {
            Future<Integer> f = c2.<Future<Integer>>variable("v-ok").get(T);
            assertEquals(java.util.concurrent.Future.State.SUCCESS, f.state(), "known as it is handed over");
            assertEquals(124, f.result(T));
            Future<Double> f2 = c2.<Future<Double>>variable("v-err").get(T);
            assertEquals(java.util.concurrent.Future.State.FAILED, f2.state(), "known as it is handed over");
            TaskFailedException e = assertThrows(TaskFailedException.class, () -> f2.result(T));
            assertInstanceOf(ArithmeticException.class, e.getCause());
            assertInstanceOf(ArithmeticException.class, f2.exception(T));
        }
        var.delete();
        c.variable("v-ok").delete();
    }

    static int variableRace(int i) {
        Client wc = WorkerClient.get();
        Variable<Future<Integer>> v = wc.variable("v-race");
        for (int k = 0; k < 10; k++) {
            Future<Integer> f = v.get(Duration.ofSeconds(30));
            v.set(wc.submit(SharedStateConformanceTest::inc, f.result(Duration.ofSeconds(30))));
            f.release();
        }
        return v.get(Duration.ofSeconds(30)).result(Duration.ofSeconds(30));
    }

    /** dask: test_variable.py::test_race — tasks read and replace a variable's future many times; each read is a live future. */
    @Test
    void variableRace() throws Exception {
        Variable<Future<Integer>> v = c.variable("v-race");
        v.set(c.scatter(List.of(5000)).get(0));
        List<Future<Integer>> runs = c.map(SharedStateConformanceTest::variableRace, List.of(0, 1, 2, 3, 4));
        for (Object r : c.gather(runs)) {
            assertTrue((Integer) r > 5000, String.valueOf(r));
        }
        assertTrue(v.get(T).result(T) > 5000, "the last value is an increment");
        v.delete();
    }

    // ------------------------------------------------------------------ topics

    static int logFromTask(String topic) {
        WorkerClient.get().logEvent(topic, Map.of("foo", "bar"));
        return 0;
    }

    /** dask: test_worker_client.py::test_log_event, test_worker_client.py::test_log_event_implicit — a task logs an event; the client reads it. */
    @Test
    void logEventFromTask() throws Exception {
        c.submit(SharedStateConformanceTest::logFromTask, "topic1").result(T);
        List<TopicEvent> events = Wait.value(T, () -> c.events("topic1"), l -> !l.isEmpty());
        assertEquals(1, events.size());
        assertEquals(Map.of("foo", "bar"), events.get(0).message());
        assertEquals("topic1", events.get(0).topic());
        assertNotNull(events.get(0).time());
    }

    /** dask: test_client.py::test_log_event, test_client.py::test_get_events — events of a topic, in order, each with its time. */
    @Test
    void logEventFromClient() throws Exception {
        c.logEvent("topic-c", Map.of("x", 1));
        c.logEvent("topic-c", Map.of("x", 2));
        List<TopicEvent> events = Wait.value(T, () -> c.events("topic-c"), l -> l.size() == 2);
        assertEquals(Map.of("x", 1), events.get(0).message());
        assertEquals(Map.of("x", 2), events.get(1).message());
        assertFalse(events.get(1).time().isBefore(events.get(0).time()));
        assertEquals(List.of(), c.events("topic-none"));
    }

    /** dask: test_client.py::test_subscribe_topic — a handler gets later events until unsubscribed. */
    @Test
    void subscribeTopic() throws Exception {
        List<Object> seen = new CopyOnWriteArrayList<>();
        List<String> threads = new CopyOnWriteArrayList<>();
        Subscription s = c.subscribeTopic("topic-s", e -> {
            seen.add(e.message());
            threads.add(Thread.currentThread().getName());
        });
        c.logEvent("topic-s", "a");
        c.submit(SharedStateConformanceTest::logFromTask, "topic-s").result(T);
        assertTrue(Wait.until(T, () -> seen.size() == 2), seen.toString());
        assertTrue(seen.contains("a") && seen.contains(Map.of("foo", "bar")), seen.toString());
        assertEquals("dist-client-topics", threads.get(0));
        s.close();
        c.logEvent("topic-s", "after");
        assertTrue(Wait.until(T, () -> c.events("topic-s").size() == 3));
        c.logEvent("topic-probe", "x"); // sent after "after" on the same link: once it is kept, "after" was handled
        assertTrue(Wait.until(T, () -> c.events("topic-probe").size() == 1));
        assertEquals(2, seen.size(), seen.toString());
    }

    // ------------------------------------------------------------------ fire and forget

    static int slowSetEvent(String name) throws InterruptedException {
        WorkerClient.get().event(name + "-started").set();
        Thread.sleep(300);
        WorkerClient.get().event(name).set();
        return 0;
    }

    /** dask: test_client.py::test_fire_and_forget — a fired and forgotten task runs to its end after its client has left. */
    @Test
    void fireAndForgetOutlivesItsClient() throws Exception {
        try (Client c1 = Client.connect(cluster.schedulerAddress())) {
            Future<Integer> f = c1.submit(SharedStateConformanceTest::slowSetEvent, "ff-done");
            c1.fireAndForget(List.of(f));
            assertTrue(c.event("ff-done-started").waitFor(T));
        }
        assertTrue(c.event("ff-done").waitFor(T), "the task ran to its end though its client closed");
    }
}
