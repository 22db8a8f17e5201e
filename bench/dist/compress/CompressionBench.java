package dist.compress;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Compress and decompress speed of LZ4 and Deflate on 1 MiB of log-like text and of random bytes.
 * Throughput is in operations per second of 1 MiB each, so ops/s reads as MiB/s of original data.
 * Run: {@code ./run.sh bench CompressionBench -f 1 -wi 2 -i 3 -w 1s -r 1s}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class CompressionBench {

    static final int SIZE = 1 << 20;

    @Param({"lz4", "deflate"})
    public String codec;

    @Param({"text", "random"})
    public String data;

    private Compressor compressor;
    private byte[] input;
    private byte[] packed;
    private int packedLength;
    private byte[] out;

    @Setup
    public void setup() {
        compressor = Compression.named(codec).codec();
        input = "text".equals(data) ? logLines(new Random(1), SIZE) : random(new Random(2), SIZE);
        packed = new byte[compressor.maxCompressedLength(SIZE)];
        packedLength = compressor.compress(input, 0, SIZE, packed, 0);
        out = new byte[SIZE];
        System.out.printf("%n%s on %s: %d -> %d bytes (%.1f%%)%n", codec, data, SIZE, packedLength,
                100.0 * packedLength / SIZE);
    }

    @Benchmark
    public int compress() {
        return compressor.compress(input, 0, SIZE, packed, 0);
    }

    @Benchmark
    public int decompress() {
        return compressor.decompress(packed, 0, packedLength, out, 0, SIZE);
    }

    /** Log lines: timestamp, level, a few words from a small vocabulary, a key and a number. */
    static byte[] logLines(Random r, int size) {
        String[] levels = {"INFO", "INFO", "INFO", "DEBUG", "WARN"};
        String[] words = {"task", "finished", "transition", "memory", "released", "worker", "scheduler", "key",
            "processing", "waiting", "from", "to", "in", "compute", "gather", "fetched", "bytes", "stealing"};
        StringBuilder sb = new StringBuilder(size + 200);
        long t = 1_700_000_000_000L;
        while (sb.length() < size) {
            t += r.nextInt(50);
            sb.append(t).append(' ').append(levels[r.nextInt(levels.length)]).append(" distributed.worker - ");
            for (int w = 3 + r.nextInt(6); w > 0; w--) {
                sb.append(words[r.nextInt(words.length)]).append(' ');
            }
            sb.append("inc-").append(Integer.toHexString(r.nextInt())).append(' ').append(r.nextInt(1_000_000))
                    .append('\n');
        }
        return java.util.Arrays.copyOf(sb.toString().getBytes(StandardCharsets.US_ASCII), size);
    }

    static byte[] random(Random r, int size) {
        byte[] b = new byte[size];
        r.nextBytes(b);
        return b;
    }
}
