package dist;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * A cluster's state in a file, as dask's {@code dump_cluster_state} writes it and {@code load_cluster_dump}
 * reads it ({@link Client#dumpClusterState}): a map with "scheduler" (its tasks and workers), "workers"
 * (each worker's state and tasks, by address) and "versions". Two formats: "msgpack", gzipped, in
 * {@code NAME.msgpack.gz}, and "yaml", in {@code NAME.yaml} (written in YAML's flow style, which JSON
 * readers read too). Values are text, numbers, booleans, null, lists and maps.
 *
 * <pre>{@code
 * Path file = client.dumpClusterState(Path.of("stuck"), "msgpack", List.of());   // stuck.msgpack.gz
 * Map<String, Object> state = ClusterDump.load(file);
 * Map<?, ?> tasks = (Map<?, ?>) ((Map<?, ?>) state.get("scheduler")).get("tasks");
 * }</pre>
 */
public final class ClusterDump {
    /** Nesting a file may have at most when read, so a hostile file cannot overflow the stack. */
    private static final int MAX_DEPTH = 200;

    private ClusterDump() {
    }

    /** The file name a format gives {@code name}: NAME.msgpack.gz or NAME.yaml. */
    static Path fileFor(Path name, String format) {
        return switch (format) {
            case "msgpack" -> name.resolveSibling(name.getFileName() + ".msgpack.gz");
            case "yaml" -> name.resolveSibling(name.getFileName() + ".yaml");
            case null, default -> throw new IllegalArgumentException("Unsupported format " + format
                    + ": a cluster dump is written as msgpack or yaml");
        };
    }

    /** Writes {@code state} to {@code file} in {@code format}. */
    static void write(Map<String, Object> state, Path file, String format) throws IOException {
        if (format.equals("msgpack")) {
            try (DataOutputStream out = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(file)))) {
                pack(out, state);
            }
        } else {
            StringBuilder b = new StringBuilder(4096);
            flow(b, state, 0);
            b.append('\n');
            Files.writeString(file, b);
        }
    }

    /**
     * Reads a dump written by {@link Client#dumpClusterState}: a {@code .msgpack.gz} or a {@code .yaml} file.
     *
     * @throws java.io.UncheckedIOException when the file cannot be read or is not a dump of either format
     */
    public static Map<String, Object> load(Path file) {
        try {
            return read(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot load the cluster dump " + file + ": " + e.getMessage(), e);
        }
    }

    private static Map<String, Object> read(Path file) throws IOException {
        String n = file.getFileName().toString();
        Object v;
        if (n.endsWith(".msgpack.gz")) {
            try (DataInputStream in = new DataInputStream(new GZIPInputStream(Files.newInputStream(file)))) {
                v = unpack(in, 0);
            }
        } else if (n.endsWith(".yaml")) {
            Flow f = new Flow(Files.readString(file));
            v = f.value(0);
            f.space();
            if (f.i != f.s.length()) {
                throw new IOException("unexpected text at character " + f.i + " of " + file);
            }
        } else {
            throw new IOException(file + " is not a cluster dump: its name ends in neither .msgpack.gz nor .yaml");
        }
        if (!(v instanceof Map<?, ?>)) {
            throw new IOException(file + " holds no map");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) v;
        return m;
    }

    // ---------------------------------------------------------------- msgpack: nil, bool, int64, float64, str, array, map

    private static void pack(DataOutputStream out, Object v) throws IOException {
        switch (v) {
            case null -> out.writeByte(0xc0);
            case Boolean b -> out.writeByte(b ? 0xc3 : 0xc2);
            case Double d -> {
                out.writeByte(0xcb);
                out.writeDouble(d);
            }
            case Float f -> pack(out, f.doubleValue());
            case Number x -> {
                out.writeByte(0xd3);
                out.writeLong(x.longValue());
            }
            case Map<?, ?> m -> {
                out.writeByte(0xdf);
                out.writeInt(m.size());
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    pack(out, String.valueOf(e.getKey()));
                    pack(out, e.getValue());
                }
            }
            case Collection<?> c -> {
                out.writeByte(0xdd);
                out.writeInt(c.size());
                for (Object o : c) {
                    pack(out, o);
                }
            }
            default -> {
                byte[] s = v.toString().getBytes(StandardCharsets.UTF_8);
                out.writeByte(0xdb);
                out.writeInt(s.length);
                out.write(s);
            }
        }
    }

    private static Object unpack(DataInputStream in, int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            throw new IOException("a cluster dump nests deeper than " + MAX_DEPTH);
        }
        int t = in.readUnsignedByte();
        if (t <= 0x7f) {
            return (long) t;
        }
        if (t >= 0xe0) {
            return (long) (byte) t;
        }
        if (t >= 0x80 && t <= 0x8f) {
            return map(in, t & 0x0f, depth);
        }
        if (t >= 0x90 && t <= 0x9f) {
            return list(in, t & 0x0f, depth);
        }
        if (t >= 0xa0 && t <= 0xbf) {
            return string(in, t & 0x1f);
        }
        return switch (t) {
            case 0xc0 -> null;
            case 0xc2 -> false;
            case 0xc3 -> true;
            case 0xca -> (double) in.readFloat();
            case 0xcb -> in.readDouble();
            case 0xcc -> (long) in.readUnsignedByte();
            case 0xcd -> (long) in.readUnsignedShort();
            case 0xce -> in.readInt() & 0xffffffffL;
            case 0xcf, 0xd3 -> in.readLong();
            case 0xd0 -> (long) in.readByte();
            case 0xd1 -> (long) in.readShort();
            case 0xd2 -> (long) in.readInt();
            case 0xd9 -> string(in, in.readUnsignedByte());
            case 0xda -> string(in, in.readUnsignedShort());
            case 0xdb -> string(in, in.readInt());
            case 0xdc -> list(in, in.readUnsignedShort(), depth);
            case 0xdd -> list(in, in.readInt(), depth);
            case 0xde -> map(in, in.readUnsignedShort(), depth);
            case 0xdf -> map(in, in.readInt(), depth);
            default -> throw new IOException("a cluster dump holds msgpack type 0x" + Integer.toHexString(t)
                    + ", which it never writes");
        };
    }

    private static String string(InputStream in, int n) throws IOException {
        if (n < 0) {
            throw new IOException("a negative string length in a cluster dump");
        }
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new EOFException("a cluster dump ends inside a string");
        }
        return new String(b, StandardCharsets.UTF_8);
    }

    private static List<Object> list(DataInputStream in, int n, int depth) throws IOException {
        List<Object> l = new ArrayList<>(Math.min(Math.max(n, 0), 1024));
        for (int i = 0; i < n; i++) {
            l.add(unpack(in, depth + 1));
        }
        return l;
    }

    private static Map<String, Object> map(DataInputStream in, int n, int depth) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            m.put(String.valueOf(unpack(in, depth + 1)), unpack(in, depth + 1));
        }
        return m;
    }

    // ---------------------------------------------------------------- YAML flow style (JSON's syntax)

    private static void flow(StringBuilder b, Object v, int indent) {
        switch (v) {
            case null -> b.append("null");
            case Boolean x -> b.append(x);
            // YAML 1.1 readers take an exponent only with its sign: 1.0E+10, not 1.0E10
            case Double d -> b.append(d.isNaN() ? ".nan" : d.isInfinite() ? (d > 0 ? ".inf" : "-.inf")
                    : d.toString().replaceFirst("E(\\d)", "E+$1"));
            case Float f -> flow(b, f.doubleValue(), indent);
            case Number n -> b.append(n.longValue());
            case Map<?, ?> m -> {
                if (m.isEmpty()) {
                    b.append("{}");
                    return;
                }
                b.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    b.append(first ? "\n" : ",\n").append("  ".repeat(indent + 1));
                    first = false;
                    quote(b, String.valueOf(e.getKey()));
                    b.append(": ");
                    flow(b, e.getValue(), indent + 1);
                }
                b.append('\n').append("  ".repeat(indent)).append('}');
            }
            case Collection<?> c -> {
                b.append('[');
                boolean first = true;
                for (Object o : c) {
                    b.append(first ? "" : ", ");
                    first = false;
                    flow(b, o, indent + 1);
                }
                b.append(']');
            }
            default -> quote(b, v.toString());
        }
    }

    private static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c >= 0x7f && c <= 0x9f || Character.isSurrogate(c) || c == 0xfeff) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    /** A reader of what {@link #flow} writes. */
    private static final class Flow {
        final String s;
        int i;

        Flow(String s) {
            this.s = s;
        }

        void space() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        IOException error(String what) {
            return new IOException("a cluster dump's YAML: " + what + " at character " + i);
        }

        Object value(int depth) throws IOException {
            if (depth > MAX_DEPTH) {
                throw error("nesting deeper than " + MAX_DEPTH);
            }
            space();
            if (i >= s.length()) {
                throw error("a value expected");
            }
            char c = s.charAt(i);
            if (c == '{') {
                i++;
                Map<String, Object> m = new LinkedHashMap<>();
                space();
                if (i < s.length() && s.charAt(i) == '}') {
                    i++;
                    return m;
                }
                while (true) {
                    space();
                    String k = string();
                    space();
                    expect(':');
                    m.put(k, value(depth + 1));
                    space();
                    if (i < s.length() && s.charAt(i) == ',') {
                        i++;
                        continue;
                    }
                    expect('}');
                    return m;
                }
            }
            if (c == '[') {
                i++;
                List<Object> l = new ArrayList<>();
                space();
                if (i < s.length() && s.charAt(i) == ']') {
                    i++;
                    return l;
                }
                while (true) {
                    l.add(value(depth + 1));
                    space();
                    if (i < s.length() && s.charAt(i) == ',') {
                        i++;
                        continue;
                    }
                    expect(']');
                    return l;
                }
            }
            if (c == '"') {
                return string();
            }
            int start = i;
            while (i < s.length() && ",]}: \n\t\r".indexOf(s.charAt(i)) < 0) {
                i++;
            }
            String w = s.substring(start, i);
            return switch (w) {
                case "null" -> null;
                case "true" -> true;
                case "false" -> false;
                case ".nan" -> Double.NaN;
                case ".inf" -> Double.POSITIVE_INFINITY;
                case "-.inf" -> Double.NEGATIVE_INFINITY;
                default -> {
                    try {
                        yield w.contains(".") || w.contains("E") || w.contains("e") ? (Object) Double.parseDouble(w)
                                : (Object) Long.parseLong(w);
                    } catch (NumberFormatException e) {
                        throw error("not a value: '" + w + "'");
                    }
                }
            };
        }

        void expect(char c) throws IOException {
            if (i >= s.length() || s.charAt(i) != c) {
                throw error("'" + c + "' expected");
            }
            i++;
        }

        String string() throws IOException {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                if (i >= s.length()) {
                    throw error("a string not closed");
                }
                char c = s.charAt(i++);
                if (c == '"') {
                    return b.toString();
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                if (i >= s.length()) {
                    throw error("a string not closed");
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        if (i + 4 > s.length()) {
                            throw error("a short \\u escape");
                        }
                        try {
                            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        } catch (NumberFormatException x) {
                            throw error("a bad \\u escape");
                        }
                        i += 4;
                    }
                    default -> b.append(e);
                }
            }
        }
    }
}
