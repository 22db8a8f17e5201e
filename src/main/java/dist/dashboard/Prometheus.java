package dist.dashboard;

import java.util.Locale;

/** Writes the Prometheus text exposition format (version 0.0.4). */
final class Prometheus {
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private final StringBuilder b = new StringBuilder(4096);

    Prometheus help(String name, String type, String help) {
        String text = help.replace("\\", "\\\\").replace("\n", "\\n"); // the format's two escapes in HELP
        b.append("# HELP ").append(name).append(' ').append(text).append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        return this;
    }

    Prometheus sample(String name, double value, String... labels) {
        b.append(name);
        if (labels.length > 0) {
            b.append('{');
            for (int i = 0; i + 1 < labels.length; i += 2) {
                if (i > 0) {
                    b.append(',');
                }
                b.append(labels[i]).append("=\"").append(escape(labels[i + 1])).append('"');
            }
            b.append('}');
        }
        b.append(' ').append(number(value)).append('\n');
        return this;
    }

    /** A histogram from per-bucket (not cumulative) counts; the last count is above every bound. */
    Prometheus histogram(String name, String help, double[] bounds, long[] counts, long count, double sum) {
        help(name, "histogram", help);
        long cumulative = 0;
        for (int i = 0; i < bounds.length; i++) {
            cumulative += i < counts.length ? counts[i] : 0;
            sample(name + "_bucket", cumulative, "le", number(bounds[i]));
        }
        sample(name + "_bucket", count, "le", "+Inf");
        sample(name + "_sum", sum);
        sample(name + "_count", count);
        return this;
    }

    /**
     * This process's own counters: heap bytes its threads allocated (virtual and ended ones included)
     * and the CPU time it used, so a run's allocation and CPU per task can be read off two scrapes.
     */
    Prometheus process(String... labels) {
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        if (threads instanceof com.sun.management.ThreadMXBean t && t.isThreadAllocatedMemorySupported()
                && t.isThreadAllocatedMemoryEnabled()) {
            help("dist_process_allocated_bytes_total", "counter",
                    "Heap bytes allocated by this process's threads since it started.");
            sample("dist_process_allocated_bytes_total", t.getTotalThreadAllocatedBytes(), labels);
        }
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os && os.getProcessCpuTime() >= 0) {
            help("dist_process_cpu_seconds_total", "counter", "CPU time this process used, in seconds.");
            sample("dist_process_cpu_seconds_total", os.getProcessCpuTime() / 1e9, labels);
        }
        return this;
    }

    private static String number(double v) {
        if (Double.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%s", v);
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    @Override
    public String toString() {
        return b.toString();
    }
}
