package dist.serial;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.SerializedLambda;
import java.lang.reflect.Method;

/** Serializable lambdas and method references, through their {@link SerializedLambda} form. */
final class Lambdas {
    private Lambdas() {
    }

    /** The lambda class's writeReplace typed (Object)Object, or null when it has none. */
    static MethodHandle writeReplace(Class<?> c) {
        if (!java.io.Serializable.class.isAssignableFrom(c)) {
            return null;
        }
        try {
            Method m = c.getDeclaredMethod("writeReplace");
            m.setAccessible(true);
            return MethodHandles.lookup().unreflect(m).asType(MethodType.methodType(Object.class, Object.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Why a serializable lambda of {@code c} cannot be read, when the reason is a module that does
     * not open the lambda's package to dist: the {@code opens} line to add, ready to copy; else null.
     */
    static String closedModule(Class<?> c) {
        Module owner = c.getModule();
        Module self = Lambdas.class.getModule();
        String pkg = c.getPackageName();
        if (!owner.isNamed() || owner.isOpen(pkg, self)) {
            return null;
        }
        String line = self.isNamed() ? "opens " + pkg + " to " + self.getName() + ";" : "opens " + pkg + ";";
        return "lambda " + c.getName() + " cannot be encoded: module " + owner.getName() + " does not open package "
                + pkg + " to " + (self.isNamed() ? "module " + self.getName() : "the class path, where dist is")
                + ", so its serialized form cannot be read; add \"" + line + "\" to module-info.java of "
                + owner.getName();
    }

    /** Each capturing class's $deserializeLambda$, looked up once. */
    private static final ClassValue<Object> DESERIALIZERS = new ClassValue<>() {
        @Override
        protected Object computeValue(Class<?> type) {
            try {
                Method m = type.getDeclaredMethod("$deserializeLambda$", SerializedLambda.class);
                m.setAccessible(true);
                return MethodHandles.lookup().unreflect(m)
                        .asType(MethodType.methodType(Object.class, SerializedLambda.class));
            } catch (NoSuchMethodException e) {
                return "class " + type.getName() + " defines no serializable lambda";
            } catch (ReflectiveOperationException | RuntimeException e) {
                return "cannot access " + type.getName() + ".$deserializeLambda$: " + e;
            }
        }
    };

    static Object deserialize(Class<?> capturing, SerializedLambda sl) {
        Object d = DESERIALIZERS.get(capturing);
        if (d instanceof String s) {
            throw new DecodeException(s);
        }
        try {
            return ((MethodHandle) d).invokeExact(sl);
        } catch (RuntimeException e) {
            throw new DecodeException("lambda " + sl.getImplClass() + "." + sl.getImplMethodName()
                    + " captured in " + capturing.getName() + " does not rebuild (" + e
                    + "); are both ends running the same code?", e);
        } catch (Throwable t) {
            throw new DecodeException("lambda in " + capturing.getName() + " does not rebuild: " + t, t);
        }
    }
}
