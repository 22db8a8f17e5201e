package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.Ack;
import dist.protocol.Message.ErrorReply;
import dist.protocol.Message.NannyPlugins;
import dist.protocol.Message.PluginDone;
import dist.protocol.Message.PluginFailed;
import dist.protocol.Message.RegisterPlugin;
import dist.protocol.Message.SetupPlugin;
import dist.protocol.Message.TeardownPlugin;
import dist.protocol.Message.UnregisterPlugin;
import dist.protocol.Message.WatchNannyPlugins;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The scheduler's side of worker and nanny plugins as a state machine: bytes stored as sent, set up
 * on each worker (nanny) now and as it joins, the registration answered once every current one said
 * its setup ended, a leaving one not waited for, a silent one failing it on a tick past the deadline,
 * and the bounds.
 */
class WorkerPluginExtensionTest {
    static final String A = "10.0.0.1:9000", B = "10.0.0.2:9000";
    static final byte[] BYTES = {1, 2, 3};

    private static List<Outgoing> request(Harness h, String client, Message m, long id) {
        return h.event(new SchedulerEvent.FromClient(client, m, id));
    }

    private static List<Outgoing> replies(List<Outgoing> out, long id) {
        return out.stream().filter(o -> o.replyTo() == id).toList();
    }

    private static long seqSentTo(List<Outgoing> out, String to) {
        return out.stream().filter(o -> o.to().equals(to) && o.message() instanceof SetupPlugin).map(o -> ((SetupPlugin) o.message()).seq())
                .findFirst().orElseThrow(() -> new AssertionError("no SetupPlugin to " + to + " in " + out));
    }

    @Test
    void aRegistrationIsAnsweredOnceEveryWorkerSetItUpAndLaterWorkersGetIt() {
        Harness h = new Harness(0);
        h.register(A, "a", 1);
        h.register(B, "b", 1);
        List<Outgoing> out = request(h, "c1", new RegisterPlugin("p", BYTES, false), 7);
        long seq = seqSentTo(out, A);
        assertEquals(seq, seqSentTo(out, B));
        SetupPlugin sent = (SetupPlugin) out.stream().filter(o -> o.to().equals(A)).findFirst().orElseThrow().message();
        assertArrayEquals(BYTES, sent.plugin(), "the bytes go out as the client sent them");
        assertEquals("c1", sent.clientId());
        assertEquals(List.of(), replies(out, 7), "no answer before the setups");
        assertEquals(List.of(), replies(h.worker(A, new PluginDone("p", seq, null, null)), 7));
        List<Outgoing> last = h.worker(B, new PluginDone("p", seq, null, null));
        assertInstanceOf(Ack.class, replies(last, 7).get(0).message());

        String c = "10.0.0.3:9000";
        List<Outgoing> joined = h.register(c, "c", 1);
        assertTrue(joined.stream().anyMatch(o -> o.to().equals(c) && o.message() instanceof SetupPlugin s
                && s.name().equals("p") && s.seq() == 0), joined.toString());
    }

    @Test
    void aSetupThatThrewFailsTheRegistrationWithItsErrorAndALeavingWorkerIsNotWaitedFor() {
        Harness h = new Harness(0);
        h.register(A, "a", 1);
        h.register(B, "b", 1);
        long seq = seqSentTo(request(h, "c1", new RegisterPlugin("p", BYTES, false), 7), A);
        h.worker(A, new PluginDone("p", seq, new byte[]{9}, "IllegalStateException: no"));
        List<Outgoing> out = h.gone(B);
        PluginFailed f = (PluginFailed) replies(out, 7).get(0).message();
        assertEquals(A, f.where());
        assertArrayEquals(new byte[]{9}, f.error());
        assertEquals(1, f.failures());
    }

