package dist.serial;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Serializer speed: a small task message (aliased record), a 1 MB byte[] out of band (no copy) and
 * in line (copied, for contrast), a map of 1,000 String to Long, and a bag shard: 100,000 records of
 * two ints, as a p2p groupBy sends them.
 * Run: {@code ./run.sh bench SerializerBench -f 1 -wi 2 -i 3 -w 1s -r 1s} (add {@code -prof gc} for bytes/op).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class SerializerBench {

    /** The shape of the scheduler's compute-task message. */
    public record ComputeTask(String key, byte[] run, Map<String, List<String>> whoHas, Map<String, Long> nbytes,
                              long priority) {}

    private Serializer serializer;
    private ComputeTask task;
    private byte[] taskBytes;
    private byte[] megabyte;
    private List<Object> megabyteMessage;
    private Map<String, Long> map;
    private byte[] mapBytes;
    private List<Rec> shard;

    /** One small record of a grouped bag. */
    public record Rec(int key, int value) {}

    @Setup
    public void setup() {
        serializer = new Serializer(Registry.defaults().alias(ComputeTask.class, 20));
        byte[] run = new byte[100];
        new Random(1).nextBytes(run);
        Map<String, List<String>> whoHas = new LinkedHashMap<>();
        whoHas.put("inc-3f2a9c", List.of("10.0.0.5:40123"));
        whoHas.put("load-77b1e0", List.of("10.0.0.6:40123"));
        Map<String, Long> nbytes = new LinkedHashMap<>();
        nbytes.put("inc-3f2a9c", 28L);
        nbytes.put("load-77b1e0", 81_920L);
        task = new ComputeTask("sum-9d0e41", run, whoHas, nbytes, 1042L);
        taskBytes = serializer.encode(task);

        megabyte = new byte[1 << 20];
        new Random(2).nextBytes(megabyte);
        megabyteMessage = List.of("result-key", megabyte);

        map = new LinkedHashMap<>();
        for (int i = 0; i < 1000; i++) {
            map.put("key-" + i, i * 1_000_003L);
        }
        mapBytes = serializer.encode(map);

        shard = new ArrayList<>(100_000);
        for (int i = 0; i < 100_000; i++) {
            shard.add(new Rec((i * 7919) % 100_000, 5_000_000 + i));
        }
    }

    /** A shard of 100,000 (key, value) records: each int a zigzag varint of 3 or 4 bytes. */
    @Benchmark
    public byte[] shardEncode() {
        return serializer.encode(shard);
    }

    @Benchmark
    public Object taskEncodeDecode() {
        return serializer.decode(serializer.encode(task));
    }

    @Benchmark
    public byte[] taskEncode() {
        return serializer.encode(task);
    }

    @Benchmark
    public Object taskDecode() {
        return serializer.decode(taskBytes);
    }

    /** The 1 MB array goes out of band: the result holds the very same array (checked). */
    @Benchmark
    public Object megabyteOutOfBand() {
        List<byte[]> oob = new ArrayList<>(1);
        byte[] header = serializer.encode(megabyteMessage, oob, null);
        List<?> back = (List<?>) serializer.decode(header, oob, null, null);
        if (back.get(1) != megabyte) {
            throw new AssertionError("out-of-band array was copied");
        }
        return back;
    }

    /** For contrast: the same message with the array in line, copied twice. */
    @Benchmark
    public Object megabyteInline() {
        return serializer.decode(serializer.encode(megabyteMessage));
    }

    @Benchmark
    public Object map1000EncodeDecode() {
        return serializer.decode(serializer.encode(map));
    }

    @Benchmark
    public Object map1000Decode() {
        return serializer.decode(mapBytes);
    }
}
