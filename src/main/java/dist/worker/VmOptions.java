package dist.worker;

import java.lang.management.ManagementFactory;

/**
 * This JVM's HotSpot options as it runs with them: the heap bound and G1's region size, which the
 * memory figures depend on. {@code long xmx = VmOptions.number("MaxHeapSize");}
 */
final class VmOptions {
    private VmOptions() {
    }

    /** A numeric option's value, -1 where there is none (not HotSpot, no such option, not a number). */
    static long number(String name) {
        try {
            var hs = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            return Long.parseLong(hs.getVMOption(name).getValue());
        } catch (RuntimeException e) {
            return -1;
        }
    }
}
