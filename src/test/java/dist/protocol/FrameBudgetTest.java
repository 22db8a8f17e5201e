package dist.protocol;

import dist.compress.CompressedFrame;
import dist.compress.Compression;
import dist.compress.DecompressionBudget;
import dist.compress.Lz4;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Decompressions from many peers share one budget: they wait for room, or are refused; none overruns it. */
@Timeout(60)
class FrameBudgetTest {

    /** A one-way message: a one-byte header, then {@code originalBytes} zeros as an lz4 frame. */
    private static byte[] message(int originalBytes) {
        byte[] packed = CompressedFrame.toArray(CompressedFrame.pack(Compression.LZ4, new byte[originalBytes]));
        ByteBuffer b = ByteBuffer.allocate(FrameWriter.prefixBytes(2) + 1 + packed.length);
        b.putInt(2).put((byte) 0).putLong(0).putLong(1).putLong((long) Lz4.ID << 56 | packed.length)
                .put((byte) 7).put(packed);
        return b.array();
    }

    private static Envelope read(byte[] wire, DecompressionBudget budget) throws Exception {
        return new FrameReader(Channels.newChannel(new ByteArrayInputStream(wire)), FrameLimits.DEFAULT, budget).read();
    }

    @Test
    void decompressionsThatTogetherPassTheBudgetTakeTurns() throws Exception {
        DecompressionBudget budget = new DecompressionBudget(8L << 20, Duration.ofSeconds(30));
        byte[] wire = message(4 << 20);
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<Envelope>> got = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                got.add(pool.submit(() -> read(wire, budget)));
            }
            for (Future<Envelope> f : got) {
                assertEquals(4 << 20, f.get(30, TimeUnit.SECONDS).frames().get(1).length);
            }
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        }
        assertEquals(0, budget.used(), "every decompression gave its room back");
    }

    @Test
    void aDecompressionThatFindsNoRoomInTimeIsRefused() throws Exception {
        DecompressionBudget budget = new DecompressionBudget(8L << 20, Duration.ofMillis(200));
        assertTrue(budget.acquire(6L << 20)); // others hold most of it
        FrameLimitException e = assertThrows(FrameLimitException.class, () -> read(message(4 << 20), budget));
        assertTrue(e.getMessage().contains("had no room within 200 ms")
                && e.getMessage().contains(DecompressionBudget.BYTES_PROPERTY), e.getMessage());
        budget.release(6L << 20);
        assertEquals(4 << 20, read(message(4 << 20), budget).frames().get(1).length);
        // larger than the whole budget: refused at once
        e = assertThrows(FrameLimitException.class, () -> read(message(9 << 20), budget));
        assertTrue(e.getMessage().contains("is smaller"), e.getMessage());
        assertEquals(0, budget.used());
    }
}
