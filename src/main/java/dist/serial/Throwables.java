package dist.serial;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;

/** Rebuilds decoded exceptions as their original class when possible. */
final class Throwables {
    private Throwables() {
    }

    private static final int WITH_CAUSE = 0, MESSAGE = 1, NONE = 2;

    private record Maker(int kind, MethodHandle ctor) {
    }

    /** Each exception class's best constructor: (String, Throwable), (String), then (). */
    private static final ClassValue<Maker> MAKERS = new ClassValue<>() {
        @Override
        protected Maker computeValue(Class<?> type) {
            if (java.lang.reflect.Modifier.isAbstract(type.getModifiers())) {
                return null;
            }
            Maker m = find(type, WITH_CAUSE, String.class, Throwable.class);
            if (m == null) {
                m = find(type, MESSAGE, String.class);
            }
            if (m == null) {
                m = find(type, NONE);
            }
            return m;
        }

        private Maker find(Class<?> type, int kind, Class<?>... params) {
            try {
                Constructor<?> k = type.getDeclaredConstructor(params);
                k.setAccessible(true);
                MethodHandle h = MethodHandles.lookup().unreflectConstructor(k);
                return new Maker(kind, h.asType(MethodType.methodType(Throwable.class, params)));
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }
    };

    /** The original class when it is a loadable Throwable with a usable constructor, else a RemoteException. */
    static Throwable rebuild(Class<?> c, String className, String message, Throwable cause) {
        if (c != null && Throwable.class.isAssignableFrom(c) && c != RemoteException.class) {
            Throwable t = null;
            try {
                Maker m = MAKERS.get(c);
                if (m != null) {
                    t = switch (m.kind) {
                        case WITH_CAUSE -> (Throwable) m.ctor.invokeExact(message, cause);
                        case MESSAGE -> (Throwable) m.ctor.invokeExact(message);
                        default -> (Throwable) m.ctor.invokeExact();
                    };
                }
            } catch (Throwable e) {
                t = null; // its constructor failed; fall back below
            }
            if (t != null) {
                if (cause != null && t.getCause() != cause) {
                    try {
                        t.initCause(cause);
                    } catch (RuntimeException e) {
                        // the class fixed its own cause; keep it
                    }
                }
                return t;
            }
        }
        return new RemoteException(className, message, cause);
    }
}
