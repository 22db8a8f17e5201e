package dist.serial;

import java.io.IOException;
import java.io.InputStream;
import java.lang.constant.ConstantDescs;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;

/**
 * A class's composed handles (write its slots, read its fields, create an instance) behind one
 * virtual call each. Each class gets a hidden class of its own made from {@link PlanTemplate}'s bytes
 * with the handles as its class data, held in static finals: the JIT then treats them as constants and
 * compiles the whole chain of getters, setters and writes into that call. A handle held in a plain
 * field costs a dispatch and a customization check per call instead ({@link Generic}, the fallback
 * when the template cannot be read).
 */
abstract class Plan {

    /** (SerialWriter, Object)void. */
    abstract void write(SerialWriter w, Object o) throws Throwable;

    /** (SerialReader, Object)void. */
    abstract void read(SerialReader r, Object o) throws Throwable;

    /** ()Object. */
    abstract Object make() throws Throwable;

    /** (SerialReader)Object: reads a record's components and calls its canonical constructor. */
    abstract Object build(SerialReader r) throws Throwable;

    private static final byte[] TEMPLATE = template();

    private static byte[] template() {
        try (InputStream in = Plan.class.getResourceAsStream("PlanTemplate.class")) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** A plan over these handles (any may be null when the class has no use for it). */
    static Plan of(MethodHandle write, MethodHandle read, MethodHandle make, MethodHandle build) {
        write = write != null ? write : MethodHandles.empty(
                MethodType.methodType(void.class, SerialWriter.class, Object.class));
        read = read != null ? read : MethodHandles.empty(
                MethodType.methodType(void.class, SerialReader.class, Object.class));
        make = make != null ? make : MethodHandles.empty(MethodType.methodType(Object.class));
        build = build != null ? build : MethodHandles.empty(MethodType.methodType(Object.class, SerialReader.class));
        if (TEMPLATE != null) {
            try {
                MethodHandles.Lookup hidden = MethodHandles.lookup().defineHiddenClassWithClassData(TEMPLATE,
                        List.of(write, read, make, build), true);
                return (Plan) hidden.findConstructor(hidden.lookupClass(), MethodType.methodType(void.class)).invoke();
            } catch (Throwable e) {
                // a class loader or security setting that refuses hidden classes: the slower plan works too
            }
        }
        return new Generic(write, read, make, build);
    }

    static final class Generic extends Plan {
        private final MethodHandle write, read, make, build;

        Generic(MethodHandle write, MethodHandle read, MethodHandle make, MethodHandle build) {
            this.write = write;
            this.read = read;
            this.make = make;
            this.build = build;
        }

        @Override
        Object build(SerialReader r) throws Throwable {
            return build.invokeExact(r);
        }

        @Override
        void write(SerialWriter w, Object o) throws Throwable {
            write.invokeExact(w, o);
        }

        @Override
        void read(SerialReader r, Object o) throws Throwable {
            read.invokeExact(r, o);
        }

        @Override
        Object make() throws Throwable {
            return make.invokeExact();
        }
    }

    /** Reads the handle at {@code index} of a hidden class's class data. */
    static MethodHandle classData(MethodHandles.Lookup lookup, int index) {
        try {
            return MethodHandles.classDataAt(lookup, ConstantDescs.DEFAULT_NAME, MethodHandle.class, index);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }
}
