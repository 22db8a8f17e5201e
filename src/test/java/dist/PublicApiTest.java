package dist;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What package dist shows its users: only its own and the JDK's types, and unchecked exceptions, so
 * a caller never needs an internal package nor a try block that can only rethrow.
 */
class PublicApiTest {
    /**
     * Types of other dist packages the API may name. CommConfig (with its Liveness and Security) is
     * the connection settings Client.connect takes: it lives with the comm layer that reads it, which
     * sits below package dist. Invokable is what a worker calls; the Fn types extend it for that.
     * WorkerHooks and NannyHooks are what a worker and a nanny call on a plugin, and their contexts
     * what a plugin sees there: WorkerPlugin and NannyPlugin extend them for that.
     */
    private static final Set<String> ALLOWED = Set.of("dist.comm.CommConfig", "dist.comm.CommConfig$Liveness",
            "dist.comm.Security", "dist.protocol.Invokable", "dist.worker.WorkerHooks", "dist.worker.WorkerContext",
            "dist.nanny.NannyHooks", "dist.nanny.NannyContext");

    /** Checked exceptions the API may declare: the JDK contracts it implements, and user code it runs. */
    private static final Set<String> CHECKED_ALLOWED = Set.of(
            "dist.Future.get", // java.util.concurrent.Future's contract
            "dist.Client.recreateTaskLocally", "dist.Client.recreateErrorLocally", // run the user's task here
            // a plugin's own code, run on a worker or nanny: what it throws fails its registration
            "dist.WorkerPlugin.setup", "dist.WorkerPlugin.teardown", "dist.NannyPlugin.setup", "dist.NannyPlugin.teardown",
            "dist.Launcher.main",
            // the signatures of java.util.concurrent.Semaphore's, which ClusterSemaphore mirrors
            "dist.ClusterSemaphore.acquire", "dist.ClusterSemaphore.tryAcquire",
            // java.util.concurrent.BlockingQueue's contract
            "dist.SharedQueue.put", "dist.SharedQueue.offer", "dist.SharedQueue.poll", "dist.SharedQueue.take",
            // written by the user, called by dist: a user's way to start or stop a worker may throw anything
            "dist.AbstractClusterManager.startWorker", "dist.AbstractClusterManager.stopWorker");

    /** Whether {@code m} implements a method of a JDK type that declares {@code x} (e.g. Lock.tryLock). */
    private static boolean jdkContract(Class<?> c, Executable m, Class<?> x) {
        if (!(m instanceof java.lang.reflect.Method method)) {
            return false;
        }
        java.util.ArrayDeque<Class<?>> todo = new java.util.ArrayDeque<>(List.of(c.getInterfaces()));
        if (c.getSuperclass() != null) {
            todo.add(c.getSuperclass());
        }
        while (!todo.isEmpty()) {
            Class<?> t = todo.poll();
            if (t.getName().startsWith("java.")) {
                try {
                    java.lang.reflect.Method j = t.getMethod(method.getName(), method.getParameterTypes());
                    for (Class<?> declared : j.getExceptionTypes()) {
                        if (declared.isAssignableFrom(x)) {
                            return true;
                        }
                    }
                } catch (NoSuchMethodException e) {
                    // not this type's method
                }
            }
            todo.addAll(List.of(t.getInterfaces()));
            if (t.getSuperclass() != null) {
                todo.add(t.getSuperclass());
            }
        }
        return false;
    }

    @Test
    void publicSignaturesNameOnlyPublicTypes() throws Exception {
        List<String> leaks = new ArrayList<>();
        for (Class<?> c : apiClasses()) {
            for (Type t : c.getGenericInterfaces()) {
                check(c.getName() + " implements", t, leaks);
            }
            if (c.getGenericSuperclass() != null) {
                check(c.getName() + " extends", c.getGenericSuperclass(), leaks);
            }
            for (Method m : c.getDeclaredMethods()) {
                if (visible(m.getModifiers()) && !m.isSynthetic()) {
                    check(c.getName() + "." + m.getName(), m.getGenericReturnType(), leaks);
                    signature(c.getName() + "." + m.getName(), m, leaks);
                }
            }
            for (Constructor<?> k : c.getDeclaredConstructors()) {
                if (visible(k.getModifiers()) && !k.isSynthetic()) {
                    signature(c.getName() + ".<init>", k, leaks);
                }
            }
            for (Field f : c.getDeclaredFields()) {
                if (visible(f.getModifiers()) && !f.isSynthetic()) {
                    check(c.getName() + "." + f.getName(), f.getGenericType(), leaks);
                }
            }
        }
        assertEquals(List.of(), leaks, "public API naming internal types");
    }

