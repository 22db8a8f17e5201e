package dist;

import dist.protocol.Message;
import dist.protocol.TaskCall;
import dist.protocol.TaskSpec;
import dist.serial.Ref;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.*;

class ClientTest {
    static int inc(int x) {
        return x + 1;
    }

    static int add(int x, int y) {
        return x + y;
    }

    record Pair(Object left, Object right) implements Serializable {
    }

    FakeCluster cluster;
    JavaSerialCodec codec;
    Client client;

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster();
        codec = new JavaSerialCodec();
        client = new Client(FakeCluster.SCHEDULER, cluster, codec, getClass().getClassLoader(), Duration.ofSeconds(5));
    }

    @AfterEach
    void tearDown() {
        client.close();
    }

    @Test
    void rebalanceAndReplicateAreOneRequestEachAndTheSchedulersRefusalReachesTheCaller() throws Exception {
        // the scheduler plans and copies; the client only asks and waits (drops after listing: DataPlacementExtensionTest)
        cluster.schedulerAnswers = m -> switch (m) {
            case Message.RebalanceRequest r -> new Message.Ack();
            case Message.ReplicateRequest r -> new Message.ErrorReply("replicating 1 keys to 3 workers failed: "
                    + "the keys [k1 (erred)] are no longer in memory");
            default -> new Message.ErrorReply("unexpected " + m);
        };
        cluster.workers = List.of(new Message.WorkerInfo("a:1", "alice", 4, 0, 1, 0, 0, 0));

        client.rebalance();
        DistException e = assertThrows(DistException.class,
                () -> client.replicate(List.of(client.core().holdKey("k1")), 3, List.of("alice"), 2));

        assertTrue(e.getMessage().contains("k1 (erred)"), e.getMessage());
        Message.RebalanceRequest rb = cluster.sentOf(Message.RebalanceRequest.class).get(0);
        assertEquals(List.of(), rb.keys());
        assertTrue(rb.timeoutMillis() > 0 && rb.timeoutMillis() < 5000, "the scheduler answers within the client's wait");
        Message.ReplicateRequest rp = cluster.sentOf(Message.ReplicateRequest.class).get(0);
        assertEquals(List.of("k1"), rp.keys());
        assertEquals(3, rp.n());
        assertEquals(List.of("alice"), rp.workers());
        assertTrue(cluster.workerRequests.isEmpty(), "no worker is told anything by the client");
        assertTrue(cluster.sentOf(Message.DropReplicas.class).isEmpty());
    }

    @Test
    void aBroadcastScatterPutsWhereTheSchedulerSaysThenAsksItToReplicate() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean replicated = new java.util.concurrent.atomic.AtomicBoolean();
        cluster.schedulerAnswers = m -> switch (m) {
            case Message.ScatterRequest r -> new Message.ScatterPlan(Map.of("b:1", r.keys()));
            case Message.ReplicateRequest r -> {
                replicated.set(true);
                yield new Message.Ack();
            }
            default -> new Message.ErrorReply("unexpected " + m);
        };
        cluster.workerAnswers = (w, m) -> {
            for (String k : ((Message.PutData) m).data().keySet()) {
                cluster.push(new Message.KeyInMemory(k, List.of(w), 4, null));
            }
            return new Message.Ack();
        };
        Map<String, Integer> data = new LinkedHashMap<>();
        data.put("everywhere", 7);

        client.scatter(data, List.of("alice", "bob"), true);

        assertEquals(Set.of("b:1"), cluster.workerRequests.keySet(), "the bytes went where the scheduler said");
        assertTrue(replicated.get(), "scatter returned after the scheduler answered the replicate");
        Message.ScatterRequest sr = cluster.sentOf(Message.ScatterRequest.class).get(0);
        assertEquals(List.of("everywhere"), sr.keys());
        assertEquals(List.of("alice", "bob"), sr.workers());
        Message.ReplicateRequest rp = cluster.sentOf(Message.ReplicateRequest.class).get(0);
        assertEquals(List.of("everywhere"), rp.keys());
        assertEquals(0, rp.n(), "every matching worker");
        assertEquals(List.of("alice", "bob"), rp.workers());
    }

    @Test
    void aScatterShareAWorkerFailsToStoreIsPlacedAgainAvoidingThatWorker() throws Exception {
        cluster.unreachable.add("a:1");
        cluster.schedulerAnswers = m -> m instanceof Message.ScatterRequest r
                ? new Message.ScatterPlan(Map.of(r.avoid().contains("a:1") ? "b:1" : "a:1", r.keys()))
                : new Message.ErrorReply("unexpected " + m);
        cluster.workerAnswers = (w, m) -> {
            for (String k : ((Message.PutData) m).data().keySet()) {
                cluster.push(new Message.KeyInMemory(k, List.of(w), 4, null));
            }
            return new Message.Ack();
        };

        Map<String, Future<Integer>> fs = client.scatter(Map.of("x", 1), List.of(), false);

        assertEquals(Future.State.SUCCESS, fs.get("x").state());
        List<Message.ScatterRequest> asked = cluster.sentOf(Message.ScatterRequest.class);
        assertEquals(2, asked.size());
        assertEquals(List.of("a:1"), asked.get(1).avoid());
        assertEquals(Set.of("b:1"), cluster.workerRequests.keySet());
    }

    List<TaskSpec> tasks() {
        List<TaskSpec> out = new ArrayList<>();
        for (Message.UpdateGraph u : cluster.sentOf(Message.UpdateGraph.class)) {
            out.addAll(u.tasks());
        }
        return out;
    }

    TaskSpec task(String key) {
        return tasks().stream().filter(t -> t.key().equals(key)).findFirst().orElseThrow();
    }

    @Test
    void registersFirst() {
        assertInstanceOf(Message.RegisterClient.class, cluster.sent.get(0));
        assertEquals(client.id(), ((Message.RegisterClient) cluster.sent.get(0)).clientId());
    }

    @Test
    void pureCallsShareAKeyAndAreSentOnce() {
        Future<Integer> a = client.submit(ClientTest::inc, 1);
        Future<Integer> b = client.submit(ClientTest::inc, 1);
        Future<Integer> c = client.submit(ClientTest::inc, 2);
        assertEquals(a.key(), b.key());
        assertNotEquals(a.key(), c.key());
        assertTrue(a.key().matches("inc-[0-9a-f]{32}"), a.key());
        assertEquals(2, tasks().size(), "the repeated pure call is not sent again");
        assertEquals(2, client.core().refCounts().get(a.key()));
        Message.UpdateGraph first = cluster.sentOf(Message.UpdateGraph.class).get(0);
        assertEquals(List.of(a.key()), first.wanted());
        assertEquals(client.id(), first.clientId());
    }

    @Test
    void impureAndExplicitKeys() {
        Submitter impure = client.with(Options.defaults().pure(false));
        Future<Integer> a = impure.submit(ClientTest::inc, 1);
        Future<Integer> b = impure.submit(ClientTest::inc, 1);
        assertNotEquals(a.key(), b.key());
        assertTrue(a.key().startsWith("inc-"), a.key());
        Future<Integer> named = client.with(Options.defaults().key("my-key")).submit(ClientTest::inc, 1);
        assertEquals("my-key", named.key());
        // for a map the key names the tasks' prefix, as dask's map(..., key="k")
        List<Future<Integer>> mapped = client.with(Options.defaults().key("k")).map(ClientTest::inc, List.of(1, 2));
        assertTrue(mapped.stream().allMatch(f -> f.key().startsWith("k-")), mapped.toString());
        assertNotEquals(mapped.get(0).key(), mapped.get(1).key());
    }

    @Test
    void lambdaPrefix() {
        Fn1<Integer, Integer> twice = x -> x * 2;
        assertTrue(client.submit(twice, 3).key().startsWith("lambda-"));
    }

    @Test
    void futuresInsideArgumentsBecomeRefsAndDependencies() {
        Future<Integer> x = client.submit(ClientTest::inc, 1);
        Future<Integer> y = client.submit(ClientTest::inc, 2);
        Future<Integer> z = client.submit(ClientTest::inc, 3);
        Fn3<Object, Object, Object, Integer> f = (p, q, r) -> 0;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("y", y);
        Future<Integer> t = client.submit(f, List.of(x), m, new Pair(z, 7));
        TaskSpec spec = task(t.key());
        assertEquals(List.of(x.key(), y.key(), z.key()), spec.dependencies());
        TaskCall call = (TaskCall) codec.decode(spec.run(), (ClassLoader) null);
        assertEquals(List.of(new Ref(x.key())), call.args().get(0));
        assertEquals(Map.of("y", new Ref(y.key())), call.args().get(1));
        assertEquals(new Pair(new Ref(z.key()), 7), call.args().get(2));
        // a future as an argument changes the key with the dependency's key
        Future<Integer> t2 = client.submit(ClientTest::inc, x);
        Future<Integer> t3 = client.submit(ClientTest::inc, y);
        assertNotEquals(t2.key(), t3.key());
    }

    @Test
    void futureCapturedByALambdaIsADependency() {
        Future<Integer> x = client.submit(ClientTest::inc, 1);
        Fn0<Integer> f = () -> x.result() + 1;
        Future<Integer> y = client.submit(f);
        assertEquals(List.of(x.key()), task(y.key()).dependencies());
    }

    @Test
    void foreignOrReleasedFuturesAreRejected() throws Exception {
        Future<Integer> x = client.submit(ClientTest::inc, 1);
        try (Client other = new Client(FakeCluster.SCHEDULER, new FakeCluster(), codec, null, Duration.ofSeconds(5))) {
            Future<Integer> foreign = other.submit(ClientTest::inc, 5);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> client.submit(ClientTest::inc, foreign));
            assertTrue(e.getMessage().contains("another client"), e.getMessage());
        }
        x.release();
        assertThrows(IllegalArgumentException.class, () -> client.submit(ClientTest::inc, x));
        assertThrows(IllegalStateException.class, x::result);
    }

    @Test
    void prioritiesOrderUserPriorityFirstThenSubmission() {
        Future<Integer> a = client.submit(ClientTest::inc, 1);
        Future<Integer> b = client.submit(ClientTest::inc, 2);
        Future<Integer> urgent = client.with(Options.defaults().priority(5)).submit(ClientTest::inc, 3);
        Future<Integer> late = client.with(Options.defaults().priority(-5)).submit(ClientTest::inc, 4);
        assertTrue(task(a.key()).priority() < task(b.key()).priority());
        assertTrue(task(urgent.key()).priority() < task(a.key()).priority());
        assertTrue(task(late.key()).priority() > task(b.key()).priority());
    }

    @Test
    void optionsReachTheTaskSpec() {
        Options o = Options.defaults().retries(2).workers("w:1").allowOtherWorkers(true).resource("GPU", 1);
        Future<Integer> f = client.with(o).submit(ClientTest::inc, 1);
        var opts = task(f.key()).options();
        assertEquals(2, opts.retries());
        assertEquals(List.of("w:1"), opts.workers());
        assertTrue(opts.allowOtherWorkers());
        assertEquals(Map.of("GPU", 1.0), opts.resources());
        assertThrows(IllegalArgumentException.class, () -> Options.defaults().priority(Integer.MAX_VALUE));
        assertThrows(IllegalArgumentException.class, () -> Options.defaults().retries(-1));
        assertThrows(IllegalArgumentException.class, () -> Options.defaults().resource("GPU", 0));
    }

    @Test
    void mapSendsOneGraphAndStopsAtTheShorterList() {
        List<Future<Integer>> fs = client.map(ClientTest::add, List.of(1, 2, 3), List.of(10, 20, 30));
        assertEquals(3, fs.size());
        assertEquals(1, cluster.sentOf(Message.UpdateGraph.class).size());
        assertEquals(3, tasks().size());
        // as dask's test_map_different_lengths: the lists are zipped
        assertEquals(1, client.map(ClientTest::add, List.of(1, 2), List.of(1)).size());
    }

    @Test
    void inlineResultDecodesLocally() throws Exception {
        Future<Integer> f = client.submit(ClientTest::inc, 1);
        assertEquals(Future.State.RUNNING, f.state());
        assertFalse(f.isDone());
        cluster.push(new Message.KeyInMemory(f.key(), List.of("w:1"), 4, codec.encode(2, null)));
        assertEquals(Future.State.SUCCESS, f.state());
        assertEquals(2, f.result());
        assertEquals(2, f.get(1, TimeUnit.SECONDS));
        assertNull(f.exception());
        assertNull(f.remoteStackTrace());
        assertEquals(java.util.concurrent.Future.State.SUCCESS, f.state());
        assertEquals(2, f.toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertTrue(cluster.workerRequests.isEmpty(), "an inline value needs no worker");
    }

    @Test
    void batchedSchedulerMessagesAreUnpacked() throws Exception {
        Future<Integer> a = client.submit(ClientTest::inc, 1);
        Future<Integer> b = client.submit(ClientTest::inc, 2);
        cluster.push(new Message.Batch(List.of(
                new Message.KeyInMemory(a.key(), List.of(), 4, codec.encode(2, null)),
                new Message.KeyInMemory(b.key(), List.of(), 4, codec.encode(3, null)))));
        assertEquals(List.of(2, 3), client.gather(List.of(a, b)));
    }

    @Test
    void resultFetchedFromAHolderFallsBackToTheNext() throws Exception {
        Future<Integer> f = client.submit(ClientTest::inc, 1);
        cluster.unreachable.add("w:dead");
        cluster.workerData.put("w:2", Map.of(f.key(), codec.encode(2, null)));
        cluster.push(new Message.KeyInMemory(f.key(), List.of("w:dead", "w:2"), 4, null));
        assertEquals(2, f.result(Duration.ofSeconds(10)));
        assertEquals(2, f.result(Duration.ofSeconds(10)));
        assertEquals(1, cluster.workerRequests.get("w:2").size(), "fetched once, then kept");
    }

    @Test
    void missingDataAsksTheSchedulerAgain() throws Exception {
        Future<Integer> f = client.submit(ClientTest::inc, 1);
        cluster.workerData.put("w:1", Map.of());
        cluster.workerData.put("w:3", Map.of(f.key(), codec.encode(2, null)));
        cluster.whoHas = keys -> Map.of(f.key(), List.of("w:3"));
        cluster.push(new Message.KeyInMemory(f.key(), List.of("w:1"), 4, null));
        assertEquals(2, f.result(Duration.ofSeconds(10)));
        assertFalse(cluster.sentOf(Message.WhoHasRequest.class).isEmpty());
    }

    @Test
    void dataNowhereGivesUpInsteadOfHanging() {
        Future<Integer> f = client.submit(ClientTest::inc, 1);
        cluster.push(new Message.KeyInMemory(f.key(), List.of("w:1"), 4, null));
        DistException e = assertThrows(DistException.class, () -> f.result(Duration.ofSeconds(30)));
        assertFalse(e instanceof TaskFailedException, "the task did not fail; its data is nowhere: " + e);
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains(f.key()), e.getCause().getMessage());
    }

    /** Follows dask's test_scheduler.py::test_gather_no_workers: once the scheduler says nobody holds it, stop asking. */
    @Test
    void dataTheSchedulerSaysNoWorkerHoldsFailsAfterOneRound() {
        Future<Integer> f = client.submit(ClientTest::inc, 1);
        cluster.unreachable.add("w:gone");
        cluster.schedulerAnswers = m -> m instanceof Message.TaskStatusRequest
                ? new Message.TaskStatusReply(Map.of(f.key(), "released"), Map.of())
                : new Message.ErrorReply("unexpected " + m);
        cluster.push(new Message.KeyInMemory(f.key(), List.of("w:gone"), 4, null));
        DistException e = assertThrows(DistException.class, () -> f.result(Duration.ofSeconds(30)));
        assertTrue(e.getCause().getMessage().contains(f.key()) && e.getCause().getMessage().contains("no worker holds"),
                e.getCause().getMessage());
        assertEquals(1, cluster.sentOf(Message.WhoHasRequest.class).size(), "one round, not five");
    }

    @Test
    void dataBeingComputedAgainIsWaitedFor() throws Exception {
        Future<Integer> f = client.submit(ClientTest::inc, 1);
        cluster.unreachable.add("w:gone");
        cluster.workerData.put("w:new", Map.of(f.key(), codec.encode(2, null)));
        java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
        cluster.whoHas = keys -> asked.incrementAndGet() < 2 ? Map.of() : Map.of(f.key(), List.of("w:new"));
        cluster.schedulerAnswers = m -> m instanceof Message.TaskStatusRequest
                ? new Message.TaskStatusReply(Map.of(f.key(), "processing"), Map.of())
                : new Message.ErrorReply("unexpected " + m);
        cluster.push(new Message.KeyInMemory(f.key(), List.of("w:gone"), 4, null));
        assertEquals(2, f.result(Duration.ofSeconds(30)));
    }

    @Test
    void gatherGroupsByWorkerAndKeepsShape() throws Exception {
        List<Future<Integer>> fs = client.map(ClientTest::inc, List.of(0, 1, 2, 3, 4));
        for (int i = 0; i < 5; i++) {
            String w = i < 3 ? "w:1" : "w:2";
            cluster.workerData.computeIfAbsent(w, x -> new java.util.concurrent.ConcurrentHashMap<>())
                    .put(fs.get(i).key(), codec.encode(i + 1, null));
            cluster.push(new Message.KeyInMemory(fs.get(i).key(), List.of(w), 4, null));
        }
        Map<String, Object> shape = new LinkedHashMap<>();
        shape.put("first", fs.get(0));
        shape.put("rest", List.of(fs.get(1), List.of(fs.get(2), fs.get(3)), Set.of(fs.get(4))));
        shape.put("plain", "text");
        Object out = client.gather(shape);
        assertEquals(Map.of("first", 1, "rest", List.of(2, List.of(3, 4), Set.of(5)), "plain", "text"), out);
        assertEquals(1, cluster.workerRequests.get("w:1").size());
        assertEquals(1, cluster.workerRequests.get("w:2").size());
        assertEquals(List.of(1, 2, 3, 4, 5), client.gather(fs));
        Map<String, Integer> byName = client.gather(Map.of("a", fs.get(0)));
        assertEquals(Map.of("a", 1), byName);
    }

    @Test
    void gatherRaisesTheFirstFailure() {
        Future<Integer> ok = client.submit(ClientTest::inc, 1);
        Future<Integer> bad = client.submit(ClientTest::inc, 2);
        cluster.push(new Message.KeyInMemory(ok.key(), List.of(), 4, codec.encode(2, null)));
        cluster.push(new Message.KeyErred(bad.key(), codec.encode(new ArithmeticException("boom"), null), "boom", bad.key()));
        TaskFailedException e = assertThrows(TaskFailedException.class, () -> client.gather(List.of(ok, bad)));
        assertInstanceOf(ArithmeticException.class, e.getCause());
    }

    @Test
    void gatherFailsFastWithoutWaitingForThePending() {
        Future<Integer> pending = client.submit(ClientTest::inc, 1);
        Future<Integer> bad = client.submit(ClientTest::inc, 2);
        cluster.push(new Message.KeyErred(bad.key(), null, "no worker can run it", bad.key()));
        TaskFailedException e = assertThrows(TaskFailedException.class,
                () -> client.gather(List.of(pending, bad), Duration.ofSeconds(30)));
        assertTrue(e.getCause().getMessage().contains("no worker"), e.getCause().getMessage());
        assertEquals(Future.State.RUNNING, pending.state());
    }

    @Test
    void userExceptionComesBackWithItsStack() throws Exception {
        Future<Integer> f = client.submit(ClientTest::inc, 1);
        ArithmeticException thrown = new ArithmeticException("/ by zero");
        cluster.push(new Message.KeyErred(f.key(), codec.encode(thrown, null), "ArithmeticException: / by zero", f.key()));
        assertEquals(Future.State.FAILED, f.state());
        TaskFailedException e = assertThrows(TaskFailedException.class, f::result);
        assertInstanceOf(ArithmeticException.class, e.getCause());
        assertEquals("/ by zero", e.getCause().getMessage());
        assertSame(e.getCause(), f.exception());
        assertTrue(f.remoteStackTrace().contains("userExceptionComesBackWithItsStack"), f.remoteStackTrace());
        assertEquals(java.util.concurrent.Future.State.FAILED, f.state());
        ExecutionException viaCf = assertThrows(ExecutionException.class,
                () -> f.toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertInstanceOf(ArithmeticException.class, viaCf.getCause());
    }

    @Test
    void schedulerSideFailures() throws Exception {
        Future<Integer> killed = client.submit(ClientTest::inc, 1);
        Future<Integer> other = client.submit(ClientTest::inc, 2);
        Future<Integer> garbled = client.submit(ClientTest::inc, 3);
        cluster.push(new Message.KeyErred(killed.key(), null, "KilledWorker: inc-1 killed w:1, w:2", killed.key()));
        cluster.push(new Message.KeyErred(other.key(), null, "no worker has resource GPU", other.key()));
        cluster.push(new Message.KeyErred(garbled.key(), new byte[]{1, 2, 3}, "ValueError: x", garbled.key()));
        KilledWorkerException k = assertInstanceOf(KilledWorkerException.class, killed.exception());
        assertTrue(k.getMessage().startsWith("KilledWorker"));
        assertInstanceOf(IllegalStateException.class, other.exception());
        assertTrue(other.exception().getMessage().contains("GPU"));
        assertTrue(garbled.exception().getMessage().contains("ValueError: x"), garbled.exception().getMessage());
    }

    @Test
    void cancellation() throws Exception {
        Future<Integer> f = client.submit(ClientTest::inc, 1);
        assertTrue(f.cancel(true));
        assertTrue(f.isCancelled());
        assertTrue(f.isDone());
        assertFalse(f.cancel(true), "already done");
        assertEquals(List.of(f.key()), cluster.sentOf(Message.CancelKeys.class).get(0).keys());
        assertThrows(TaskCancelledException.class, f::result);
        assertThrows(TaskCancelledException.class, f::exception);

        Future<Integer> g = client.submit(ClientTest::inc, 2);
        cluster.push(new Message.KeyCancelled(g.key(), "restart"));
        assertEquals(Future.State.CANCELLED, g.state());
        TaskCancelledException e = assertThrows(TaskCancelledException.class, g::result);
        assertTrue(e.getMessage().contains("restart"));

        // the same pure call after cancellation is a new task
        Future<Integer> again = client.submit(ClientTest::inc, 1);
        assertEquals(Future.State.RUNNING, again.state());
        assertEquals(2, tasks().stream().filter(t -> t.key().equals(f.key())).count());
    }

    @Test
    void clientCancelSendsOneMessage() {
        List<Future<Integer>> fs = client.map(ClientTest::inc, List.of(1, 2, 3));
        assertEquals(3, client.cancel(fs));
        assertEquals(1, cluster.sentOf(Message.CancelKeys.class).size());
        assertEquals(3, cluster.sentOf(Message.CancelKeys.class).get(0).keys().size());
    }

    @Test
    void resultTimesOut() {
        Future<Integer> f = client.submit(ClientTest::inc, 1);
        assertThrows(DistTimeoutException.class, () -> f.result(Duration.ofMillis(20)));
        assertThrows(TimeoutException.class, () -> f.get(20, TimeUnit.MILLISECONDS));
        assertThrows(DistTimeoutException.class, () -> client.gather(List.of(f), Duration.ofMillis(20)));
    }

    @Test
    void lostSchedulerFailsPendingFutures() {
        Future<Integer> f = client.submit(ClientTest::inc, 1);
        cluster.clientInbox.onClose(new java.io.IOException("reset"));
        assertEquals(Future.State.FAILED, f.state());
        SchedulerUnavailableException e = assertThrows(SchedulerUnavailableException.class, f::result);
        assertTrue(e.getCause().getMessage().contains("connection to the scheduler"), e.getCause().getMessage());
        assertEquals(client.address(), e.address());
        assertThrows(SchedulerUnavailableException.class, () -> client.submit(ClientTest::inc, 2));
    }

    @Test
    void releaseOfTheLastFutureSendsReleaseKeys() throws Exception {
        Future<Integer> a = client.submit(ClientTest::inc, 1);
        Future<Integer> b = client.submit(ClientTest::inc, 1);
        a.release();
        a.release();
        client.core().flushReleases();
        assertTrue(cluster.sentOf(Message.ReleaseKeys.class).isEmpty(), "b still holds the key");
        b.release();
        List<Message.ReleaseKeys> rel = cluster.awaitSent(Message.ReleaseKeys.class, 1);
        assertEquals(List.of(b.key()), rel.get(0).keys());
        assertTrue(client.core().refCounts().isEmpty());
    }

    @Test
    void garbageCollectedFuturesAreReleased() throws Exception {
        String key = client.submit(ClientTest::inc, 41).key();
        Wait.until(Duration.ofSeconds(20), () -> {
            System.gc();
            return !cluster.sentOf(Message.ReleaseKeys.class).isEmpty();
        });
        List<Message.ReleaseKeys> rel = cluster.sentOf(Message.ReleaseKeys.class);
        assertFalse(rel.isEmpty(), "no ReleaseKeys after the future became unreachable");
        assertEquals(List.of(key), rel.get(0).keys());
    }

    @Test
    void releaseThenResubmitKeepsOrder() throws Exception {
        Future<Integer> a = client.submit(ClientTest::inc, 1);
        String key = a.key();
        a.release();
        Future<Integer> again = client.submit(ClientTest::inc, 1);
        assertEquals(key, again.key());
        int releaseAt = -1;
        int resubmitAt = -1;
        for (int i = 0; i < cluster.sent.size(); i++) {
            Message m = cluster.sent.get(i);
            if (m instanceof Message.ReleaseKeys r && r.keys().contains(key)) {
                releaseAt = i;
            }
            if (m instanceof Message.UpdateGraph u && u.wanted().contains(key)) {
                resubmitAt = i;
            }
        }
        assertTrue(releaseAt >= 0 && releaseAt < resubmitAt, "release " + releaseAt + " before resubmit " + resubmitAt);
        assertEquals(1, client.core().refCounts().get(key));
    }

    @Test
    void closeReleasesEverythingAndRefusesMore() {
        Future<Integer> a = client.submit(ClientTest::inc, 1);
        Future<Integer> b = client.submit(ClientTest::inc, 2);
        client.close();
        Message.ReleaseKeys rel = cluster.sentOf(Message.ReleaseKeys.class).get(0);
        assertEquals(Set.of(a.key(), b.key()), Set.copyOf(rel.keys()));
        assertEquals(Future.State.CANCELLED, a.state());
        SchedulerUnavailableException closed = assertThrows(SchedulerUnavailableException.class,
                () -> client.submit(ClientTest::inc, 3));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
        client.close();
        assertEquals(1, cluster.sentOf(Message.ReleaseKeys.class).size());
    }

    @Test
    void workersInfo() throws Exception {
        assertEquals(Map.of("w:1", 4), client.ncores());
    }

    @Test
    void badAddressIsExplained() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Client.connect("localhost"));
        assertTrue(e.getMessage().contains("host:port"));
        assertThrows(IllegalArgumentException.class, () -> Client.connect("h:99999"));
    }
}
