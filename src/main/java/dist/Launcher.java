package dist;

import java.lang.reflect.InvocationTargetException;

/**
 * The jar's entry point, compiled for Java 8 so that any JVM can load it: on a runtime older than
 * 21 it says so in a sentence (instead of an UnsupportedClassVersionError), else it runs
 * {@link Main}: {@code java -jar dist.jar scheduler}.
 */
public final class Launcher {
    /** The oldest Java feature release dist runs on. */
    static final int REQUIRED = 21;

    private Launcher() {
    }

    public static void main(String[] args) throws Throwable {
        String refusal = refusal(System.getProperty("java.specification.version"), System.getProperty("java.home"));
        if (refusal != null) {
            System.err.println(refusal);
            System.exit(2);
        }
        try {
            Class.forName("dist.Main").getMethod("main", String[].class).invoke(null, (Object) args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** Why a runtime of this specification version cannot run dist, or null when it can. */
    static String refusal(String specVersion, String javaHome) {
        int feature;
        try {
            feature = Integer.parseInt(specVersion.startsWith("1.") ? specVersion.substring(2) : specVersion.split("\\.")[0]);
        } catch (RuntimeException e) {
            return null; // an unknown form: let the JVM itself decide
        }
        if (feature >= REQUIRED) {
            return null;
        }
        return "dist needs Java " + REQUIRED + " or newer, and this is Java " + specVersion + " (" + javaHome
                + "). Run it with a JDK " + REQUIRED + "+: ./run.sh finds one under /usr/lib/jvm, or point JAVA_HOME"
                + " (or the java command) at one.";
    }
}
