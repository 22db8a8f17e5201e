package dist.serial;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;

/**
 * Never loaded as itself: {@link Plan} defines its bytes anew as a hidden class per encoded class,
 * whose class data fills these constants.
 */
final class PlanTemplate extends Plan {
    private static final MethodHandle WRITE = Plan.classData(MethodHandles.lookup(), 0);
    private static final MethodHandle READ = Plan.classData(MethodHandles.lookup(), 1);
    private static final MethodHandle MAKE = Plan.classData(MethodHandles.lookup(), 2);
    private static final MethodHandle BUILD = Plan.classData(MethodHandles.lookup(), 3);

    @Override
    void write(SerialWriter w, Object o) throws Throwable {
        WRITE.invokeExact(w, o);
    }

    @Override
    void read(SerialReader r, Object o) throws Throwable {
        READ.invokeExact(r, o);
    }

    @Override
    Object make() throws Throwable {
        return MAKE.invokeExact();
    }

    @Override
    Object build(SerialReader r) throws Throwable {
        return BUILD.invokeExact(r);
    }
}
