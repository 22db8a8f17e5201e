package dist.protocol;

import dist.comm.CommConfig;
import dist.serial.DecodeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** A message header cannot decode to much more than the memory the process allows it. */
@Timeout(120)
class MessageExpansionTest {

    @Test
    void aHundredFortyMegabyteLongArrayIsRefusedBeforeItIsAllocated() {
        // 140 MB of one-byte varints: a 1.1 GB long[] once decoded
        byte[] header = HostileFrames.longArrayHeader(140_000_000);
        long before = HostileFrames.allocatedByThisThread();
        DecodeException e = assertThrows(DecodeException.class, () -> MessageCodec.get().decode(List.of(header)));
        long took = HostileFrames.allocatedByThisThread() - before;
        assertTrue(e.getMessage().contains("long[]") && e.getMessage().contains("maxDecodedBytes"), e.getMessage());
        assertTrue(took < 16L << 20, "decoding made " + took + " bytes");
    }

    @Test
    void aMessageOfHalfTheHeapIsOverTheDefaultLimit() {
        // a 140 MB message reaches a 256 MB scheduler no further than its length words
        long heap = Runtime.getRuntime().maxMemory();
        assertTrue(CommConfig.DEFAULT.maxMessageBytes() <= Math.max(64L << 20, heap / 2),
                "default message limit " + CommConfig.DEFAULT.maxMessageBytes() + " on a heap of " + heap);
        FrameLimits scheduler256 = new FrameLimits(1 << 16, FrameLimits.MAX_ARRAY, 128L << 20);
        byte[] wire = HostileFrames.announcement(140_000_006L);
        FrameLimitException e = assertThrows(FrameLimitException.class, () -> new FrameReader(
                java.nio.channels.Channels.newChannel(new java.io.ByteArrayInputStream(wire)), scheduler256).read());
        assertTrue(e.getMessage().contains("maxMessageBytes"), e.getMessage());
    }

    @Test
    void aSmallFrameAnnouncingAHugeLongArrayIsRefusedByTheCount() {
        byte[] header = ByteBuffer.allocate(16).put((byte) HostileFrames.LONGS_TAG)
                .put(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07}).array(); // 2^31 - 1
        long before = HostileFrames.allocatedByThisThread();
        DecodeException e = assertThrows(DecodeException.class, () -> MessageCodec.get().decode(List.of(header)));
        long took = HostileFrames.allocatedByThisThread() - before;
        assertTrue(e.getMessage().contains("claims 2147483647 elements"), e.getMessage());
        assertTrue(took < 1L << 20, "decoding made " + took + " bytes");
    }

    @Test
    void aListOfEmptyStringsCannotExpandTwentyFold() {
        // 30 M empty strings in 60 MB: over a gigabyte of String objects once decoded
        int n = 30_000_000;
        byte[] header = new byte[6 + 2 * n];
        header[0] = 21; // list
        int p = 1;
        for (long v = n; ; v >>>= 7) {
            if ((v & ~0x7FL) == 0) {
                header[p++] = (byte) v;
                break;
            }
            header[p++] = (byte) ((v & 0x7F) | 0x80);
        }
        for (int i = 0; i < n; i++) {
            header[p++] = 5; // string of length 0
            header[p++] = 0;
        }
        byte[] frame = java.util.Arrays.copyOf(header, p);
        long before = HostileFrames.allocatedByThisThread();
        DecodeException e = assertThrows(DecodeException.class, () -> MessageCodec.get().decode(List.of(frame)));
        long took = HostileFrames.allocatedByThisThread() - before;
        assertTrue(e.getMessage().contains("maxDecodedBytes"), e.getMessage());
        // the shared codec's bound in this JVM (a quarter of the heap), and no more than a little beyond
        long bound = Math.max(32L << 20, Runtime.getRuntime().maxMemory() / 4);
        assertTrue(took < bound + (64L << 20), "decoding made " + took + " bytes");
    }

    @Test
    void honestMessagesStillDecode() {
        List<TaskSpec> tasks = new java.util.ArrayList<>();
        for (int i = 0; i < 4096; i++) {
            tasks.add(new TaskSpec("task-" + i, new byte[200], List.of("dep-" + i), i, TaskOptions.DEFAULT));
        }
        Message m = new Message.UpdateGraph("client-1", tasks, List.of("task-1"));
        Message.UpdateGraph back = (Message.UpdateGraph) MessageCodec.get().decode(MessageCodec.get().encode(m));
        assertEquals(4096, back.tasks().size());
        assertEquals("task-4095", back.tasks().get(4095).key());
        assertEquals(200, back.tasks().get(17).run().length);
    }
}
