package dist.serial;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;

/** Rebuilds decoded exceptions as their original class when possible. */
final class Throwables {
    private Throwables() {
    }

    private static final int WITH_CAUSE = 0, MESSAGE = 1, NONE = 2;

    /** A constructor typed (String, Throwable)Throwable, (String)Throwable or ()Throwable. */
    private record Maker(int kind, Class<?> causeType, MethodHandle ctor) {
    }

    /**
     * Each exception class's usable constructors, best first: (String, cause type) for every
     * Throwable cause type it accepts, then (String), then ().
     */
    private static final ClassValue<Maker[]> MAKERS = new ClassValue<>() {
        @Override
        protected Maker[] computeValue(Class<?> type) {
            List<Maker> withCause = new ArrayList<>();
            Maker message = null;
            Maker none = null;
            if (!Modifier.isAbstract(type.getModifiers())) {
                for (Constructor<?> k : type.getDeclaredConstructors()) {
                    Class<?>[] p = k.getParameterTypes();
                    try {
                        if (p.length == 2 && p[0] == String.class && Throwable.class.isAssignableFrom(p[1])) {
                            withCause.add(new Maker(WITH_CAUSE, p[1], handle(k, String.class, Throwable.class)));
                        } else if (p.length == 1 && p[0] == String.class) {
                            message = new Maker(MESSAGE, null, handle(k, String.class));
                        } else if (p.length == 0) {
                            none = new Maker(NONE, null, handle(k));
                        }
                    } catch (ReflectiveOperationException | RuntimeException e) {
                        // not accessible: not usable
                    }
                }
            }
            withCause.sort((a, b) -> a.causeType == Throwable.class ? -1 : b.causeType == Throwable.class ? 1 : 0);
            if (message != null) {
                withCause.add(message);
            }
            if (none != null) {
                withCause.add(none);
            }
            return withCause.toArray(Maker[]::new);
        }

        private MethodHandle handle(Constructor<?> k, Class<?>... params) throws ReflectiveOperationException {
            k.setAccessible(true);
            return MethodHandles.lookup().unreflectConstructor(k)
                    .asType(MethodType.methodType(Throwable.class, params));
        }
    };

    /** The original class when it is a loadable Throwable with a usable constructor, else a RemoteException. */
    static Throwable rebuild(Class<?> c, String className, String message, Throwable cause) {
        if (c != null && Throwable.class.isAssignableFrom(c) && c != RemoteException.class) {
            for (Maker m : MAKERS.get(c)) {
                if (m.kind == WITH_CAUSE && cause != null && !m.causeType.isInstance(cause)) {
                    continue;
                }
                Throwable t;
                try {
                    t = switch (m.kind) {
                        case WITH_CAUSE -> (Throwable) m.ctor.invokeExact(message, cause);
                        case MESSAGE -> (Throwable) m.ctor.invokeExact(message);
                        default -> (Throwable) m.ctor.invokeExact();
                    };
                } catch (Throwable e) {
                    continue; // this constructor rejects these arguments; try the next
                }
                if (t == null) {
                    continue;
                }
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
