package dist.serial;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.SerializedLambda;
import java.lang.invoke.VarHandle;
import java.lang.reflect.Array;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The decoding side, handed to a {@link ClassCodec}: the mirror of {@link SerialWriter}. Every read
 * checks the bytes that remain and throws {@link DecodeException} on malformed input.
 *
 * <pre>{@code
 * public Pt read(SerialReader in) {
 *     int x = in.readZigzagInt();
 *     String label = in.readString();
 *     List<?> tags = (List<?>) in.readObject();
 *     return new Pt(x, label, tags);
 * }
 * }</pre>
 */
public final class SerialReader {

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INTS = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final ClassLoader OWN = SerialReader.class.getClassLoader();
    /** Classes found through this library's own loader (only successful loads, so bounded). */
    private static final ConcurrentHashMap<String, Class<?>> OWN_CLASSES = new ConcurrentHashMap<>();
    /** Initial capacity cap, so a lying element count cannot make us allocate before bytes arrive. */
    private static final int PREALLOC = 1024;
    /** Estimated heap bytes, charged against {@link Registry#maxDecodedBytes()} before allocating. */
    private static final int OBJECT = 16;
    private static final int REF = 8;
    private static final int STRING = 40;
    private static final int ENTRY = 48;

    private final byte[] buf;
    private int pos;
    private final int limit;
    private final Registry.Snapshot snap;
    private final List<byte[]> oob;
    private final ClassLoader loader;
    private final Function<String, Object> refs;
    private final int maxDepth;
    private int depth;
    /** What this decode may still allocate (estimated); see {@link #charge}. */
    private long allowance;
    private String[] names;
    private Class<?>[] classes;
    private ClassInfo[] infos;
    private int nnames;
    /** Whether identity is kept (see {@link Registry.Snapshot#tracks}). */
    private final boolean tracks;
    /** Objects, arrays, collections and maps read so far, in the order the writer met them. */
    private Object[] seen;
    private int nseen;

    SerialReader(byte[] buf, int off, int len, Registry.Snapshot snap, List<byte[]> oob, ClassLoader loader,
                 Function<String, Object> refs) {
        this.buf = buf;
        this.pos = off;
        this.limit = off + len;
        this.snap = snap;
        this.oob = oob;
        this.loader = loader == null ? OWN : loader;
        this.refs = refs;
        this.maxDepth = snap.maxDepth;
        this.allowance = snap.maxDecodedBytes;
        this.tracks = snap.tracks;
    }

    /** Numbers {@code o} as the writer did, before its contents are read, so they may refer back to it. */
    private void remember(Object o) {
        if (!tracks) {
            return;
        }
        Object[] s = seen;
        if (s == null) {
            seen = s = new Object[8];
        } else if (nseen == s.length) {
            seen = s = Arrays.copyOf(s, nseen * 2);
        }
        s[nseen++] = o;
    }

    private Object readBackReference() {
        if (!tracks) {
            throw error("a back-reference is refused: this endpoint decodes only protocol messages and JDK types");
        }
        long i = readVarint();
        if (i < 0 || i >= nseen) {
            throw error("back-reference to object #" + Long.toUnsignedString(i) + " but only " + nseen
                    + " were read so far");
        }
        return seen[(int) i];
    }

    int position() {
        return pos;
    }

    int limit() {
        return limit;
    }

    /** Bytes not read yet. */
    public int remaining() {
        return limit - pos;
    }

    DecodeException error(String message) {
        return new DecodeException(message + " (at byte " + pos + " of " + limit + ")");
    }

    private DecodeException truncated() {
        return error("input ends in the middle of a value (truncated?)");
    }

    // ------------------------------------------------------------------ raw reads

    /** One byte, 0..255. */
    public int readByte() {
        if (pos >= limit) {
            throw truncated();
        }
        return buf[pos++] & 0xFF;
    }

    public boolean readBoolean() {
        int b = readByte();
        if (b > 1) {
            throw error("boolean byte " + b + " is neither 0 nor 1");
        }
        return b == 1;
    }

