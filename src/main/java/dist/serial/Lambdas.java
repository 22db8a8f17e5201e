package dist.serial;

import java.lang.invoke.CallSite;
import java.lang.invoke.LambdaMetafactory;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandleInfo;
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

    /**
     * Whether {@code fn} takes the argument types {@code sl} names. javac's $deserializeLambda$ tells
     * lambdas apart by their implementation method only, so two method references to one method
     * with different argument types ({@code Demo::identity} as a function of Integer and of List)
     * come back as the first, whose class casts its argument to the first's type.
     */
    private static boolean sameInstantiation(Object fn, SerializedLambda sl) throws Throwable {
        java.util.concurrent.atomic.AtomicReference<String> known = INSTANTIATED.get(fn.getClass());
        String own = known.get();
        if (own == null) {
            MethodHandle wr = writeReplace(fn.getClass());
            own = wr != null && wr.invokeExact(fn) instanceof SerializedLambda l ? l.getInstantiatedMethodType() : "";
            known.set(own);
        }
        return own.isEmpty() || own.equals(sl.getInstantiatedMethodType());
    }

    /** A lambda class's argument and result types, as its serialized form names them (fixed per class). */
    private static final ClassValue<java.util.concurrent.atomic.AtomicReference<String>> INSTANTIATED =
            new ClassValue<>() {
                @Override
                protected java.util.concurrent.atomic.AtomicReference<String> computeValue(Class<?> type) {
                    return new java.util.concurrent.atomic.AtomicReference<>();
                }
            };

    /** Per capturing class, the factories {@link #rebuild} made, so a map of many tasks makes one class. */
    private static final ClassValue<java.util.Map<String, MethodHandle>> REBUILT = new ClassValue<>() {
        @Override
        protected java.util.Map<String, MethodHandle> computeValue(Class<?> type) {
            return new java.util.concurrent.ConcurrentHashMap<>();
        }
    };

    /** The lambda {@code sl} describes, made by the metafactory as its call site would. */
    private static Object rebuild(Class<?> capturing, SerializedLambda sl) throws Throwable {
        String site = sl.getImplMethodKind() + " " + sl.getImplClass() + "." + sl.getImplMethodName()
                + sl.getImplMethodSignature() + " as " + sl.getFunctionalInterfaceClass() + " "
                + sl.getInstantiatedMethodType();
        int n = sl.getCapturedArgCount();
        Object[] captured = new Object[n];
        for (int i = 0; i < n; i++) {
            captured[i] = sl.getCapturedArg(i);
        }
        MethodHandle factory = REBUILT.get(capturing).get(site);
        if (factory == null) {
            factory = factory(capturing, sl);
            REBUILT.get(capturing).putIfAbsent(site, factory);
        }
        return factory.invokeWithArguments(captured);
    }

    private static MethodHandle factory(Class<?> capturing, SerializedLambda sl) throws Throwable {
        MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(capturing, MethodHandles.lookup());
        ClassLoader loader = capturing.getClassLoader();
        Class<?> implClass = Class.forName(sl.getImplClass().replace('/', '.'), false, loader);
        MethodType implType = MethodType.fromMethodDescriptorString(sl.getImplMethodSignature(), loader);
        String name = sl.getImplMethodName();
        MethodHandle impl = switch (sl.getImplMethodKind()) {
            case MethodHandleInfo.REF_invokeStatic -> lookup.findStatic(implClass, name, implType);
            case MethodHandleInfo.REF_invokeVirtual, MethodHandleInfo.REF_invokeInterface ->
                    lookup.findVirtual(implClass, name, implType);
            case MethodHandleInfo.REF_invokeSpecial -> lookup.findSpecial(implClass, name, implType, capturing);
            case MethodHandleInfo.REF_newInvokeSpecial -> lookup.findConstructor(implClass, implType);
            default -> throw new DecodeException("lambda " + sl.getImplClass() + "." + name
                    + " has an unknown method kind " + sl.getImplMethodKind());
        };
        Class<?> fi = Class.forName(sl.getFunctionalInterfaceClass().replace('/', '.'), false, loader);
        int n = sl.getCapturedArgCount();
        MethodType factoryType = MethodType.methodType(fi, impl.type().parameterList().subList(0, n));
        CallSite site = LambdaMetafactory.altMetafactory(lookup, sl.getFunctionalInterfaceMethodName(), factoryType,
                MethodType.fromMethodDescriptorString(sl.getFunctionalInterfaceMethodSignature(), loader), impl,
                MethodType.fromMethodDescriptorString(sl.getInstantiatedMethodType(), loader),
                LambdaMetafactory.FLAG_SERIALIZABLE);
        return site.getTarget();
    }

    static Object deserialize(Class<?> capturing, SerializedLambda sl) {
        Object d = DESERIALIZERS.get(capturing);
        if (d instanceof String s) {
            throw new DecodeException(s);
        }
        try {
            Object fn = ((MethodHandle) d).invokeExact(sl);
            return sameInstantiation(fn, sl) ? fn : rebuild(capturing, sl);
        } catch (RuntimeException e) {
            throw new DecodeException("lambda " + sl.getImplClass() + "." + sl.getImplMethodName()
                    + " captured in " + capturing.getName() + " does not rebuild (" + e
                    + "); are both ends running the same code?", e);
        } catch (Throwable t) {
            throw new DecodeException("lambda in " + capturing.getName() + " does not rebuild: " + t, t);
        }
    }
}
