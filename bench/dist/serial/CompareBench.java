package dist.serial;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.fury.Fury;
import org.apache.fury.config.Language;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * dist's serializer beside Kryo 5 and Fury on the same values: a round trip (encode to a fresh byte[],
 * decode it) of 100 records, a list of 1,000 mixed strings and longs, a map of 1,000 String to Long,
 * and 100 plain objects that share an owner which lists them (a cycle). All three run without class
 * registration and with identity kept (Kryo references, Fury ref tracking), as dist keeps it; the
 * setup checks that each brings the value back and prints each one's encoded size.
 * Run: {@code ./run.sh bench CompareBench -f 1 -wi 2 -i 3 -w 2s -r 3s} (about three minutes).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CompareBench {

    public record Trade(long id, String symbol, double price, int qty, boolean buy) {}

    /** A plain class: no record, no codec, no allow-list entry. */
    public static class Position {
        long id;
        String symbol;
        double price;
        int qty;
        boolean buy;
        Portfolio owner;

        public Position() {
        }
    }

    public static class Portfolio {
        String name;
        List<Position> positions = new ArrayList<>();

        public Portfolio() {
        }
    }

    @Param({"records", "list", "map", "pojos"})
    public String shape;

    private Object value;
    private Serializer dist;
    private Kryo kryo;
    private Output output;
    private Input input;
    private Fury fury;

    @Setup
    public void setup() {
        value = make(shape);
        dist = new Serializer(Registry.defaults().strict(false));
        kryo = new Kryo();
        kryo.setRegistrationRequired(false);
        kryo.setReferences(true);
        output = new Output(1 << 16, -1);
        input = new Input();
        fury = Fury.builder().withLanguage(Language.JAVA).requireClassRegistration(false).withRefTracking(true)
                .build();
        check("dist", dist());
        check("kryo", kryo());
        check("fury", fury());
        System.out.printf("%n# sizes of %s: dist %d B, kryo %d B, fury %d B%n", shape, dist.encode(value).length,
                kryoBytes().length, fury.serialize(value).length);
    }

    static Object make(String shape) {
        Random r = new Random(42);
        String[] symbols = {"AAPL", "MSFT", "GOOG", "AMZN", "NVDA", "META", "TSLA", "JPM"};
        switch (shape) {
            case "records": {
                List<Trade> l = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    l.add(new Trade(1_000_000L + i, symbols[r.nextInt(symbols.length)], 100 + r.nextDouble() * 50,
                            r.nextInt(1000), r.nextBoolean()));
                }
                return l;
            }
            case "list": {
                List<Object> l = new ArrayList<>();
                for (int i = 0; i < 1000; i++) {
                    l.add(i % 2 == 0 ? "item-" + i : (Object) (long) r.nextInt(1 << 20));
                }
                return l;
            }
            case "map": {
                Map<String, Long> m = new LinkedHashMap<>();
                for (int i = 0; i < 1000; i++) {
                    m.put("key-" + i, i * 1_000_003L);
                }
                return m;
            }
            default: {
                Portfolio p = new Portfolio();
                p.name = "book";
                for (int i = 0; i < 100; i++) {
                    Position x = new Position();
                    x.id = 1_000_000L + i;
                    x.symbol = symbols[r.nextInt(symbols.length)];
                    x.price = 100 + r.nextDouble() * 50;
                    x.qty = r.nextInt(1000);
                    x.buy = r.nextBoolean();
                    x.owner = p;
                    p.positions.add(x);
                }
                return p;
            }
        }
    }

    private void check(String who, Object back) {
        boolean same;
        if (value instanceof Portfolio p) {
            Portfolio q = (Portfolio) back;
            same = q.positions.size() == p.positions.size() && q.positions.get(99).owner == q
                    && q.positions.get(7).price == p.positions.get(7).price
                    && Objects.equals(q.positions.get(3).symbol, p.positions.get(3).symbol);
        } else {
            same = value.equals(back);
        }
        if (!same) {
            throw new AssertionError(who + " did not bring the " + shape + " back");
        }
    }

    private byte[] kryoBytes() {
        output.reset();
        kryo.writeClassAndObject(output, value);
        return output.toBytes();
    }

    @Benchmark
    public Object dist() {
        return dist.decode(dist.encode(value));
    }

    @Benchmark
    public Object kryo() {
        byte[] b = kryoBytes();
        input.setBuffer(b);
        return kryo.readClassAndObject(input);
    }

    @Benchmark
    public Object fury() {
        return fury.deserialize(fury.serialize(value));
    }
}
