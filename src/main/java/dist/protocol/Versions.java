package dist.protocol;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a process runs on, as {@code Client.versions()} reports it for the client, the scheduler and
 * each worker: the Java runtime, the operating system and dist's own version.
 *
 * <pre>{@code
 * Map<String, String> v = Versions.local();   // {java=21.0.2+13, os=Linux 6.1 amd64, dist=1.0}
 * }</pre>
 */
public final class Versions {
    private Versions() {
    }

    /** This process's versions; the same keys in every process. */
    public static Map<String, String> local() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("java", Runtime.version().toString());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        String dist = Versions.class.getPackage().getImplementationVersion();
        m.put("dist", dist == null ? "dev" : dist);
        return m;
    }
}