    @Test
    void publicMethodsDeclareNoCheckedExceptionsBeyondTheJdkContracts() throws Exception {
        List<String> checked = new ArrayList<>();
        for (Class<?> c : apiClasses()) {
            List<Executable> all = new ArrayList<>(List.of(c.getDeclaredMethods()));
            all.addAll(List.of(c.getDeclaredConstructors()));
            for (Executable e : all) {
                String name = c.getName() + "." + e.getName();
                if (!visible(e.getModifiers()) || e.isSynthetic() || CHECKED_ALLOWED.contains(name)
                        || c.getSimpleName().matches("Fn\\d")) { // a user's function may throw anything
                    continue;
                }
                for (Class<?> x : e.getExceptionTypes()) {
                    if (!RuntimeException.class.isAssignableFrom(x) && !Error.class.isAssignableFrom(x)
                            && !jdkContract(c, e, x)) {
                        checked.add(name + " throws " + x.getName());
                    }
                }
            }
        }
        assertEquals(List.of(), checked);
    }

    @Test
    void everyExceptionOfTheApiIsADistException() {
        for (Class<?> x : List.of(DistTimeoutException.class, DistInterruptedException.class,
                SchedulerUnavailableException.class, TaskCancelledException.class, TaskFailedException.class,
                KilledWorkerException.class, NoValidWorkerException.class)) {
            assertTrue(DistException.class.isAssignableFrom(x), x.getName());
        }
        assertTrue(RuntimeException.class.isAssignableFrom(DistException.class));
    }

    private static void signature(String where, Executable e, List<String> leaks) {
        for (Type p : e.getGenericParameterTypes()) {
            check(where, p, leaks);
        }
        for (Type x : e.getGenericExceptionTypes()) {
            check(where, x, leaks);
        }
    }

    private static void check(String where, Type t, List<String> leaks) {
        switch (t) {
            case Class<?> c when c.isArray() -> check(where, c.getComponentType(), leaks);
            case Class<?> c -> {
                String n = c.getName();
                boolean internal = n.startsWith("dist.") && n.lastIndexOf('.') > "dist".length();
                if (internal && !ALLOWED.contains(n)) {
                    leaks.add(where + " -> " + n);
                }
            }
            case ParameterizedType p -> {
                check(where, p.getRawType(), leaks);
                for (Type a : p.getActualTypeArguments()) {
                    check(where, a, leaks);
                }
            }
            case GenericArrayType g -> check(where, g.getGenericComponentType(), leaks);
            case WildcardType w -> {
                for (Type b : w.getUpperBounds()) {
                    check(where, b, leaks);
                }
                for (Type b : w.getLowerBounds()) {
                    check(where, b, leaks);
                }
            }
            case TypeVariable<?> v -> {
                // bounds are checked where the variable is declared; following them here could loop
            }
            default -> leaks.add(where + " -> unknown " + t);
        }
    }

    private static boolean visible(int modifiers) {
        return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
    }

    /** The public classes of package dist, nested ones included, as compiled. */
    private static List<Class<?>> apiClasses() throws Exception {
        Path dir = Path.of(Client.class.getProtectionDomain().getCodeSource().getLocation().toURI()).resolve("dist");
        List<Class<?>> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                String name = f.getFileName().toString();
                Class<?> c = Class.forName("dist." + name.substring(0, name.length() - ".class".length()), false,
                        PublicApiTest.class.getClassLoader());
                if (isApi(c)) {
                    out.add(c);
                }
            }
        }
        assertTrue(out.contains(Client.class) && out.contains(Client.OnError.class), "found " + out);
        return out;
    }

    private static boolean isApi(Class<?> c) {
        for (Class<?> k = c; k != null; k = k.getDeclaringClass()) {
            if (!Modifier.isPublic(k.getModifiers()) || k.isAnonymousClass() || k.isLocalClass()) {
                return false;
            }
        }
        return true;
    }
}
