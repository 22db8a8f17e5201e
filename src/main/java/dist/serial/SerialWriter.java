package dist.serial;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.SerializedLambda;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.RandomAccess;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.function.UnaryOperator;

/**
 * The encoding side, handed to a {@link ClassCodec}: varints, zigzag, strings, bytes and nested values.
 * A writer is only valid during the {@link Serializer#encode} call that handed it out.
 *
 * <pre>{@code
 * public void write(Pt p, SerialWriter out) {
 *     out.writeZigzag(p.x);
 *     out.writeString(p.label);
 *     out.writeObject(p.tags);      // any value the serializer can encode, nullable
 * }
 * }</pre>
 */
public final class SerialWriter {

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INTS = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final ThreadLocal<SerialWriter> CACHE = ThreadLocal.withInitial(SerialWriter::new);
    /** Buffers grown past this are dropped after use so an idle thread does not pin a large array. */
    private static final int KEEP = 1 << 16;
    /**
     * A platform thread (an event loop, a reader) keeps up to this much: a scheduler's batches of a
     * thousand tasks pass 64 KB, and regrowing from 256 bytes for each copied them twice over (a third
     * of the scheduler's allocation a task). Virtual threads, many and short-lived, keep {@link #KEEP}.
     */
    private static final int KEEP_PLATFORM = 1 << 20;
    private static final int MAX = Integer.MAX_VALUE - 64;
    private static final int SCAN = 16;

    private byte[] buf = new byte[256];
    private int pos;
    private Registry.Snapshot snap;
    private List<byte[]> oob;
    private int oobThreshold;
    private UnaryOperator<Object> replacer;
    private int depth;
    private int maxDepth;
    private boolean inUse;
    /** Names (Class or String) written so far in this stream, by index; a map once there are many. */
    private Object[] names = new Object[SCAN];
    private int nnames;
    private HashMap<Object, Integer> nameIndex;
    /**
     * The last two classes met and their ClassInfo: the elements of a list are mostly of one class,
     * and an object's fields often of one other.
     */
    private Class<?> lastClass, prevClass;
    private ClassInfo lastInfo, prevInfo;
    /** Whether identity is kept (see {@link Registry.Snapshot#tracks}). */
    private boolean tracks;
    /** Objects written so far that keep identity, by identity, with their index: open addressing. */
    private Object[] seenKeys = new Object[SEEN];
    private int[] seenIds = new int[SEEN];
    private int nseen;
    private static final int SEEN = 16;

    private SerialWriter() {
    }

    static SerialWriter acquire(Registry.Snapshot snap, List<byte[]> oob, UnaryOperator<Object> replacer) {
        return acquire(snap, oob, snap.oobThreshold, replacer);
    }

    static SerialWriter acquire(Registry.Snapshot snap, List<byte[]> oob, int oobThreshold,
                                UnaryOperator<Object> replacer) {
        SerialWriter w = CACHE.get();
        if (w.inUse) {
            w = new SerialWriter(); // a codec encoding a nested stream on the same thread
        }
        w.inUse = true;
        w.snap = snap;
        w.oob = oob;
        w.oobThreshold = oobThreshold;
        w.replacer = replacer;
        w.maxDepth = snap.maxDepth;
        w.tracks = snap.tracks;
        w.lastClass = null;
        w.prevClass = null;
        w.depth = 0;
        w.pos = 0;
        return w;
    }

    void release() {
        inUse = false;
        snap = null;
        oob = null;
        replacer = null;
        lastClass = null;
        lastInfo = null;
        prevClass = null;
        prevInfo = null;
        Arrays.fill(names, 0, Math.min(nnames, names.length), null);
        nnames = 0;
        nameIndex = null;
        if (nseen > 0) {
            if (seenKeys.length > KEEP / 8) {
                seenKeys = new Object[SEEN];
                seenIds = new int[SEEN];
            } else {
                Arrays.fill(seenKeys, null);
            }
            nseen = 0;
        }
        if (buf.length > (Thread.currentThread().isVirtual() ? KEEP : KEEP_PLATFORM)) {
            buf = new byte[256];
        }
    }

