package dist.serial;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;

/** How one class is encoded: computed once per class and registry configuration. */
final class ClassInfo {

    final Class<?> type;
    /** One of the {@link Tags} values that starts this class's encoding. */
    final int tag;
    /** The class written on the wire (the registered class for codecs, the declaring class for enums). */
    final Class<?> wireClass;
    /** The wire class's alias, or -1. */
    final int alias;
    final ClassCodec<Object> codec;
    final Shape shape;
    final Object[] enumConstants;
    final MethodHandle writeReplace;
    /** Why this class cannot be encoded, for {@link Tags#UNSUPPORTED}. */
    final String error;

    private ClassInfo(Class<?> type, int tag, Class<?> wireClass, Registry.Snapshot snap, ClassCodec<Object> codec,
                      Shape shape, Object[] enumConstants, MethodHandle writeReplace, String error) {
        this.type = type;
        this.tag = tag;
        this.wireClass = wireClass;
        Integer a = wireClass == null ? null : snap.aliasByClass.get(wireClass);
        this.alias = a == null ? -1 : a;
        this.codec = codec;
        this.shape = shape;
        this.enumConstants = enumConstants;
        this.writeReplace = writeReplace;
        this.error = error;
    }

    private static ClassInfo simple(Class<?> type, int tag, Registry.Snapshot snap) {
        return new ClassInfo(type, tag, type, snap, null, null, null, null, null);
    }

    private static ClassInfo unsupported(Class<?> type, Registry.Snapshot snap, String error) {
        return new ClassInfo(type, Tags.UNSUPPORTED, type, snap, null, null, null, null, error);
    }

