package dist.protocol;

import dist.serial.Encoded;

import org.junit.jupiter.api.Test;

import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class MessageCodecTest {

    private final MessageCodec codec = MessageCodec.get();

    static List<Message> samples() {
        byte[] small = {1, 2, 3};
        byte[] big = new byte[100_000];
        Arrays.fill(big, (byte) 7);
        TaskSpec t = new TaskSpec("k", small, List.of("a", "b"), 3,
                new TaskOptions(List.of("w1"), true, Map.of("GPU", 1.0), 2));
        Message.WorkerInfo wi = new Message.WorkerInfo("h:1", "w", 4, 1L << 30, 99, 5, 1, 2);
        Map<String, Encoded> data = new LinkedHashMap<>();
        data.put("x", new Encoded(small, List.of(big, big)));
        data.put("y", Encoded.of(small));
        return List.of(
                new Message.RegisterClient("c1"),
                new Message.UpdateGraph("c1", List.of(t, new TaskSpec("j", big, List.of(), 1, null)), List.of("k")),
                new Message.ReleaseKeys("c1", List.of("k")),
                new Message.CancelKeys("c1", List.of("k"), true),
                new Message.RetryKeys("c1", List.of("k")),
                new Message.WhoHasRequest(List.of("k")),
                new Message.WhoHasReply(Map.of("k", List.of("h:1", "h:2"))),
                new Message.WorkersRequest(),
                new Message.WorkersReply(List.of(wi)),
                new Message.VersionsRequest(),
                new Message.TaskRunRequest("k"),
                new Message.TaskRunReply("k", new byte[]{1, 2}, List.of("a")),
                new Message.VersionsReply(Map.of("java", "21", "dist", "dev")),
                new Message.KeyInMemory("k", List.of("h:1"), 3, small),
                new Message.KeyInMemory("k", List.of("h:1"), 3, null),
                new Message.KeyErred("k", big, "ValueError: x", "k0"),
                new Message.KeyCancelled("k", "cancelled"),
                new Message.RegisterWorker("h:1", "w", 2, 100, 7, Map.of("k", 3L)),
                new Message.WorkerAccepted("s", 500),
                new Message.Heartbeat(1, 2, 3, 4),
                new Message.TaskFinished("k", 3, "java.lang.Integer", 1, 2, small),
                new Message.TaskErred("k", small, "boom", 1, 2),
                new Message.MissingData("k", "h:1"),
                new Message.AddKeys(Map.of("k", 1L)),
                new Message.KeysReleased(List.of("k")),
                new Message.ComputeTask("k", big, Map.of("a", List.of("h:1")), Map.of("a", 5L), -3),
                new Message.ComputeTask("k", small, Map.of(), Map.of(), 0, "client-1"),
                new Message.ClassRequest("client-1", "com.acme.Fn$1"),
                new Message.ClassBytes("client-1", "com.acme.Fn$1", big),
                new Message.ClassBytes("client-1", "com.acme.Missing", null),
                new Message.UploadJar("fns.jar", big),
                new Message.UploadJar("fns.jar", big, "client-1"),
                new Message.ForgetClient("client-1"),
                new Message.TaskSeceded("k"),
                new Message.FreeKeys(List.of("k")),
                new Message.CloseWorker("bye"),
                new Message.GetData(List.of("x", "y")),
                new Message.DataReply(data),
                new Message.Batch(List.of(new Message.Ping(1), new Message.DataReply(Map.of("z", Encoded.of(big))))),
                new Message.Ack(),
                new Message.ErrorReply("no"),
                new Message.Ping(Long.MIN_VALUE),
                new Message.ShutdownCluster(),
                new Message.WorkerDied("127.0.0.1:4000", "exit code 137 (SIGKILL)"),
                new Message.RegisterNanny("nanny-1", "127.0.0.1:4000"),
                new Message.RestartWorker("restart"),
                new Message.RestartCluster("c1"),
                new Message.RestartWorkers(List.of("127.0.0.1:1", "alice")),
                new Message.TasksStarted(List.of("k", "j")),
                new Message.TasksQueued(List.of("q")),
                new Message.PutData(Map.of("x", Encoded.of(new byte[]{1, 2}), "big", new Encoded(new byte[]{3}, List.of(big)))),
                // data placement
                new Message.AcquireData(Map.of("k", List.of("h:1", "h:2"))),
                new Message.AcquireReply(Map.of("k", 3L), List.of("m")),
                new Message.DropReplicas(Map.of("k", List.of("h:1"))),
                new Message.ScatterRequest(List.of("k", "j"), List.of("alice"), List.of("h:2"), 5000),
                new Message.ScatterPlan(Map.of("h:1", List.of("k", "j"))),
                new Message.ReplicateRequest(List.of("k"), 3, List.of(), 2, 5000),
                new Message.RebalanceRequest(List.of(), List.of("h:1", "h:2"), 5000),
                new Message.RetireRequest(List.of("h:1", "alice"), 0, 5000),
                new Message.RetireReply(List.of(new Message.WorkerInfo("h:1", "alice", 2, 100, 7, 50, 1, 3)),
                        Map.of("h:2", "no other worker has room")),
                new Message.WorkerStatusChange("paused"),
                new Message.HasWhatRequest(List.of("w")),
                new Message.HasWhatReply(Map.of("h:1", List.of("k"))),
                new Message.NbytesRequest(List.of()),
                new Message.NbytesReply(Map.of("k", 3L)),
                new Message.RunFunction(small),
                new Message.RunReply(small, null, null),
                new Message.CallStackRequest(List.of("k"), false),
                new Message.CallStackReply(Map.of("k", List.of("dist.Demo.slow(Demo.java:12)"))),
                new Message.LogsRequest(5),
                new Message.NannyLogsRequest(List.of("127.0.0.1:4000"), 5),
                new Message.NannyLogsReply(List.of("127.0.0.1:4000"), List.of(new Message.LogsReply(List.of(1L),
                        List.of("INFO"), List.of("dist.nanny"), List.of("DDD")))),
                new Message.LogsReply(List.of(1L), List.of("INFO"), List.of("dist.worker"), List.of("AAA")),
                new Message.TaskPrint("k", "Hello! 123\n", false),
                new Message.Printed("Hello! 123\n", true),
                new Message.ForwardLogging("c1", "test.logger", 900, true),
                new Message.TaskLog("c1", "test.logger", 1000, "Hello error"),
                new Message.Logged("test.logger", 1000, "Hello error"),
                new Message.SetMetadata(List.of("x", "a"), small),
                new Message.GetMetadata(List.of("x")),
                new Message.MetadataReply("found", 1, List.of(List.of("a")), List.of(small)),
                new Message.WorkerResources(Map.of("GPU", 2.0)),
                new Message.WorkerCustomMetrics(Map.of("my_port", 8788.0), Map.of("gpu", "none")),
                new Message.ClusterStateRequest(List.of("state")),
                new Message.TaskMetadataUpdate("x", Map.of("start_time", "12")),
                new Message.TaskMetadataRequest(List.of("x"), null, false),
                new Message.TaskMetadataRequest(List.of(), "c-1", true),
                new Message.TaskMetadataReply(Map.of("x", Map.of("start_time", "12")), Map.of("x", "memory")),
                new Message.ClusterStateDump(Map.of("tasks", Map.of("x", Map.of("state", "memory", "nbytes", 8L))),
                        Map.of("h:1", Map.of("address", "h:1", "tasks", Map.of()))),
                new Message.WorkerStateDump(Map.of("address", "h:1", "executing", List.of("x"))),
                new Message.RetireReply(List.of(new Message.WorkerInfo("h:1", "bob", 2, 100, 7, 50, 1, 3,
                        Map.of("open_files", 12.0), Map.of("gpu", "none"))), Map.of()),
                new Message.StealRequest("k"),
                new Message.StealResponse("k", true),
                new Message.TaskStatusRequest(List.of("k")),
                new Message.TaskStatusReply(Map.of("k", "no-worker"), Map.of("k", "why")),
                new Message.PublishDataset("d", List.of("k"), small, false),
                new Message.GetDataset("d"),
                new Message.DatasetReply("d", List.of("k"), small),
                new Message.ListDatasets(),
                new Message.DatasetNames(List.of("d")),
                new Message.UnpublishDataset("d"),
                new Message.PublishDatasets(List.of(new Message.PublishDataset("d", List.of("k"), new byte[]{1}, false)), true),
                new Message.FireAndForget(List.of("x")),
                new Message.WorkerClosing("closed by its owner"),
                // dashboard and operability
                new Message.WorkerStats(12.5, 1 << 20, List.of(1L, 2L, 0L), 3, 0.25, 4096, List.of("h:2"),
                        List.of(1_700_000_000_000_000L), List.of(1_700_000_000_000_100L), List.of(4096L)),
                new Message.StoryRequest("k"),
                new Message.StoryReply(List.of("scheduler"), List.of("waiting -> processing"),
                        List.of(1_700_000_000_000_000L), List.of("h:1")),
                new Message.DashboardLinkRequest(),
                new Message.DashboardLink("http://127.0.0.1:8787/status"),
                new Message.DashboardLink(null),
                // locks, multi-locks, semaphores
                new Message.LockAcquire("lock", List.of("a", "b"), "lease-1", 5_000_000_000L),
                new Message.LockGranted("lease-1", true),
                new Message.LockRelease("lease-1"),
                new Message.LockReleased("lease-1", false),
                new Message.LockRenew(List.of("lease-1", "lease-2")),
                new Message.LockReleaseAll(),
                new Message.SemaphoreCreate("s", 2),
                new Message.SemaphoreValue("s"),
                new Message.SemaphoreClose("s"),
                // actors
                new Message.CreateActor("actor-1", "Counter", new byte[] {1, 2}, List.of("alice"), true,
                        Map.of("GPU", 1.0), 3, false, null),
                new Message.CreateActor("actor-1", "Counter", new byte[] {1}, List.of(), false, Map.of(), 0, true,
                        "127.0.0.1:9000"),
                new Message.ActorPlaced("actor-1", "127.0.0.1:9000", 2),
                new Message.WhereActor("actor-1"),
                new Message.ReleaseActor("actor-1"),
                new Message.StartActor("actor-1", "Counter", new byte[] {3}, true, 1),
                new Message.StopActor("actor-1"),
                new Message.ActorCall("actor-1", new byte[] {4, 5}),
                // events, variables, queues, topics
                new Message.QueuePut("q", 10, new byte[]{1}, List.of("k"), 500, 7),
                new Message.QueueTake("q", 0, 500, 8),
                new Message.QueueDrain("q", 3),
                new Message.QueueSizeRequest("q"),
                new Message.SharedCancelWait("q", 8),
                new Message.SharedValue(new byte[]{2}, List.of("k")),
                new Message.SharedValue(new byte[]{2}, List.of("k", "e"), List.of(
                        new Message.KeyInMemory("k", List.of("127.0.0.1:1"), 8, null),
                        new Message.KeyErred("e", new byte[]{1}, "boom", "e"))),
                new Message.SharedValues(List.of(new Message.SharedValue(new byte[]{3}, List.of()))),
                new Message.SharedTimedOut("queue 'q' stayed empty"),
                new Message.SharedCount(4),
                new Message.SharedFlag(true),
                new Message.EventSet("e"),
                new Message.EventClear("e"),
                new Message.EventWait("e", 100),
                new Message.EventIsSet("e"),
                new Message.VariableSet("v", new byte[]{4}, List.of("k")),
                new Message.VariableGet("v", 100),
                new Message.VariableIsSet("v"),
                new Message.VariableDelete("v"),
                new Message.LogEvent("t", 1_700_000_000_000L, new byte[]{5}),
                new Message.SubscribeTopic("t", true),
                new Message.TopicEvent("t", 1_700_000_000_000L, new byte[]{6}),
                new Message.GetTopicEvents("t"),
                new Message.TopicEvents(List.of(new Message.TopicEvent("t", 1L, new byte[]{7}))),
                new Message.AdaptiveTargetRequest(5000, 1, 4),
                new Message.AdaptiveTarget(3, List.of("worker-2"), List.of("worker-0", "worker-2")),
                new Message.RegisterPlugin("p", new byte[]{1, 2}, true),
                new Message.UnregisterPlugin("p"),
                new Message.SetupPlugin("p", new byte[]{3}, "client-1", 7L),
                new Message.TeardownPlugin("p", 8L),
                new Message.PluginDone("p", 7L, new byte[]{4}, "IllegalStateException: no"),
                new Message.PluginDone("p", 8L, null, null),
                new Message.PluginFailed("p", "127.0.0.1:1", new byte[]{5}, "boom", 2),
                new Message.WatchNannyPlugins(),
                new Message.NannyPlugins(List.of(new Message.SetupPlugin("p", new byte[]{6}, "client-1", 0L))),
                // p2p shuffle
                new Message.ShufflePeerLost("p2pShuffleUnpack-abc", "127.0.0.1:9001"),
                // p2p shuffle, push
                new Message.ShuffleGetOwners("p2pShuffleTransfer-abc", 2, "127.0.0.1:9001", 4),
                new Message.ShuffleGetOwners("p2pShuffleTransfer-abc", 0, null, 0),
                new Message.ShuffleOwners("p2pShuffleBarrier-abc", 3, List.of("127.0.0.1:9001", "127.0.0.1:9002")),
                new Message.ShufflePush("p2pShuffleBarrier-abc", 3, 7, List.of(0, 2), List.of(new byte[]{8}, new byte[0])),
                new Message.ShufflePushed(4),
                new Message.ShuffleRestart("p2pShuffleBarrier-abc", 4),
                // task streams and spans
                new Message.TaskStreamRequest(5, 2, 1000),
                new Message.TaskStreamReply(6, List.of("inc-1"), List.of("127.0.0.1:1"), List.of(10L), List.of(20L),
                        List.of(8L), List.of(false), 3, List.of("127.0.0.1:1"), List.of("127.0.0.1:2"), List.of(11L),
                        List.of(12L), List.of(800L), List.of(1), List.of("inc"), List.of(1L, 2L, 3L, 4L, 5L),
                        List.of(0L, 6L, 0L, 7L, 0L)),
                new Message.FineMetrics(java.util.Arrays.asList(null, "etl#1"), List.of("inc", "inc"), List.of(0, 1),
                        List.of(1_000L, 2_000L), List.of(0L, 800L)),
                new Message.SpansRequest(),
                new Message.SpansReply(List.of("etl#1", "load#2"), List.of("", "etl#1"), List.of(3L, 1L), List.of(0L, 0L),
                        List.of(0.5, 0.1), List.of(1L, 0L), List.of(64L, 0L), List.of(true, true),
                        List.of(0.25, 0.0), List.of(800L, 0L)),
                new Message.UpdateGraph("c1", List.of(new TaskSpec("inc-2", new byte[]{1}, List.of(), 0,
                        new TaskOptions(List.of(), false, java.util.Map.of(), 0, List.of("etl#1", "load#2")))), List.of("inc-2")),
                // the sampling profiler
                new Message.ProfileFrame(-1, "app.Main.run(Main.java)", 3),
                new Message.ProfileKey("inc-1", List.of(new Message.ProfileFrame(-1, "a.B.c(B.java)", 2),
                        new Message.ProfileFrame(0, "a.B.d(B.java)", 1))),
                new Message.ProfileReport(1_700_000_000_000L, 1_700_000_001_000L,
                        List.of(new Message.ProfileKey("inc-1", List.of(new Message.ProfileFrame(-1, "a.B.c(B.java)", 1))))),
                new Message.ProfileRequest(0, Long.MAX_VALUE, null),
                new Message.ProfileRequest(1L, 2L, "inc"),
                new Message.ProfileTree(List.of(new Message.ProfileFrame(-1, "all", 1)), List.of("inc")),
                new Message.ProfileCountsRequest(0, 2L, 100),
                new Message.ProfileCounts(List.of(0L, 100L), List.of(3L, 0L), Map.of("inc", List.of(3L, 0L))));
    }

    @Test
    void everyMessageRoundTrips() {
        Set<Class<?>> seen = new HashSet<>();
        for (Message m : samples()) {
            seen.add(m.getClass());
            Message back = codec.decode(codec.encode(m));
            assertTrue(deepEquals(m, back), m + " came back as " + back);
        }
        for (Class<?> c : Message.class.getPermittedSubclasses()) {
            assertTrue(seen.contains(c), "no sample for " + c.getSimpleName());
        }
    }

    @Test
    void everyMessageTypeHasAnAlias() {
        Set<Class<?>> aliased = new HashSet<>(MessageCodec.ALIASED);
        for (Class<?> c : Message.class.getPermittedSubclasses()) {
            assertTrue(aliased.contains(c), c.getSimpleName() + " has no alias in MessageCodec.ALIASED");
        }
        assertTrue(aliased.containsAll(List.of(TaskSpec.class, TaskOptions.class, Message.WorkerInfo.class)));
        assertEquals(MessageCodec.ALIASED.size(), aliased.size(), "an alias listed twice");
    }

    @Test
    void smallMessagesAreCompact() {
        List<byte[]> frames = codec.encode(new Message.Ping(5));
        assertEquals(1, frames.size());
        assertTrue(frames.get(0).length <= 4, "Ping header is " + frames.get(0).length + " bytes");
    }

    @Test
    void largeByteArraysTravelAsTheirOwnFramesWithoutCopies() {
        byte[] big = new byte[1 << 20];
        big[12345] = 42;
        List<byte[]> frames = codec.encode(new Message.DataReply(Map.of("x", Encoded.of(big))));
        assertEquals(2, frames.size());
        assertSame(big, frames.get(1), "encoding keeps the array, it does not copy it");
        assertTrue(frames.get(0).length < 64, "header holds no payload: " + frames.get(0).length + " bytes");
        byte[] arrived = frames.get(1).clone(); // what a reader would have allocated
        Message back = codec.decode(List.of(frames.get(0), arrived));
        assertSame(arrived, ((Message.DataReply) back).data().get("x").head(), "decoding hands out the frame itself");
    }

    @Test
    void aValuesLargeArrayIsTheFrameThatArrivesAndTheArrayTheReceiverDecodes() {
        dist.serial.Serializer user = dist.serial.Serializer.defaults();
        byte[] big = new byte[Encoded.MIN_BUFFER_BYTES];
        big[7] = 7;
        Encoded value = user.encodeParts(List.of("label", big), null);
        assertSame(big, value.buffers().get(0), "the result's array is kept, not copied into the head");
        List<byte[]> frames = codec.encode(new Message.DataReply(Map.of("x", value)));
        assertSame(big, frames.get(frames.size() - 1), "and is sent as a frame of its own");
        List<byte[]> arrived = new java.util.ArrayList<>();
        for (byte[] f : frames) {
            arrived.add(f.clone()); // what a reader would have allocated
        }
        Encoded got = ((Message.DataReply) codec.decode(arrived)).data().get("x");
        List<?> decoded = (List<?>) user.decode(got, null, null);
        assertEquals("label", decoded.get(0));
        assertSame(arrived.get(arrived.size() - 1), decoded.get(1), "the task receives the frame itself");
    }

    @Test
    void anEncodedValueNeedsItsParts() {
        var e = assertThrows(dist.serial.DecodeException.class,
                () -> dist.serial.Serializer.defaults().decode((Encoded) null, null, null));
        assertTrue(e.getMessage().contains("null"), e.getMessage());
        assertThrows(NullPointerException.class, () -> new Encoded(null, List.of()));
        List<byte[]> withNull = new java.util.ArrayList<>();
        withNull.add(null);
        assertThrows(NullPointerException.class, () -> new Encoded(new byte[0], withNull));
    }

    @Test
    void aHeaderThatIsNoMessageIsAClearError() {
        var notAMessage = new dist.serial.Serializer(dist.serial.Registry.defaults()).encode(List.of(1, 2));
        var e = assertThrows(dist.serial.DecodeException.class, () -> codec.decode(List.of(notAMessage)));
        assertTrue(e.getMessage().contains("not a dist.protocol.Message"), e.getMessage());
        assertThrows(dist.serial.DecodeException.class, () -> codec.decode(List.of(new byte[] {(byte) 0xff, 3})));
    }

    /** Record equality that compares byte[] by content. */
    static boolean deepEquals(Object a, Object b) {
        if (a == b) {
            return true;
        }
        if (a == null || b == null) {
            return false;
        }
        if (a instanceof byte[] x && b instanceof byte[] y) {
            return Arrays.equals(x, y);
        }
        if (a instanceof Record && a.getClass() == b.getClass()) {
            try {
                for (RecordComponent rc : a.getClass().getRecordComponents()) {
                    if (!deepEquals(rc.getAccessor().invoke(a), rc.getAccessor().invoke(b))) {
                        return false;
                    }
                }
                return true;
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (int i = 0; i < x.size(); i++) {
                if (!deepEquals(x.get(i), y.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : x.entrySet()) {
                if (!y.containsKey(e.getKey()) || !deepEquals(e.getValue(), y.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        return a.equals(b);
    }
}