    @Test
    void aSilentWorkerFailsTheRegistrationOnATickPastTheDeadline() {
        Harness h = new Harness(0);
        h.register(A, "a", 1);
        request(h, "c1", new RegisterPlugin("p", BYTES, false), 7);
        long end = h.now + WorkerPluginExtension.SETUP_NANOS;
        while (h.now < end - 1) {
            h.now = Math.min(end - 1, h.now + 1_000_000_000L);
            h.worker(A, new Message.Heartbeat(0, 0, 0, 0)); // alive, but silent about the plugin
            assertEquals(List.of(), replies(h.event(new SchedulerEvent.Tick()), 7));
        }
        h.now = end;
        Message m = replies(h.event(new SchedulerEvent.Tick()), 7).get(0).message();
        assertInstanceOf(ErrorReply.class, m);
        assertTrue(((ErrorReply) m).message().contains(A), m.toString());
    }

    @Test
    void nanniesGetTheNannyPluginsWhenTheyAskAndAsTheyAreRegistered() {
        Harness h = new Harness(0);
        h.register(A, "a", 1);
        assertInstanceOf(Ack.class, replies(request(h, "c1", new RegisterPlugin("env", BYTES, true), 7), 7).get(0).message(),
                "no nanny: answered at once, and no worker gets a nanny plugin");
        NannyPlugins list = (NannyPlugins) replies(request(h, "nanny-1", new WatchNannyPlugins(), 3), 3).get(0).message();
        assertEquals(List.of("env"), list.plugins().stream().map(SetupPlugin::name).toList());
        List<Outgoing> out = request(h, "c1", new RegisterPlugin("env", new byte[]{4}, true), 8);
        long seq = seqSentTo(out, "nanny-1");
        assertTrue(out.stream().noneMatch(o -> o.to().equals(A)), out.toString());
        assertEquals(List.of(), replies(out, 8));
        // the nanny's link ends: it is not waited for
        List<Outgoing> gone = h.event(new SchedulerEvent.ClientGone("nanny-1"));
        assertInstanceOf(Ack.class, replies(gone, 8).get(0).message(), gone.toString() + " seq " + seq);
    }

    @Test
    void unregisteringTearsDownEverywhereAndAnUnknownNameIsRefused() {
        Harness h = new Harness(0);
        h.register(A, "a", 1);
        long seq = seqSentTo(request(h, "c1", new RegisterPlugin("p", BYTES, false), 7), A);
        h.worker(A, new PluginDone("p", seq, null, null));
        List<Outgoing> out = request(h, "c1", new UnregisterPlugin("p"), 8);
        TeardownPlugin t = (TeardownPlugin) out.stream().filter(o -> o.to().equals(A)).findFirst().orElseThrow().message();
        assertInstanceOf(Ack.class, replies(h.worker(A, new PluginDone("p", t.seq(), null, null)), 8).get(0).message());
        assertEquals(List.of(), h.s.extension(WorkerPluginExtension.class).names());
        Message refused = replies(request(h, "c1", new UnregisterPlugin("p"), 9), 9).get(0).message();
        assertTrue(refused instanceof ErrorReply e && e.message().contains("p"), refused.toString());
    }

    @Test
    void theNumberAndSizeOfPluginsAreBounded() {
        Harness h = new Harness(0);
        for (int i = 0; i < WorkerPluginExtension.MAX_PLUGINS; i++) {
            assertInstanceOf(Ack.class, replies(request(h, "c1", new RegisterPlugin("p" + i, BYTES, false), 1), 1).get(0).message());
        }
        Message refused = replies(request(h, "c1", new RegisterPlugin("one-more", BYTES, false), 2), 2).get(0).message();
        assertTrue(refused instanceof ErrorReply e && e.message().contains("unregister"), refused.toString());
        // a name taken is a replacement, not one more
        assertInstanceOf(Ack.class, replies(request(h, "c1", new RegisterPlugin("p0", new byte[]{7}, false), 3), 3).get(0).message());
        request(h, "c1", new UnregisterPlugin("p1"), 4);
        h.s.extension(WorkerPluginExtension.class).maxBytes = 1000; // the real bound is 256 MiB
        Message tooBig = replies(request(h, "c1", new RegisterPlugin("huge", new byte[1000], false), 5), 5).get(0).message();
        assertTrue(tooBig instanceof ErrorReply e && e.message().contains("at most 1000 bytes"), tooBig.toString());
        assertEquals(WorkerPluginExtension.MAX_PLUGINS - 1, h.s.extension(WorkerPluginExtension.class).names().size());
    }
}