    @SuppressWarnings("unchecked")
    static ClassInfo of(Class<?> c, Registry.Snapshot snap) {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            ClassCodec<?> codec = snap.codecs.get(k);
            if (codec != null) {
                return new ClassInfo(c, Tags.CODEC, k, snap, (ClassCodec<Object>) codec, null, null, null, null);
            }
        }
        if (c == String.class) return simple(c, Tags.STRING, snap);
        if (c == Integer.class) return simple(c, Tags.INT, snap);
        if (c == Long.class) return simple(c, Tags.LONG, snap);
        if (c == Boolean.class) return simple(c, Tags.TRUE, snap);
        if (c == Double.class) return simple(c, Tags.DOUBLE, snap);
        if (c == Float.class) return simple(c, Tags.FLOAT, snap);
        if (c == Byte.class) return simple(c, Tags.BYTE, snap);
        if (c == Short.class) return simple(c, Tags.SHORT, snap);
        if (c == Character.class) return simple(c, Tags.CHAR, snap);
        if (c == Ref.class) return simple(c, Tags.REF, snap);
        if (c == Optional.class) return simple(c, Tags.OPTIONAL, snap);
        if (c.isArray()) {
            Class<?> ct = c.getComponentType();
            if (ct == byte.class) return simple(c, Tags.BYTES, snap);
            if (ct == boolean.class) return simple(c, Tags.BOOLS, snap);
            if (ct == short.class) return simple(c, Tags.SHORTS, snap);
            if (ct == char.class) return simple(c, Tags.CHARS, snap);
            if (ct == int.class) return simple(c, Tags.INTS, snap);
            if (ct == long.class) return simple(c, Tags.LONGS, snap);
            if (ct == float.class) return simple(c, Tags.FLOATS, snap);
            if (ct == double.class) return simple(c, Tags.DOUBLES, snap);
            return new ClassInfo(c, Tags.OBJECTS, ct, snap, null, null, null, null, null);
        }
        if (c.isRecord()) {
            try {
                return new ClassInfo(c, Tags.RECORD, c, snap, null, Shape.ofRecord(c), null, null, null);
            } catch (ReflectiveOperationException | RuntimeException e) {
                return unsupported(c, snap, "record " + c.getName() + " is not accessible (" + e
                        + "); open its package to dist.serial or " + fixes(c));
            }
        }
        if (Enum.class.isAssignableFrom(c)) {
            Class<?> decl = c.isEnum() ? c : c.getSuperclass();
            return new ClassInfo(c, Tags.ENUM, decl, snap, null, null, decl.getEnumConstants(), null, null);
        }
        if (Throwable.class.isAssignableFrom(c)) return simple(c, Tags.THROWABLE, snap);
        if (c.isSynthetic() || c.isHidden()) {
            MethodHandle wr = Lambdas.writeReplace(c);
            if (wr != null) {
                return new ClassInfo(c, Tags.LAMBDA, null, snap, null, null, null, wr, null);
            }
            String closed = java.io.Serializable.class.isAssignableFrom(c) ? Lambdas.closedModule(c) : null;
            if (closed != null) {
                return unsupported(c, snap, closed);
            }
            if (!java.io.Serializable.class.isAssignableFrom(c) && c.getInterfaces().length > 0) {
                return unsupported(c, snap, "lambda " + c.getName() + " is not serializable: make its target"
                        + " interface extend java.io.Serializable (for example dist's Fn1), or cast it to"
                        + " (Fn1<A, R> & java.io.Serializable)");
            }
        }
        if (SortedSet.class.isAssignableFrom(c)) return simple(c, Tags.SORTED_SET, snap);
        if (Set.class.isAssignableFrom(c)) return simple(c, Tags.SET, snap);
        if (Collection.class.isAssignableFrom(c)) return simple(c, Tags.LIST, snap);
        if (SortedMap.class.isAssignableFrom(c)) return simple(c, Tags.SORTED_MAP, snap);
        if (Map.class.isAssignableFrom(c)) return simple(c, Tags.MAP, snap);
        if (!snap.strict || snap.allowed(c.getName())) {
            if (c.isHidden()) {
                return unsupported(c, snap, "cannot encode " + c.getName() + ": a hidden class has no name another"
                        + " process could load; register a codec for a class it extends or send a record instead");
            }
            String closed = closedModule(c);
            if (closed != null) {
                return unsupported(c, snap, closed);
            }
            try {
                return new ClassInfo(c, Tags.OBJECT, c, snap, null, Shape.ofObject(c), null, null, null);
            } catch (ReflectiveOperationException | RuntimeException e) {
                return unsupported(c, snap, "cannot encode " + c.getName() + " field by field (" + e
                        + "); register a codec with Registry.register(" + c.getName().replace('$', '.')
                        + ".class, codec)");
            }
        }
        return unsupported(c, snap, "cannot encode " + c.getName() + ": it is not a built-in type, record, enum,"
                + " exception or serializable lambda, and this registry is strict (" + Registry.STRICT_KEY
                + "=true); " + fixes(c));
    }

    /**
     * Why {@code c} cannot go field by field because a class of its chain that has fields sits in a
     * module that does not open its package to dist (the JDK's own classes, unless opened): what to
     * add, ready to copy; else null.
     */
    static String closedModule(Class<?> c) {
        Module self = ClassInfo.class.getModule();
        for (Class<?> k = c; k != null && k != Object.class; k = k.getSuperclass()) {
            Module owner = k.getModule();
            String pkg = k.getPackageName();
            if (!owner.isNamed() || owner.isOpen(pkg, self) || !hasInstanceFields(k)) {
                continue;
            }
            String who = self.isNamed() ? self.getName() : "ALL-UNNAMED";
            String open = owner.getClassLoader() == null || owner.getName().startsWith("java.")
                    || owner.getName().startsWith("jdk.")
                    ? "the JVM option --add-opens " + owner.getName() + "/" + pkg + "=" + who
                    : "\"opens " + pkg + (self.isNamed() ? " to " + self.getName() : "") + ";\" in module-info.java of "
                    + owner.getName() + " (or the JVM option --add-opens " + owner.getName() + "/" + pkg + "=" + who
                    + ")";
            return "cannot encode " + c.getName() + " field by field: " + (k == c ? "it" : "its superclass "
                    + k.getName()) + " is in module " + owner.getName() + ", which does not open package " + pkg
                    + " to dist; register a codec with Registry.register(" + c.getName().replace('$', '.')
                    + ".class, codec), or open the package with " + open;
        }
        return null;
    }

    private static boolean hasInstanceFields(Class<?> k) {
        for (Field f : k.getDeclaredFields()) {
            int mod = f.getModifiers();
            if (!Modifier.isStatic(mod) && !Modifier.isTransient(mod)) {
                return true;
            }
        }
        return false;
    }

    static String fixes(Class<?> c) {
        return fixes(c.getName());
    }

    static String fixes(String name) {
        int dot = name.lastIndexOf('.');
        String pkg = dot < 0 ? "" : " or allow(\"" + name.substring(0, dot) + ".*\")";
        return "register a codec with Registry.register(" + name.replace('$', '.') + ".class, codec) or allow"
                + " field-by-field encoding with Registry.allow(\"" + name + "\")" + pkg;
    }

    /**
     * Calls {@code steps[from..to)} in order, each of {@code type} (void, same arguments): a balanced
     * tree, so that a class of many fields still nests only log2(n) deep.
     */
    static MethodHandle sequence(MethodHandle[] steps, int from, int to, MethodType type) {
        if (to - from == 0) {
            return MethodHandles.empty(type);
        }
        if (to - from == 1) {
            return steps[from];
        }
        int mid = (from + to) >>> 1;
        return MethodHandles.foldArguments(sequence(steps, mid, to, type), sequence(steps, from, mid, type));
    }

    /** Kinds of record components and fields: primitives are written untagged. */
    static final int P_BOOLEAN = 0, P_BYTE = 1, P_SHORT = 2, P_CHAR = 3, P_INT = 4, P_LONG = 5, P_FLOAT = 6,
            P_DOUBLE = 7, P_REF = 8,
            /** A String field or component: the same bytes as P_REF, read and written without the dispatch. */
            P_STRING = 9;

    static int slotKind(Class<?> t) {
        if (t == boolean.class) return P_BOOLEAN;
        if (t == byte.class) return P_BYTE;
        if (t == short.class) return P_SHORT;
        if (t == char.class) return P_CHAR;
        if (t == int.class) return P_INT;
        if (t == long.class) return P_LONG;
        if (t == float.class) return P_FLOAT;
        if (t == double.class) return P_DOUBLE;
        if (t == String.class) return P_STRING;
        return P_REF;
    }

    /** A record component or a field. The getter is typed (Object)T, the setter (Object,T)void. */
    record Slot(String name, int kind, Class<?> type, MethodHandle getter, MethodHandle setter) {
    }

    /**
     * The components of a record (with its canonical constructor typed (T1..Tn)Object) or the fields
     * of an ordinary class, superclasses' first (with the {@link Maker} that creates an instance).
     */
    static final class Shape {
        final Slot[] slots;
        /** A record's canonical constructor typed (T1..Tn)Object, and spread: (Object[])Object. */
        final MethodHandle ctor, spreadCtor;
        final String error;
        final Maker maker;
        private final String name;
        /** Writes every slot; for an ordinary class also reads and sets every field, and creates an instance. */
        private volatile Plan plan;
        /** Uses before the plan is built (racy: an extra use or an extra build does no harm). */
        private int uses;

        /**
         * Uses of a class before its plan is compiled. Until then its slots are walked one handle at a
         * time: a class met a few times (most protocol messages) costs no hidden class and no composed
         * handles at start, and a class that stays in use pays for them once.
         */
        static final int HOT = 200;

        private Shape(String name, Slot[] slots, MethodHandle ctor, String error, Maker maker) {
            this.name = name;
            this.slots = slots;
            this.ctor = ctor;
            this.spreadCtor = ctor == null ? null : ctor.asSpreader(Object[].class, slots.length)
                    .asType(MethodType.methodType(Object.class, Object[].class));
            this.error = error;
            this.maker = maker;
        }

        /** The compiled plan once this class is hot, else null: walk the slots. */
        Plan plan() {
            Plan p = plan;
            if (p == null && ++uses > HOT) {
                p = Plan.of(SerialWriter.slotsWriter(slots), maker == null ? null : SerialReader.slotsReader(slots),
                        maker == null || maker.ctors.length == 0 ? null : maker.ctors[0],
                        maker == null && ctor != null ? SerialReader.recordReader(slots, ctor, name) : null);
                plan = p;
            }
            return p;
        }

        private static MethodType getterType(Class<?> t) {
            return MethodType.methodType(t.isPrimitive() ? t : Object.class, Object.class);
        }

        static Shape ofRecord(Class<?> c) throws ReflectiveOperationException {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            RecordComponent[] rc = c.getRecordComponents();
            Slot[] slots = new Slot[rc.length];
            Class<?>[] types = new Class<?>[rc.length];
            for (int i = 0; i < rc.length; i++) {
                Method m = rc[i].getAccessor();
                m.setAccessible(true);
                Class<?> t = rc[i].getType();
                types[i] = t;
                MethodHandle g = lookup.unreflect(m).asType(getterType(t));
                slots[i] = new Slot(rc[i].getName(), slotKind(t), t, g, null);
            }
            Constructor<?> k = c.getDeclaredConstructor(types);
            k.setAccessible(true);
            MethodHandle ctor = lookup.unreflectConstructor(k).asType(MethodType.methodType(Object.class, types));
            return new Shape(c.getName(), slots, ctor, null, null);
        }

        static Shape ofObject(Class<?> c) throws ReflectiveOperationException {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            List<Class<?>> chain = new ArrayList<>();
            for (Class<?> k = c; k != null && k != Object.class; k = k.getSuperclass()) {
                chain.add(0, k);
            }
            List<Slot> slots = new ArrayList<>();
            for (Class<?> k : chain) {
                for (Field f : k.getDeclaredFields()) {
                    int mod = f.getModifiers();
                    if (Modifier.isStatic(mod) || Modifier.isTransient(mod)) {
                        continue;
                    }
                    f.setAccessible(true);
                    Class<?> t = f.getType();
                    MethodHandle g = lookup.unreflectGetter(f).asType(getterType(t));
                    MethodHandle s = lookup.unreflectSetter(f).asType(
                            MethodType.methodType(void.class, Object.class, t.isPrimitive() ? t : Object.class));
                    slots.add(new Slot(k.getName() + "." + f.getName(), slotKind(t), t, g, s));
                }
            }
            return new Shape(c.getName(), slots.toArray(Slot[]::new), null, null, new Maker(c, lookup));
        }
    }

    /**
     * Creates the instance that decoded fields are written into, without Java serialization, Unsafe or
     * ReflectionFactory: the no-arg constructor (of any access) when the class has one; else each other
     * constructor, fewest parameters first, called with null, zero and false. Every non-transient field is
     * then overwritten, so only what a constructor does besides setting fields (a check that rejects
     * null, a side effect) shows. The first constructor that worked is tried first next time.
     */
    static final class Maker {
        private final String className;
        /** Each typed ()Object, its arguments bound; the first is also the plan's. */
        final MethodHandle[] ctors;
        private final String[] signatures;
        private final int[] params;
        private volatile int first;

        Maker(Class<?> c, MethodHandles.Lookup lookup) {
            this.className = c.getName();
            List<Constructor<?>> ks = new ArrayList<>(List.of(c.getDeclaredConstructors()));
            ks.sort(java.util.Comparator.comparingInt(Constructor::getParameterCount));
            List<MethodHandle> hs = new ArrayList<>();
            List<String> sigs = new ArrayList<>();
            List<Integer> counts = new ArrayList<>();
            if (!Modifier.isAbstract(c.getModifiers())) {
                for (Constructor<?> k : ks) {
                    if (!k.trySetAccessible()) {
                        continue;
                    }
                    try {
                        MethodHandle h = lookup.unreflectConstructor(k);
                        Class<?>[] ps = k.getParameterTypes();
                        Object[] args = new Object[ps.length];
                        for (int i = 0; i < ps.length; i++) {
                            args[i] = ps[i].isPrimitive() ? MethodHandles.zero(ps[i]).invoke() : null;
                        }
                        hs.add(MethodHandles.insertArguments(h, 0, args).asType(MethodType.methodType(Object.class)));
                        sigs.add(k.toString());
                        counts.add(ps.length);
                    } catch (Throwable e) {
                        // not usable: the next one may be
                    }
                }
            }
            this.ctors = hs.toArray(MethodHandle[]::new);
            this.signatures = sigs.toArray(String[]::new);
            this.params = counts.stream().mapToInt(Integer::intValue).toArray();
        }

        Object make(Plan plan) {
            int start = first;
            Throwable failure = null;
            int failed = -1;
            int n = 0;
            if (start == 0 && ctors.length > 0) {
                try {
                    return plan != null ? plan.make() : ctors[0].invokeExact();
                } catch (VirtualMachineError e) {
                    throw e;
                } catch (Throwable t) {
                    failure = t; // the others are tried below; this one is named if none works
                    failed = 0;
                    n = 1;
                }
            }
            for (; n < ctors.length; n++) {
                int i = (start + n) % ctors.length;
                try {
                    Object o = i == 0 && plan != null ? plan.make() : ctors[i].invokeExact();
                    if (i != start) {
                        first = i;
                    }
                    return o;
                } catch (VirtualMachineError e) {
                    throw e;
                } catch (Throwable t) {
                    if (failure == null) {
                        failure = t;
                        failed = i;
                    }
                }
            }
            String fix = "; add a no-arg constructor (it may be private) or register a codec with Registry.register("
                    + className.replace('$', '.') + ".class, codec)";
            if (failure == null) {
                throw new DecodeException("cannot create " + className + ": it has no constructor dist can call" + fix);
            }
            throw new DecodeException("cannot create " + className + ": its constructor " + signatures[failed]
                    + (params[failed] == 0 ? " threw " : " called with null, 0 and false threw ") + failure + fix,
                    failure);
        }
    }
}