    byte[] toByteArray() {
        return Arrays.copyOf(buf, pos);
    }

    // ------------------------------------------------------------------ raw writes

    private void ensure(int n) {
        if (n > buf.length - pos) {
            grow(n);
        }
    }

    private void grow(int n) {
        long need = (long) pos + n;
        if (need > MAX) {
            throw new EncodeException("encoded value exceeds 2 GB; send large byte[] out of band instead");
        }
        buf = Arrays.copyOf(buf, (int) Math.max(need, Math.min(MAX, buf.length * 2L)));
    }

    /** One byte (the low 8 bits of {@code b}). */
    public void writeByte(int b) {
        ensure(1);
        buf[pos++] = (byte) b;
    }

    public void writeBoolean(boolean b) {
        writeByte(b ? 1 : 0);
    }

    /** An unsigned varint: 7 bits per byte, 1 byte below 128. */
    public void writeVarint(long v) {
        ensure(10);
        byte[] b = buf;
        int p = pos;
        while ((v & ~0x7FL) != 0) {
            b[p++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        b[p++] = (byte) v;
        pos = p;
    }

    private void writeVarint32(int v) {
        ensure(5);
        byte[] b = buf;
        int p = pos;
        while ((v & ~0x7F) != 0) {
            b[p++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        b[p++] = (byte) v;
        pos = p;
    }

    /** A signed value as a zigzag varint: small magnitudes, either sign, take few bytes. */
    public void writeZigzag(long v) {
        writeVarint((v << 1) ^ (v >> 63));
    }

    private void writeZigzag32(int v) {
        writeVarint32((v << 1) ^ (v >> 31));
    }

    /** 8 bytes, little-endian. */
    public void writeDouble(double d) {
        ensure(8);
        LONGS.set(buf, pos, Double.doubleToRawLongBits(d));
        pos += 8;
    }

    /** 4 bytes, little-endian. */
    public void writeFloat(float f) {
        ensure(4);
        INTS.set(buf, pos, Float.floatToRawIntBits(f));
        pos += 4;
    }

    /** A non-null string: its UTF-8 length as a varint, then the bytes. */
    public void writeString(String s) {
        int n = s.length();
        ensure(n + 5);
        int start = pos;
        writeVarint32(n);
        byte[] b = buf;
        int p = pos;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                pos = start;
                writeStringUtf8(s);
                return;
            }
            b[p++] = (byte) c;
        }
        pos = p;
    }

    private void writeStringUtf8(String s) {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        writeVarint32(u.length);
        writeRaw(u, 0, u.length);
    }

    private void writeRaw(byte[] src, int off, int len) {
        ensure(len);
        System.arraycopy(src, off, buf, pos, len);
        pos += len;
    }

    /** A non-null byte array in line (never out of band): length, then the bytes. */
    public void writeBytes(byte[] b) {
        writeVarint32(b.length);
        writeRaw(b, 0, b.length);
    }

    // ------------------------------------------------------------------ names and classes

    /** Writes a name once per stream, then as a back-reference: 0 + string, or 2*(index+1). */
    private void writeName(Object key, String name) {
        int n = nnames;
        if (nameIndex == null) {
            Object[] ns = names;
            for (int i = 0; i < n; i++) {
                Object k = ns[i];
                if (k == key || (key instanceof String && key.equals(k))) {
                    writeVarint32((i + 1) << 1);
                    return;
                }
            }
        } else {
            Integer i = nameIndex.get(key);
            if (i != null) {
                writeVarint32((i + 1) << 1);
                return;
            }
        }
        writeByte(0);
        writeString(name);
        if (n < SCAN) {
            names[n] = key;
        } else {
            if (nameIndex == null) {
                nameIndex = new HashMap<>();
                for (int i = 0; i < n; i++) {
                    nameIndex.put(names[i], i);
                }
            }
            nameIndex.put(key, n);
        }
        nnames = n + 1;
    }

    private void writeName(String name) {
        writeName(name, name);
    }

    private void writeClass(ClassInfo ci) {
        if (ci.alias >= 0) {
            writeVarint(((long) ci.alias << 1) | 1);
        } else {
            writeName(ci.wireClass, ci.wireClass.getName());
        }
    }

    // ------------------------------------------------------------------ identity

    /**
     * Whether {@code o} was written before in this stream; if so its back-reference is written. Else
     * it takes the next index: the reader numbers the same objects in the same order.
     */
    private boolean writtenBefore(Object o) {
        Object[] keys = seenKeys;
        int mask = keys.length - 1;
        int i = (System.identityHashCode(o) * 0x9E3779B9 >>> 7) & mask;
        Object k;
        while ((k = keys[i]) != null) {
            if (k == o) {
                writeByte(Tags.BACKREF);
                writeVarint32(seenIds[i]);
                return true;
            }
            i = (i + 1) & mask;
        }
        keys[i] = o;
        seenIds[i] = nseen++;
        if (nseen * 2 > keys.length) {
            growSeen();
        }
        return false;
    }

    private void growSeen() {
        Object[] oldKeys = seenKeys;
        int[] oldIds = seenIds;
        Object[] keys = new Object[oldKeys.length * 2];
        int[] ids = new int[keys.length];
        int mask = keys.length - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            Object k = oldKeys[j];
            if (k != null) {
                int i = (System.identityHashCode(k) * 0x9E3779B9 >>> 7) & mask;
                while (keys[i] != null) {
                    i = (i + 1) & mask;
                }
                keys[i] = k;
                ids[i] = oldIds[j];
            }
        }
        seenKeys = keys;
        seenIds = ids;
    }

    // ------------------------------------------------------------------ values

    private void enter() {
        if (++depth > maxDepth) {
            throw new EncodeException("value nests deeper than " + maxDepth
                    + " levels (does it contain itself?); raise Registry.maxDepth(int) if the nesting is real");
        }
    }

    /**
     * Any value the serializer handles (built-in, record, enum, exception, lambda, codec, ordinary class),
     * or null. An object, array, collection or map met again in the same stream is written as a
     * back-reference, so shared and cyclic references come back as they were.
     */
    public void writeObject(Object o) {
        if (o == null) {
            writeByte(Tags.NULL);
            return;
        }
        if (replacer != null) {
            o = replacer.apply(o);
            if (o == null) {
                writeByte(Tags.NULL);
                return;
            }
        }
        Class<?> c = o.getClass();
        // the commonest values skip the per-class lookup
        if (c == String.class) {
            writeByte(Tags.STRING);
            writeString((String) o);
            return;
        }
        if (c == Long.class && snap.codecs.isEmpty()) {
            writeByte(Tags.LONG);
            writeZigzag((Long) o);
            return;
        }
        if (c == Integer.class && snap.codecs.isEmpty()) {
            writeByte(Tags.INT);
            writeZigzag32((Integer) o);
            return;
        }
        ClassInfo ci;
        if (c == lastClass) {
            ci = lastInfo;
        } else if (c == prevClass) {
            ci = prevInfo;
        } else {
            ci = snap.info(c);
            prevClass = lastClass;
            prevInfo = lastInfo;
            lastClass = c;
            lastInfo = ci;
        }
        switch (ci.tag) {
            case Tags.INT -> {
                writeByte(Tags.INT);
                writeZigzag32((Integer) o);
            }
            case Tags.LONG -> {
                writeByte(Tags.LONG);
                writeZigzag((Long) o);
            }
            case Tags.TRUE -> writeByte((Boolean) o ? Tags.TRUE : Tags.FALSE);
            case Tags.DOUBLE -> {
                writeByte(Tags.DOUBLE);
                writeDouble((Double) o);
            }
            case Tags.FLOAT -> {
                writeByte(Tags.FLOAT);
                writeFloat((Float) o);
            }
            case Tags.BYTE -> {
                writeByte(Tags.BYTE);
                writeByte((Byte) o);
            }
            case Tags.SHORT -> {
                writeByte(Tags.SHORT);
                writeZigzag32((Short) o);
            }
            case Tags.CHAR -> {
                writeByte(Tags.CHAR);
                writeVarint32((Character) o);
            }
            case Tags.BYTES -> writeByteArray((byte[]) o);
            case Tags.BOOLS, Tags.SHORTS, Tags.CHARS, Tags.INTS, Tags.LONGS, Tags.FLOATS, Tags.DOUBLES ->
                    writePrimitiveArray(ci.tag, o);
            case Tags.OBJECTS -> {
                if (!tracks || !writtenBefore(o)) {
                    writeObjectArray(ci, (Object[]) o);
                }
            }
            case Tags.LIST -> {
                if (!tracks || !writtenBefore(o)) {
                    writeCollection(Tags.LIST, (Collection<?>) o);
                }
            }
            case Tags.SET -> {
                if (!tracks || !writtenBefore(o)) {
                    writeCollection(Tags.SET, (Collection<?>) o);
                }
            }
            case Tags.SORTED_SET -> {
                if (!tracks || !writtenBefore(o)) {
                    writeCollection(((SortedSet<?>) o).comparator() == null ? Tags.SORTED_SET : Tags.SET,
                            (Collection<?>) o);
                }
            }
            case Tags.MAP -> {
                if (!tracks || !writtenBefore(o)) {
                    writeMap(Tags.MAP, (Map<?, ?>) o);
                }
            }
            case Tags.SORTED_MAP -> {
                if (!tracks || !writtenBefore(o)) {
                    writeMap(((SortedMap<?, ?>) o).comparator() == null ? Tags.SORTED_MAP : Tags.MAP, (Map<?, ?>) o);
                }
            }
            case Tags.OPTIONAL -> {
                Optional<?> opt = (Optional<?>) o;
                if (opt.isEmpty()) {
                    writeByte(Tags.OPTIONAL_EMPTY);
                } else {
                    writeByte(Tags.OPTIONAL);
                    enter();
                    writeObject(opt.get());
                    depth--;
                }
            }
            case Tags.REF -> {
                writeByte(Tags.REF);
                String key = ((Ref) o).key();
                if (key == null) {
                    throw new EncodeException("a Ref needs a non-null key");
                }
                writeString(key);
            }
            case Tags.RECORD -> {
                writeByte(Tags.RECORD);
                writeClass(ci);
                enter();
                writeSlots(ci.shape, o);
                depth--;
            }
            case Tags.ENUM -> {
                writeByte(Tags.ENUM);
                writeClass(ci);
                writeVarint32(((Enum<?>) o).ordinal());
            }
            case Tags.THROWABLE -> writeThrowable((Throwable) o);
            case Tags.LAMBDA -> writeLambda(ci, o);
            case Tags.CODEC -> {
                writeByte(Tags.CODEC);
                writeClass(ci);
                enter();
                ci.codec.write(o, this);
                depth--;
            }
            case Tags.OBJECT -> {
                if (tracks && writtenBefore(o)) {
                    return;
                }
                writeByte(Tags.OBJECT);
                writeClass(ci);
                enter();
                writeSlots(ci.shape, o);
                depth--;
            }
            default -> throw new EncodeException(ci.error != null ? ci.error : "cannot encode " + c.getName());
        }
    }

    private void writeByteArray(byte[] b) {
        if (oob != null && b.length >= oobThreshold) {
            writeByte(Tags.BYTES_OOB);
            writeVarint32(oob.size());
            oob.add(b);
        } else {
            writeByte(Tags.BYTES);
            writeBytes(b);
        }
    }

    private void writePrimitiveArray(int tag, Object o) {
        writeByte(tag);
        switch (tag) {
            case Tags.BOOLS -> {
                boolean[] a = (boolean[]) o;
                writeVarint32(a.length);
                ensure((a.length + 7) >>> 3);
                for (int i = 0; i < a.length; i += 8) {
                    int bits = 0;
                    for (int j = 0; j < 8 && i + j < a.length; j++) {
                        if (a[i + j]) {
                            bits |= 1 << j;
                        }
                    }
                    buf[pos++] = (byte) bits;
                }
            }
            case Tags.SHORTS -> {
                short[] a = (short[]) o;
                writeVarint32(a.length);
                for (short v : a) {
                    writeZigzag32(v);
                }
            }
            case Tags.CHARS -> {
                char[] a = (char[]) o;
                writeVarint32(a.length);
                for (char v : a) {
                    writeVarint32(v);
                }
            }
            case Tags.INTS -> {
                int[] a = (int[]) o;
                writeVarint32(a.length);
                for (int v : a) {
                    writeZigzag32(v);
                }
            }
            case Tags.LONGS -> {
                long[] a = (long[]) o;
                writeVarint32(a.length);
                for (long v : a) {
                    writeZigzag(v);
                }
            }
            case Tags.FLOATS -> {
                float[] a = (float[]) o;
                writeVarint32(a.length);
                ensure(a.length * 4);
                for (float v : a) {
                    INTS.set(buf, pos, Float.floatToRawIntBits(v));
                    pos += 4;
                }
            }
            case Tags.DOUBLES -> {
                double[] a = (double[]) o;
                writeVarint32(a.length);
                if (a.length > MAX / 8) {
                    throw new EncodeException("double[] of " + a.length + " elements exceeds 2 GB encoded");
                }
                ensure(a.length * 8);
                for (double v : a) {
                    LONGS.set(buf, pos, Double.doubleToRawLongBits(v));
                    pos += 8;
                }
            }
            default -> throw new IllegalStateException("not an array tag: " + tag);
        }
    }

    private void writeObjectArray(ClassInfo ci, Object[] a) {
        writeByte(Tags.OBJECTS);
        writeName(ci.wireClass, ci.wireClass.getName());
        writeVarint32(a.length);
        enter();
        for (Object e : a) {
            writeObject(e);
        }
        depth--;
    }

    private void writeCollection(int tag, Collection<?> col) {
        int n = col.size();
        if (tag == Tags.LIST && n >= 2 && replacer == null && col instanceof List<?> list && col instanceof RandomAccess
                && writeRecords(list, n)) {
            return;
        }
        writeByte(tag);
        writeVarint32(n);
        enter();
        if (col instanceof List<?> list && col instanceof RandomAccess) {
            for (int i = 0; i < n; i++) {
                writeObject(list.get(i));
            }
        } else {
            int count = 0;
            for (Object e : col) {
                if (++count > n) {
                    break;
                }
                writeObject(e);
            }
            if (count != n) {
                throw new EncodeException(col.getClass().getName() + " changed size while being encoded");
            }
        }
        depth--;
    }

    /**
     * A list of records of one class written as {@link Tags#RECORDS}: the tag and the class once, not
     * per element (a shuffle's shards and most partitions of a Bag are such lists). False, having
     * written nothing, when the elements are not all non-null records of the same class.
     */
    private boolean writeRecords(List<?> list, int n) {
        Object first = list.get(0);
        if (first == null) {
            return false;
        }
        Class<?> c = first.getClass();
        if (!c.isRecord()) {
            return false;
        }
        for (int i = 1; i < n; i++) {
            Object e = list.get(i);
            if (e == null || e.getClass() != c) {
                return false;
            }
        }
        ClassInfo ci = snap.info(c);
        if (ci.tag != Tags.RECORD || ci.shape.slots.length == 0) {
            return false; // a record of no component takes no byte, which a reader's count check needs
        }
        writeByte(Tags.RECORDS);
        writeVarint32(n);
        writeClass(ci);
        enter();
        enter();
        ClassInfo.Shape shape = ci.shape;
        for (int i = 0; i < n; i++) {
            writeSlots(shape, list.get(i));
        }
        depth -= 2;
        if (list.size() != n) {
            throw new EncodeException(list.getClass().getName() + " changed size while being encoded");
        }
        return true;
    }

    private void writeMap(int tag, Map<?, ?> map) {
        writeByte(tag);
        int n = map.size();
        writeVarint32(n);
        enter();
        int count = 0;
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (++count > n) {
                break;
            }
            writeObject(e.getKey());
            writeObject(e.getValue());
        }
        if (count != n) {
            throw new EncodeException(map.getClass().getName() + " changed size while being encoded");
        }
        depth--;
    }

