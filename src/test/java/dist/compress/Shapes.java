package dist.compress;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Seeded test inputs of the shapes that stress a block compressor. */
final class Shapes {

    record Input(String name, byte[] data) {
        @Override
        public String toString() {
            return name + " (" + data.length + " bytes)";
        }
    }

    private static final String[] WORDS = {"the", "scheduler", "worker", "task", "key", "memory", "released",
        "erred", "future", "graph", "compute", "transition", "processing", "waiting", "nbytes", "who_has",
        "dependency", "priority", "a", "of", "to", "in", "and", "is", "2024-05-01T12:00:00", "INFO", "WARN"};

    private Shapes() {
    }

    /** Log-like lines of words and numbers. */
    static byte[] text(Random r, int size) {
        StringBuilder sb = new StringBuilder(size + 64);
        while (sb.length() < size) {
            sb.append(WORDS[r.nextInt(WORDS.length)]);
            sb.append(r.nextInt(12) == 0 ? "\n" : r.nextInt(9) == 0 ? " " + r.nextInt(100_000) + " " : " ");
        }
        byte[] b = sb.toString().getBytes(StandardCharsets.US_ASCII);
        return java.util.Arrays.copyOf(b, size);
    }

    static byte[] random(Random r, int size) {
        byte[] b = new byte[size];
        r.nextBytes(b);
        return b;
    }

    /** Runs of a few values with random lengths. */
    static byte[] runs(Random r, int size, int maxRun) {
        byte[] b = new byte[size];
        int i = 0;
        while (i < size) {
            int n = Math.min(size - i, 1 + r.nextInt(maxRun));
            java.util.Arrays.fill(b, i, i + n, (byte) r.nextInt(4));
            i += n;
        }
        return b;
    }

    /** A random pattern of {@code period} bytes repeated. */
    static byte[] periodic(Random r, int size, int period) {
        byte[] p = random(r, period);
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = p[i % period];
        }
        return b;
    }

    /** Random blocks, some copies of earlier blocks at near and far (over 64 KiB) distances. */
    static byte[] copies(Random r, int size) {
        byte[] b = random(r, size);
        for (int k = 0; k < size / 512; k++) {
            int len = 4 + r.nextInt(600);
            int to = r.nextInt(Math.max(1, size - len));
            int from = Math.max(0, to - 1 - r.nextInt(r.nextBoolean() ? 70_000 : 2_000));
            if (to + len <= size) {
                System.arraycopy(b, from, b, to, len);
            }
        }
        return b;
    }

    /** Random bytes with sparse mutations of a text: almost compressible. */
    static byte[] noisyText(Random r, int size) {
        byte[] b = text(r, size);
        for (int i = 0; i < size / 20; i++) {
            b[r.nextInt(size)] = (byte) r.nextInt();
        }
        return b;
    }

    static List<Input> all(long seed) {
        Random r = new Random(seed);
        List<Input> in = new ArrayList<>();
        int[] edges = {0, 1, 2, 3, 4, 5, 11, 12, 13, 14, 15, 16, 17, 19, 20, 31, 255, 256, 270, 271, 4095, 4096,
            4097, 65_535, 65_536, 65_537, 65_540, 131_072 + 7};
        for (int n : edges) {
            in.add(new Input("zeros", new byte[n]));
            in.add(new Input("text", text(r, n)));
            in.add(new Input("random", random(r, n)));
            in.add(new Input("periodic-3", periodic(r, n, 3)));
        }
        for (int i = 0; i < 40; i++) {
            int n = r.nextInt(i < 30 ? 3000 : 300_000);
            switch (i % 6) {
                case 0 -> in.add(new Input("runs", runs(r, n, 1 + r.nextInt(300))));
                case 1 -> in.add(new Input("text", text(r, n)));
                case 2 -> in.add(new Input("periodic", periodic(r, n, 1 + r.nextInt(70_000))));
                case 3 -> in.add(new Input("copies", copies(r, n)));
                case 4 -> in.add(new Input("noisy-text", noisyText(r, n)));
                default -> in.add(new Input("random", random(r, n)));
            }
        }
        in.add(new Input("big-text", text(r, 3 << 20)));
        in.add(new Input("big-copies", copies(r, 2 << 20)));
        in.add(new Input("big-runs", runs(r, 3 << 20, 100_000)));
        in.add(new Input("big-random", random(r, 2 << 20)));
        return in;
    }
}
