package dist.client;

import dist.Options;
import dist.protocol.Message;
import dist.protocol.MessageCodec;
import dist.protocol.TaskOptions;
import dist.protocol.TaskSpec;
import dist.serial.DecodeException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The tasks of one call share their wire options: a message carries them once and the scheduler keeps one copy. */
class WireOptionsTest {
    private final MessageCodec codec = MessageCodec.get();

    private static Message.UpdateGraph graph(List<TaskOptions> options) {
        List<TaskSpec> specs = new ArrayList<>();
        for (int i = 0; i < options.size(); i++) {
            specs.add(new TaskSpec("inc-" + i, new byte[] {1}, List.of(), i, options.get(i)));
        }
        return new Message.UpdateGraph("c1", specs, List.of());
    }

    private Message.UpdateGraph roundTrip(Message.UpdateGraph g) {
        return (Message.UpdateGraph) codec.decode(codec.encode(g));
    }

    @Test
    void tasksOfOneCallInASpanShareOneOptionsValueOnTheWireAndWhenDecoded() {
        Options o = Options.defaults().retries(1);
        String outer = SpanScope.open("etl");
        try {
            SpanScope.open("load");
            TaskOptions first = WireOptions.of(o);
            assertSame(first, WireOptions.of(o), "same options, same spans: one value");
            assertEquals(2, first.span().size());
            assertNotSame(first, WireOptions.of(Options.defaults().retries(2)), "other options: another value");

            Message.UpdateGraph shared = graph(java.util.Collections.nCopies(1000, first));
            Message.UpdateGraph decoded = roundTrip(shared);
            assertSame(decoded.tasks().get(0).options(), decoded.tasks().get(999).options(),
                    "the scheduler holds one options value for the thousand tasks");
            assertEquals(first, decoded.tasks().get(500).options());

            int once = codec.encode(shared).get(0).length;
            int single = codec.encode(graph(List.of(first))).get(0).length;
            int plain = codec.encode(graph(java.util.Collections.nCopies(1000, null))).get(0).length;
            int whole = single - codec.encode(graph(java.util.Collections.singletonList(null))).get(0).length;
            assertTrue(whole > 20, "options written whole take " + whole + " bytes");
            assertTrue(once - plain <= whole + 999 * 4, "options written once, then a tag and a byte a task: "
                    + once + " bytes against " + plain + " without options (" + whole + " for options whole)");
        } finally {
            SpanScope.close(outer);
        }
        assertNull(WireOptions.of(Options.defaults()), "outside spans the defaults travel as nothing");
    }

    @Test
    void differingOptionsInOneMessageComeBackEachAsItWas() {
        TaskOptions a = new TaskOptions(List.of("w1"), true, Map.of("GPU", 1.0), 2, List.of("s#1"));
        TaskOptions b = new TaskOptions(List.of(), false, Map.of(), 0, null);
        List<TaskOptions> in = Arrays.asList(a, a, b, null, b, a, new TaskOptions(List.of("w1"), true, Map.of("GPU", 1.0), 2,
                List.of("s#1")));
        Message.UpdateGraph out = roundTrip(graph(in));
        for (int i = 0; i < in.size(); i++) {
            assertEquals(in.get(i), out.tasks().get(i).options(), "task " + i);
        }
        // each message starts afresh: a second message's first options are written whole
        assertEquals(a, roundTrip(graph(List.of(a))).tasks().get(0).options());
    }

    @Test
    void aSameMarkerWithNothingBeforeItIsRefusedByName() {
        byte[] frame = codec.encode(graph(List.of(new TaskOptions(List.of("w1"), false, Map.of(), 0, null)))).get(0);
        // the full options' first byte (0) turned into "the same as the last" (1): nothing came before
        byte[] bad = frame.clone();
        int at = indexOfOptions(bad);
        bad[at] = 1;
        DecodeException e = assertThrows(DecodeException.class, () -> codec.decode(List.of(bad)));
        assertTrue(e.getMessage().contains("same as the last"), e.getMessage());
    }

    /** Where the options' kind byte sits: the only byte that differs between a worker list and another one. */
    private int indexOfOptions(byte[] frame) {
        byte[] other = codec.encode(graph(List.of(new TaskOptions(List.of("w2"), false, Map.of(), 0, null)))).get(0);
        for (int i = 0; i < frame.length; i++) {
            if (frame[i] != other[i]) {
                // the kind byte precedes the workers list: a list tag, its length, the string's tag and length
                for (int k = i; k >= 0; k--) {
                    if (frame[k] == 0 && k + 1 < frame.length) {
                        byte[] probe = frame.clone();
                        probe[k] = 1;
                        try {
                            codec.decode(List.of(probe));
                        } catch (DecodeException e) {
                            if (e.getMessage().contains("same as the last")) {
                                return k;
                            }
                        } catch (RuntimeException ignored) {
                            // not the kind byte
                        }
                    }
                }
            }
        }
        throw new AssertionError("no options kind byte found");
    }
}