    private void writeSlots(ClassInfo.Shape shape, Object o) {
        try {
            Plan plan = shape.plan();
            if (plan != null) {
                plan.write(this, o);
                return;
            }
            for (ClassInfo.Slot s : shape.slots) {
                MethodHandle g = s.getter();
                switch (s.kind()) {
                    case ClassInfo.P_INT -> writeZigzag32((int) g.invokeExact(o));
                    case ClassInfo.P_LONG -> writeZigzag((long) g.invokeExact(o));
                    case ClassInfo.P_BOOLEAN -> writeByte((boolean) g.invokeExact(o) ? 1 : 0);
                    case ClassInfo.P_DOUBLE -> writeDouble((double) g.invokeExact(o));
                    case ClassInfo.P_FLOAT -> writeFloat((float) g.invokeExact(o));
                    case ClassInfo.P_BYTE -> writeByte((byte) g.invokeExact(o));
                    case ClassInfo.P_SHORT -> writeZigzag32((short) g.invokeExact(o));
                    case ClassInfo.P_CHAR -> writeVarint32((char) g.invokeExact(o));
                    case ClassInfo.P_STRING -> writeStringSlot((Object) g.invokeExact(o));
                    default -> writeObject((Object) g.invokeExact(o));
                }
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new EncodeException("reading " + o.getClass().getName() + " failed: " + t, t);
        }
    }

    /** As writeObject would write a String (or null), without the dispatch. */
    private void writeStringSlot(Object s) {
        if (s == null) {
            writeByte(Tags.NULL);
        } else if (replacer != null) {
            writeObject(s);
        } else {
            writeByte(Tags.STRING);
            writeString((String) s);
        }
    }

    private void writeBooleanSlot(boolean b) {
        writeByte(b ? 1 : 0);
    }

    private static final MethodType SLOTS = MethodType.methodType(void.class, SerialWriter.class, Object.class);
    private static final MethodHandle[] WRITE_KIND = new MethodHandle[ClassInfo.P_STRING + 1];

    static {
        MethodHandles.Lookup l = MethodHandles.lookup();
        try {
            MethodHandle zigzag32 = l.findVirtual(SerialWriter.class, "writeZigzag32",
                    MethodType.methodType(void.class, int.class));
            MethodHandle varint32 = l.findVirtual(SerialWriter.class, "writeVarint32",
                    MethodType.methodType(void.class, int.class));
            MethodHandle writeByte = l.findVirtual(SerialWriter.class, "writeByte",
                    MethodType.methodType(void.class, int.class));
            WRITE_KIND[ClassInfo.P_INT] = zigzag32;
            WRITE_KIND[ClassInfo.P_SHORT] = zigzag32.asType(MethodType.methodType(void.class, SerialWriter.class,
                    short.class));
            WRITE_KIND[ClassInfo.P_CHAR] = varint32.asType(MethodType.methodType(void.class, SerialWriter.class,
                    char.class));
            WRITE_KIND[ClassInfo.P_BYTE] = writeByte.asType(MethodType.methodType(void.class, SerialWriter.class,
                    byte.class));
            WRITE_KIND[ClassInfo.P_LONG] = l.findVirtual(SerialWriter.class, "writeZigzag",
                    MethodType.methodType(void.class, long.class));
            WRITE_KIND[ClassInfo.P_BOOLEAN] = l.findVirtual(SerialWriter.class, "writeBooleanSlot",
                    MethodType.methodType(void.class, boolean.class));
            WRITE_KIND[ClassInfo.P_DOUBLE] = l.findVirtual(SerialWriter.class, "writeDouble",
                    MethodType.methodType(void.class, double.class));
            WRITE_KIND[ClassInfo.P_FLOAT] = l.findVirtual(SerialWriter.class, "writeFloat",
                    MethodType.methodType(void.class, float.class));
            WRITE_KIND[ClassInfo.P_REF] = l.findVirtual(SerialWriter.class, "writeObject",
                    MethodType.methodType(void.class, Object.class));
            WRITE_KIND[ClassInfo.P_STRING] = l.findVirtual(SerialWriter.class, "writeStringSlot",
                    MethodType.methodType(void.class, Object.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * One handle typed (SerialWriter, Object)void that writes every slot in order: getters and writes
     * composed, so that once hot the JVM compiles it for this class as a whole (one call per object,
     * no call per field).
     */
    static MethodHandle slotsWriter(ClassInfo.Slot[] slots) {
        MethodHandle[] steps = new MethodHandle[slots.length];
        for (int i = 0; i < slots.length; i++) {
            steps[i] = MethodHandles.filterArguments(WRITE_KIND[slots[i].kind()], 1, slots[i].getter());
        }
        return ClassInfo.sequence(steps, 0, steps.length, SLOTS);
    }

    private void writeNullableString(String s) {
        if (s == null) {
            writeByte(Tags.NULL);
        } else {
            writeByte(Tags.STRING);
            writeString(s);
        }
    }

    private void writeThrowable(Throwable t) {
        writeByte(Tags.THROWABLE);
        String name;
        String message;
        if (t instanceof RemoteException re) {
            name = re.remoteClassName();
            message = re.remoteMessage();
        } else {
            name = t.getClass().getName();
            message = t.getMessage();
        }
        writeName(name);
        writeNullableString(message);
        StackTraceElement[] st = t.getStackTrace();
        writeVarint32(st.length);
        for (StackTraceElement e : st) {
            writeName(e.getClassName());
            writeName(e.getMethodName());
            String file = e.getFileName();
            String loader = e.getClassLoaderName();
            String module = e.getModuleName();
            String version = e.getModuleVersion();
            long line = e.getLineNumber();
            writeVarint((((line << 1) ^ (line >> 63)) << 4) | (file == null ? 0 : 1) | (loader == null ? 0 : 2)
                    | (module == null ? 0 : 4) | (version == null ? 0 : 8));
            if (file != null) {
                writeName(file);
            }
            if (loader != null) {
                writeName(loader);
            }
            if (module != null) {
                writeName(module);
            }
            if (version != null) {
                writeName(version);
            }
        }
        enter();
        Throwable cause = t.getCause();
        writeObject(cause == t ? null : cause);
        Throwable[] suppressed = t.getSuppressed();
        writeVarint32(suppressed.length);
        for (Throwable s : suppressed) {
            writeObject(s);
        }
        depth--;
    }

    private void writeLambda(ClassInfo ci, Object fn) {
        Object replaced;
        try {
            replaced = ci.writeReplace.invokeExact(fn);
        } catch (Throwable e) {
            throw new EncodeException("lambda " + fn.getClass().getName() + " did not serialize: " + e, e);
        }
        if (!(replaced instanceof SerializedLambda sl)) {
            throw new EncodeException("lambda " + fn.getClass().getName() + " replaced itself by "
                    + (replaced == null ? "null" : replaced.getClass().getName()) + ", not a SerializedLambda");
        }
        writeByte(Tags.LAMBDA);
        writeName(sl.getCapturingClass().replace('/', '.'));
        writeName(sl.getFunctionalInterfaceClass());
        writeString(sl.getFunctionalInterfaceMethodName());
        writeString(sl.getFunctionalInterfaceMethodSignature());
        writeVarint32(sl.getImplMethodKind());
        writeName(sl.getImplClass());
        writeString(sl.getImplMethodName());
        writeString(sl.getImplMethodSignature());
        writeString(sl.getInstantiatedMethodType());
        int n = sl.getCapturedArgCount();
        writeVarint32(n);
        enter();
        for (int i = 0; i < n; i++) {
            writeObject(sl.getCapturedArg(i));
        }
        depth--;
    }
}