    /** An unsigned varint as written by {@link SerialWriter#writeVarint(long)}. */
    public long readVarint() {
        byte[] b = buf;
        int p = pos;
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (p >= limit) {
                throw truncated();
            }
            int x = b[p++];
            v |= (long) (x & 0x7F) << shift;
            if (x >= 0) {
                pos = p;
                return v;
            }
        }
        throw error("varint longer than 10 bytes");
    }

    private int readVarint32() {
        if (pos < limit) {
            int x = buf[pos];
            if (x >= 0) {
                pos++;
                return x;
            }
        }
        long v = readVarint();
        if ((v >>> 32) != 0) {
            throw error("varint " + Long.toUnsignedString(v) + " does not fit 32 bits");
        }
        return (int) v;
    }

    /** A signed zigzag varint. */
    public long readZigzag() {
        long v = readVarint();
        return (v >>> 1) ^ -(v & 1);
    }

    /** A signed zigzag varint that must fit an int. */
    public int readZigzagInt() {
        int v = readVarint32();
        return (v >>> 1) ^ -(v & 1);
    }

    public double readDouble() {
        need(8);
        double d = Double.longBitsToDouble((long) LONGS.get(buf, pos));
        pos += 8;
        return d;
    }

    public float readFloat() {
        need(4);
        float f = Float.intBitsToFloat((int) INTS.get(buf, pos));
        pos += 4;
        return f;
    }

    private void need(int n) {
        if (n > limit - pos) {
            throw truncated();
        }
    }

    /**
     * A count of things that take at least {@code minBytes} bytes each, checked against what
     * remains so that nothing is allocated for bytes that are not there.
     */
    private int readCount(int minBytes, String what) {
        long n = readVarint();
        if (n < 0 || n > (limit - pos) / minBytes) {
            throw error(what + " claims " + Long.toUnsignedString(n) + " elements but only " + (limit - pos)
                    + " bytes remain");
        }
        return (int) n;
    }

    /**
     * Takes {@code bytes} of the decode's allowance before they are allocated for {@code what}: small
     * inputs that expand a lot (a long[] of one-byte varints, a list of empty strings) stop at the bound.
     */
    private void charge(long bytes, String what) {
        if ((allowance -= bytes) < 0) {
            throw error("decoding " + what + " (about " + bytes + " bytes) would take the decoded value past "
                    + snap.maxDecodedBytes + " bytes of memory, the limit Registry.maxDecodedBytes"
                    + " (raise it if this input is trusted)");
        }
    }

    /** A non-null string as written by {@link SerialWriter#writeString(String)}. */
    public String readString() {
        int n = readCount(1, "string");
        charge(STRING + (long) n, "a string");
        String s = new String(buf, pos, n, StandardCharsets.UTF_8);
        pos += n;
        return s;
    }

    /** A byte array as written by {@link SerialWriter#writeBytes(byte[])}. */
    public byte[] readBytes() {
        int n = readCount(1, "byte[]");
        charge(OBJECT + (long) n, "a byte[]");
        byte[] b = Arrays.copyOfRange(buf, pos, pos + n);
        pos += n;
        return b;
    }

    // ------------------------------------------------------------------ names and classes

    private int readNameIndex() {
        long x = readVarint();
        if (x == 0) {
            String name = readString();
            if (names == null) {
                names = new String[8];
                classes = new Class<?>[8];
                infos = new ClassInfo[8];
            } else if (nnames == names.length) {
                names = Arrays.copyOf(names, nnames * 2);
                classes = Arrays.copyOf(classes, nnames * 2);
                infos = Arrays.copyOf(infos, nnames * 2);
            }
            names[nnames] = name;
            return nnames++;
        }
        if ((x & 1) == 1) {
            Class<?> c = snap.aliased(x >>> 1);
            if (c == null) {
                throw error("unknown class alias " + (x >>> 1) + "; both ends must register the same aliases");
            }
            return -1 - (int) Math.min(x >>> 1, Integer.MAX_VALUE - 1);
        }
        long i = (x >>> 1) - 1;
        if (i >= nnames) {
            throw error("back-reference to name #" + i + " but only " + nnames + " were defined");
        }
        return (int) i;
    }

    private String readName() {
        int i = readNameIndex();
        return i >= 0 ? names[i] : snap.aliased(-1L - i).getName();
    }

    private Class<?> readClass() {
        int i = readNameIndex();
        if (i < 0) {
            return snap.aliased(-1L - i);
        }
        Class<?> c = classes[i];
        if (c == null) {
            refuseIfClosed(names[i]);
            c = load(names[i]);
            classes[i] = c;
        }
        return c;
    }

    private void refuseIfClosed(String name) {
        if (!snap.admits(name)) {
            throw error("class " + name + " is refused: this endpoint decodes only protocol messages and JDK types"
                    + " (user values travel as opaque bytes)");
        }
    }

    private Class<?> load(String name) {
        Class<?> c = tryLoad(name);
        if (c == null) {
            throw error("class " + name + " cannot be loaded here; put it on this process's class path or decode"
                    + " with a ClassLoader that has it");
        }
        return c;
    }

    /** The class, or null when this loader does not have it. */
    private Class<?> tryLoad(String name) {
        if (loader == OWN) {
            Class<?> c = OWN_CLASSES.get(name);
            if (c != null) {
                return c;
            }
        }
        try {
            Class<?> c = Class.forName(name, false, loader);
            if (loader == OWN) {
                OWN_CLASSES.putIfAbsent(name, c);
            }
            return c;
        } catch (ClassNotFoundException | LinkageError | RuntimeException e) {
            return null;
        }
    }

    /** As {@link #readClass}, its ClassInfo remembered per name so that repeated objects skip the lookup. */
    private ClassInfo readClassInfo() {
        int i = readNameIndex();
        if (i < 0) {
            return snap.info(snap.aliased(-1L - i));
        }
        ClassInfo ci = infos[i];
        if (ci == null) {
            Class<?> c = classes[i];
            if (c == null) {
                refuseIfClosed(names[i]);
                c = load(names[i]);
                classes[i] = c;
            }
            infos[i] = ci = snap.info(c);
        }
        return ci;
    }

    // ------------------------------------------------------------------ values

    private void enter() {
        if (++depth > maxDepth) {
            throw error("values nest deeper than " + maxDepth + " levels; raise Registry.maxDepth(int) if this"
                    + " input is trusted");
        }
    }

    /** Any value written by {@link SerialWriter#writeObject(Object)}. */
    public Object readObject() {
        int tag = readByte();
        switch (tag) {
            case Tags.NULL:
                return null;
            case Tags.FALSE:
                return Boolean.FALSE;
            case Tags.TRUE:
                return Boolean.TRUE;
            case Tags.INT:
                charge(OBJECT, "an Integer");
                return readZigzagInt();
            case Tags.LONG:
                charge(OBJECT, "a Long");
                return readZigzag();
            case Tags.STRING:
                return readString();
            case Tags.DOUBLE:
                charge(OBJECT, "a Double");
                return readDouble();
            case Tags.FLOAT:
                charge(OBJECT, "a Float");
                return readFloat();
            case Tags.BYTE:
                return (byte) readByte();
            case Tags.SHORT: {
                charge(OBJECT, "a Short");
                int v = readZigzagInt();
                if (v != (short) v) {
                    throw error("short value " + v + " out of range");
                }
                return (short) v;
            }
            case Tags.CHAR: {
                charge(OBJECT, "a Character");
                int v = readVarint32();
                if (v != (char) v) {
                    throw error("char value " + v + " out of range");
                }
                return (char) v;
            }
            case Tags.BYTES:
                return readBytes();
            case Tags.BYTES_OOB: {
                long i = readVarint();
                int n = oob == null ? 0 : oob.size();
                if (i < 0 || i >= n) {
                    throw error("out-of-band buffer #" + Long.toUnsignedString(i) + " referenced but " + n
                            + (oob == null ? " were passed (pass the frames that came with this message)" : " exist"));
                }
                return oob.get((int) i);
            }
            case Tags.BOOLS:
            case Tags.SHORTS:
            case Tags.CHARS:
            case Tags.INTS:
            case Tags.LONGS:
            case Tags.FLOATS:
            case Tags.DOUBLES:
                return readPrimitiveArray(tag);
            case Tags.OBJECTS:
                return readObjectArray();
            case Tags.LIST: {
                int n = readCount(1, "list");
                charge(OBJECT + OBJECT + (long) REF * n, "a list");
                enter();
                ArrayList<Object> list = new ArrayList<>(Math.min(n, PREALLOC));
                remember(list);
                for (int i = 0; i < n; i++) {
                    list.add(readObject());
                }
                depth--;
                return list;
            }
            case Tags.RECORDS:
                return readRecords();
            case Tags.SET:
            case Tags.SORTED_SET: {
                int n = readCount(1, "set");
                charge(OBJECT * 4 + (long) ENTRY * n, "a set");
                enter();
                java.util.Set<Object> set = tag == Tags.SET
                        ? LinkedHashSet.newLinkedHashSet(Math.min(n, PREALLOC))
                        : new TreeSet<>();
                remember(set);
                for (int i = 0; i < n; i++) {
                    set.add(readObject());
                }
                depth--;
                return set;
            }
            case Tags.MAP:
            case Tags.SORTED_MAP: {
                int n = readCount(2, "map");
                charge(OBJECT * 4 + (long) ENTRY * n, "a map");
                enter();
                Map<Object, Object> map = tag == Tags.MAP
                        ? LinkedHashMap.newLinkedHashMap(Math.min(n, PREALLOC))
                        : new TreeMap<>();
                remember(map);
                for (int i = 0; i < n; i++) {
                    Object k = readObject();
                    map.put(k, readObject());
                }
                depth--;
                return map;
            }
            case Tags.OPTIONAL_EMPTY:
                return Optional.empty();
            case Tags.OPTIONAL: {
                charge(OBJECT, "an Optional");
                enter();
                Object v = readObject();
                depth--;
                return Optional.ofNullable(v);
            }
            case Tags.REF: {
                charge(OBJECT, "a reference");
                String key = readString();
                return refs != null ? refs.apply(key) : new Ref(key);
            }
            case Tags.RECORD:
                return readRecord();
            case Tags.ENUM: {
                ClassInfo ci = readClassInfo();
                if (ci.tag != Tags.ENUM) {
                    throw error("class " + ci.type.getName() + " is not an enum");
                }
                long ord = readVarint();
                if (ord < 0 || ord >= ci.enumConstants.length) {
                    throw error("enum " + ci.type.getName() + " has no constant #" + ord + " (it has "
                            + ci.enumConstants.length + "); are both ends running the same code?");
                }
                return ci.enumConstants[(int) ord];
            }
            case Tags.THROWABLE:
                return readThrowable();
            case Tags.LAMBDA:
                return readLambda();
            case Tags.CODEC: {
                Class<?> c = readClass();
                ClassInfo ci = snap.info(c);
                if (ci.tag != Tags.CODEC || ci.wireClass != c) {
                    throw error("no codec is registered for " + c.getName() + "; " + ClassInfo.fixes(c));
                }
                enter();
                Object v = ci.codec.read(this);
                depth--;
                return v;
            }
            case Tags.OBJECT:
                return readPlainObject();
            case Tags.BACKREF:
                return readBackReference();
            default:
                throw error("unknown type tag " + tag);
        }
    }

    private Object readPrimitiveArray(int tag) {
        switch (tag) {
            case Tags.BOOLS: {
                long n = readVarint();
                if (n < 0 || n > (limit - pos) * 8L) {
                    throw error("boolean[] claims " + n + " elements but only " + (limit - pos) + " bytes remain");
                }
                charge(OBJECT + n, "a boolean[]");
                boolean[] a = new boolean[(int) n];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (buf[pos + (i >>> 3)] & (1 << (i & 7))) != 0;
                }
                pos += (int) ((n + 7) / 8);
                return a;
            }
            case Tags.SHORTS: {
                short[] a = new short[primitiveCount(1, 2, "short[]")];
                for (int i = 0; i < a.length; i++) {
                    int v = readZigzagInt();
                    if (v != (short) v) {
                        throw error("short value " + v + " out of range");
                    }
                    a[i] = (short) v;
                }
                return a;
            }
            case Tags.CHARS: {
                char[] a = new char[primitiveCount(1, 2, "char[]")];
                for (int i = 0; i < a.length; i++) {
                    int v = readVarint32();
                    if (v != (char) v) {
                        throw error("char value " + v + " out of range");
                    }
                    a[i] = (char) v;
                }
                return a;
            }
            case Tags.INTS: {
                int[] a = new int[primitiveCount(1, 4, "int[]")];
                for (int i = 0; i < a.length; i++) {
                    a[i] = readZigzagInt();
                }
                return a;
            }
            case Tags.LONGS: {
                long[] a = new long[primitiveCount(1, 8, "long[]")];
                for (int i = 0; i < a.length; i++) {
                    a[i] = readZigzag();
                }
                return a;
            }
            case Tags.FLOATS: {
                float[] a = new float[primitiveCount(4, 4, "float[]")];
                for (int i = 0; i < a.length; i++) {
                    a[i] = Float.intBitsToFloat((int) INTS.get(buf, pos));
                    pos += 4;
                }
                return a;
            }
            default: {
                double[] a = new double[primitiveCount(8, 8, "double[]")];
                for (int i = 0; i < a.length; i++) {
                    a[i] = Double.longBitsToDouble((long) LONGS.get(buf, pos));
                    pos += 8;
                }
                return a;
            }
        }
    }

    /** The length of a primitive array of elements of {@code width} bytes, at least {@code minBytes} each on the wire. */
    private int primitiveCount(int minBytes, int width, String type) {
        int n = readCount(minBytes, type);
        charge(OBJECT + (long) width * n, type);
        return n;
    }

    private Object readObjectArray() {
        Class<?> ct = readClass();
        if (ct.isPrimitive()) {
            throw error("object array of primitive component " + ct.getName());
        }
        int n = readCount(1, "array");
        charge(OBJECT + (long) REF * n, "an object array");
        Object[] a = (Object[]) Array.newInstance(ct, n);
        remember(a);
        enter();
        for (int i = 0; i < n; i++) {
            Object v = readObject();
            if (v != null && !ct.isInstance(v)) {
                throw error(v.getClass().getName() + " in an array of " + ct.getName());
            }
            a[i] = v;
        }
        depth--;
        return a;
    }

    /** A list written by SerialWriter's writeRecords: count, one class, then each record's slots. */
    private Object readRecords() {
        int n = readCount(1, "list of records");
        charge(OBJECT + OBJECT + (long) REF * n, "a list");
        ArrayList<Object> list = new ArrayList<>(Math.min(n, PREALLOC));
        remember(list);
        ClassInfo ci = readClassInfo();
        if (ci.tag != Tags.RECORD) {
            throw error("class " + ci.type.getName() + " is not a record here"
                    + (ci.tag == Tags.UNSUPPORTED ? "; " + ClassInfo.fixes(ci.type) : ""));
        }
        enter();
        for (int i = 0; i < n; i++) {
            list.add(buildRecord(ci));
        }
        depth--;
        return list;
    }

    private Object readRecord() {
        ClassInfo ci = readClassInfo();
        if (ci.tag != Tags.RECORD) {
            throw error("class " + ci.type.getName() + " is not a record here"
                    + (ci.tag == Tags.UNSUPPORTED ? "; " + ClassInfo.fixes(ci.type) : ""));
        }
        return buildRecord(ci);
    }

    /** One record of class {@code ci}: its slots, then its canonical constructor. */
    private Object buildRecord(ClassInfo ci) {
        charge(OBJECT + (long) REF * ci.shape.slots.length, "a record");
        enter();
        Object v;
        try {
            Plan plan = ci.shape.plan();
            v = plan != null ? plan.build(this) : ci.shape.spreadCtor.invokeExact(readComponents(ci));
        } catch (DecodeException | VirtualMachineError e) {
            throw e;
        } catch (RuntimeException e) {
            throw new DecodeException("record " + ci.type.getName() + " rejected the decoded components: " + e, e);
        } catch (Throwable t) {
            throw new DecodeException("record " + ci.type.getName() + " could not be built: " + t, t);
        }
        depth--;
        return v;
    }

    /** A record's components, boxed, each checked against its type (the input may name any class). */
    private Object[] readComponents(ClassInfo ci) {
        ClassInfo.Slot[] slots = ci.shape.slots;
        Object[] args = new Object[slots.length];
        for (int i = 0; i < slots.length; i++) {
            ClassInfo.Slot s = slots[i];
            args[i] = switch (s.kind()) {
                case ClassInfo.P_INT -> readZigzagInt();
                case ClassInfo.P_LONG -> readZigzag();
                case ClassInfo.P_BOOLEAN -> readBoolean();
                case ClassInfo.P_DOUBLE -> readDouble();
                case ClassInfo.P_FLOAT -> readFloat();
                case ClassInfo.P_BYTE -> readByteSlot();
                case ClassInfo.P_SHORT -> readShortSlot();
                case ClassInfo.P_CHAR -> readCharSlot();
                case ClassInfo.P_STRING -> readStringSlot();
                default -> readRefSlot(s.type(), ci.type.getName() + "." + s.name());
            };
        }
        return args;
    }

    /** Reads and sets each field of {@code o}, one handle at a time. */
    private void readFields(ClassInfo.Slot[] slots, Object o) throws Throwable {
        for (ClassInfo.Slot s : slots) {
            MethodHandle set = s.setter();
            switch (s.kind()) {
                case ClassInfo.P_INT -> set.invokeExact(o, readZigzagInt());
                case ClassInfo.P_LONG -> set.invokeExact(o, readZigzag());
                case ClassInfo.P_BOOLEAN -> set.invokeExact(o, readBoolean());
                case ClassInfo.P_DOUBLE -> set.invokeExact(o, readDouble());
                case ClassInfo.P_FLOAT -> set.invokeExact(o, readFloat());
                case ClassInfo.P_BYTE -> set.invokeExact(o, readByteSlot());
                case ClassInfo.P_SHORT -> set.invokeExact(o, readShortSlot());
                case ClassInfo.P_CHAR -> set.invokeExact(o, readCharSlot());
                case ClassInfo.P_STRING -> set.invokeExact(o, readStringSlot());
                default -> set.invokeExact(o, readRefSlot(s.type(), s.name()));
            }
        }
    }

    /**
     * One handle typed (SerialReader)Object that reads a record's components in order and passes them
     * to {@code ctor} (typed (T1..Tn)Object), unboxed: ctor(read1(r), ..., readN(r)), built from the last
     * component back so that the reads run first to last.
     */
    static MethodHandle recordReader(ClassInfo.Slot[] slots, MethodHandle ctor, String recordName) {
        int n = slots.length;
        MethodHandle h = MethodHandles.dropArguments(ctor, 0, SerialReader.class); // (R, T1..Tn)
        for (int k = n - 1; k >= 0; k--) {
            ClassInfo.Slot s = slots[k];
            MethodHandle read = READ_KIND[s.kind()];
            if (s.kind() == ClassInfo.P_REF) {
                read = MethodHandles.insertArguments(read, 1, s.type(), recordName + "." + s.name());
            }
            read = read.asType(MethodType.methodType(s.type(), SerialReader.class));
            MethodHandle c = MethodHandles.collectArguments(h, k + 1, read); // (R, T1..Tk, R)
            int[] order = new int[k + 2];
            for (int i = 0; i <= k; i++) {
                order[i] = i;
            }
            order[k + 1] = 0;
            MethodType t = h.type().dropParameterTypes(k + 1, k + 2);
            h = MethodHandles.permuteArguments(c, t, order);
        }
        return h;
    }

    private Object readPlainObject() {
        ClassInfo ci = readClassInfo();
        Class<?> c = ci.type;
        if (ci.tag != Tags.OBJECT) {
            throw error("class " + c.getName() + " is not decoded field by field here: " + (ci.error != null
                    ? ci.error : "it is a " + (c.isRecord() ? "record" : "type the serializer handles otherwise")
                    + "; are both ends running the same code?"));
        }
        charge(OBJECT + (long) REF * ci.shape.slots.length, "an object");
        Plan plan = ci.shape.plan();
        Object o = ci.shape.maker.make(plan);
        remember(o);
        enter();
        try {
            if (plan != null) {
                plan.read(this, o);
            } else {
                readFields(ci.shape.slots, o);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new DecodeException("setting a field of " + c.getName() + " failed: " + t, t);
        }
        depth--;
        return o;
    }

    private byte readByteSlot() {
        return (byte) readByte();
    }

    private short readShortSlot() {
        int v = readZigzagInt();
        if (v != (short) v) {
            throw error("short value " + v + " out of range");
        }
        return (short) v;
    }

    private char readCharSlot() {
        int v = readVarint32();
        if (v != (char) v) {
            throw error("char value " + v + " out of range");
        }
        return (char) v;
    }

    /** A String field or component: the string, or null, or whatever else decodes to a String. */
    private Object readStringSlot() {
        if (pos < limit && buf[pos] == Tags.STRING) {
            pos++;
            return readString();
        }
        Object v = readObject();
        if (v != null && !(v instanceof String)) {
            throw error("expected a String, but the input has " + v.getClass().getName());
        }
        return v;
    }

    /** A field's value, checked against the field's type (the input may name any class). */
    private Object readRefSlot(Class<?> type, String name) {
        Object v = readObject();
        if (v != null && !type.isInstance(v)) {
            throw error("field " + name + " expects " + type.getName() + " but the input has " + v.getClass().getName());
        }
        return v;
    }

    private static final MethodType SLOTS = MethodType.methodType(void.class, SerialReader.class, Object.class);
    private static final MethodHandle[] READ_KIND = new MethodHandle[ClassInfo.P_STRING + 1];

    static {
        MethodHandles.Lookup l = MethodHandles.lookup();
        try {
            READ_KIND[ClassInfo.P_INT] = l.findVirtual(SerialReader.class, "readZigzagInt", MethodType.methodType(int.class));
            READ_KIND[ClassInfo.P_LONG] = l.findVirtual(SerialReader.class, "readZigzag", MethodType.methodType(long.class));
            READ_KIND[ClassInfo.P_BOOLEAN] = l.findVirtual(SerialReader.class, "readBoolean",
                    MethodType.methodType(boolean.class));
            READ_KIND[ClassInfo.P_DOUBLE] = l.findVirtual(SerialReader.class, "readDouble",
                    MethodType.methodType(double.class));
            READ_KIND[ClassInfo.P_FLOAT] = l.findVirtual(SerialReader.class, "readFloat", MethodType.methodType(float.class));
            READ_KIND[ClassInfo.P_BYTE] = l.findVirtual(SerialReader.class, "readByteSlot", MethodType.methodType(byte.class));
            READ_KIND[ClassInfo.P_SHORT] = l.findVirtual(SerialReader.class, "readShortSlot",
                    MethodType.methodType(short.class));
            READ_KIND[ClassInfo.P_CHAR] = l.findVirtual(SerialReader.class, "readCharSlot", MethodType.methodType(char.class));
            READ_KIND[ClassInfo.P_REF] = l.findVirtual(SerialReader.class, "readRefSlot",
                    MethodType.methodType(Object.class, Class.class, String.class));
            READ_KIND[ClassInfo.P_STRING] = l.findVirtual(SerialReader.class, "readStringSlot",
                    MethodType.methodType(Object.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * One handle typed (SerialReader, Object)void that reads every field in order and sets it: as
     * {@link SerialWriter#slotsWriter}, compiled for the class as a whole once hot.
     */
    static MethodHandle slotsReader(ClassInfo.Slot[] slots) {
        MethodHandle[] steps = new MethodHandle[slots.length];
        for (int i = 0; i < slots.length; i++) {
            ClassInfo.Slot s = slots[i];
            MethodHandle read = READ_KIND[s.kind()];
            if (s.kind() == ClassInfo.P_REF) {
                read = MethodHandles.insertArguments(read, 1, s.type(), s.name());
            }
            MethodHandle set = MethodHandles.filterArguments(s.setter(), 1, read); // (Object, SerialReader)void
            steps[i] = MethodHandles.permuteArguments(set, SLOTS, 1, 0);
        }
        return ClassInfo.sequence(steps, 0, steps.length, SLOTS);
    }

    private String readNullableString() {
        int tag = readByte();
        if (tag == Tags.NULL) {
            return null;
        }
        if (tag != Tags.STRING) {
            throw error("expected a string, found tag " + tag);
        }
        return readString();
    }

    private Throwable readThrowableOrNull() {
        Object v = readObject();
        if (v != null && !(v instanceof Throwable)) {
            throw error("expected an exception, found " + v.getClass().getName());
        }
        return (Throwable) v;
    }

    private Object readThrowable() {
        String className = readName();
        if (snap.closed && !snap.admits(className)) {
            refuseIfClosed(className);
        }
        String message = readNullableString();
        int n = readCount(3, "stack trace");
        charge(OBJECT * 4 + (long) ENTRY * n, "a stack trace");
        StackTraceElement[] st = new StackTraceElement[n];
        for (int i = 0; i < n; i++) {
            String decl = readName();
            String method = readName();
            long flags = readVarint();
            String file = (flags & 1) != 0 ? readName() : null;
            String loader = (flags & 2) != 0 ? readName() : null;
            String module = (flags & 4) != 0 ? readName() : null;
            String version = (flags & 8) != 0 ? readName() : null;
            long z = flags >>> 4;
            st[i] = new StackTraceElement(loader, module, version, decl, method, file, (int) ((z >>> 1) ^ -(z & 1)));
        }
        enter();
        Throwable cause = readThrowableOrNull();
        int ns = readCount(1, "suppressed exceptions");
        charge(OBJECT + (long) REF * ns, "suppressed exceptions");
        Throwable[] suppressed = new Throwable[ns];
        for (int i = 0; i < ns; i++) {
            suppressed[i] = readThrowableOrNull();
        }
        depth--;
        Throwable t = Throwables.rebuild(tryLoad(className), className, message, cause);
        t.setStackTrace(st);
        for (Throwable s : suppressed) {
            if (s != null && s != t) {
                t.addSuppressed(s);
            }
        }
        return t;
    }

    private Object readLambda() {
        if (snap.closed) {
            throw error("a lambda is refused: this endpoint decodes only protocol messages and JDK types"
                    + " (user values travel as opaque bytes)");
        }
        String capturing = readName();
        String fiClass = readName();
        String fiMethod = readString();
        String fiSig = readString();
        int implKind = readVarint32();
        String implClass = readName();
        String implMethod = readString();
        String implSig = readString();
        String instantiated = readString();
        int n = readCount(1, "captured arguments");
        charge(OBJECT * 4 + (long) REF * n, "a lambda");
        Object[] args = new Object[n];
        enter();
        for (int i = 0; i < n; i++) {
            args[i] = readObject();
        }
        depth--;
        Class<?> c = load(capturing);
        SerializedLambda sl = new SerializedLambda(c, fiClass, fiMethod, fiSig, implKind, implClass, implMethod,
                implSig, instantiated, args);
        return Lambdas.deserialize(c, sl);
    }
}
