package dist.serial;

/** A class loader that behaves as if some classes were absent, to test what happens when they are. */
final class RefusingLoader extends ClassLoader {
    private final java.util.Set<String> refused;

    RefusingLoader(String... refused) {
        super(RefusingLoader.class.getClassLoader());
        this.refused = java.util.Set.of(refused);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (refused.contains(name)) {
            throw new ClassNotFoundException(name);
        }
        return super.loadClass(name, resolve);
    }
}
