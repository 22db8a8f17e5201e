package dist.worker;

import com.sun.management.GarbageCollectionNotificationInfo;

import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The most heap this JVM held right after a garbage collection, over its life so far: close to what
 * the live data needed at its peak, without most of the garbage a heap-in-use reading also counts (a
 * young collection leaves the old generation's garbage in place). It listens to the
 * collectors' notifications from its first use (a worker starts it), and sums the heap pools' use
 * after each collection. Also the process's peak resident memory, as Linux counts it (VmHWM).
 *
 * <pre>{@code
 * HeapWatch.start();
 * long peak = HeapWatch.afterGcPeak();   // bytes; 0 before the first collection
 * }</pre>
 */
public final class HeapWatch {
    private static final AtomicLong PEAK = new AtomicLong();
    private static final AtomicLong COLLECTIONS = new AtomicLong();
    private static final AtomicLong LAST = new AtomicLong();
    private static final Object STARTED = install();

    private HeapWatch() {
    }

    private static Object install() {
        Set<String> heapPools = new HashSet<>();
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) {
                heapPools.add(p.getName());
            }
        }
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof NotificationEmitter emitter) {
                emitter.addNotificationListener((n, handback) -> {
                    if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
                        return;
                    }
                    var info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
                    if (info.getGcName().contains("Concurrent")) {
                        return; // G1's remark and cleanup pauses free nothing: their "after" is the heap in use
                    }
                    long used = 0;
                    for (var e : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
                        if (heapPools.contains(e.getKey())) {
                            MemoryUsage u = e.getValue();
                            used += u.getUsed();
                        }
                    }
                    LAST.set(used);
                    COLLECTIONS.incrementAndGet();
                    PEAK.accumulateAndGet(used, Math::max);
                }, null, null);
            }
        }
        return Boolean.TRUE;
    }

    /** Starts listening (once per JVM; later calls do nothing). */
    public static void start() {
        if (STARTED == null) {
            throw new IllegalStateException("unreachable: the listeners are installed on class load");
        }
    }

    /** The most heap in use right after any collection so far, in bytes (0 before the first). */
    public static long afterGcPeak() {
        return PEAK.get();
    }

    /** The heap in use right after the latest collection, in bytes (0 before the first). */
    public static long lastAfterGc() {
        return LAST.get();
    }

    /** Collections seen so far. */
    public static long collections() {
        return COLLECTIONS.get();
    }

    /** The heap's upper bound (-Xmx), in bytes. */
    public static long heapMax() {
        return MAX_HEAP;
    }

    /**
     * -Xmx as the JVM took it. Not Runtime.maxMemory(): under the parallel collector that leaves out a
     * survivor space, whose size the collector keeps changing, so fractions of it would move.
     */
    private static final long MAX_HEAP = maxHeap();

    private static long maxHeap() {
        long v = VmOptions.number("MaxHeapSize");
        return v > 0 ? v : Runtime.getRuntime().maxMemory();
    }

    /** The process's peak resident memory in bytes (Linux's VmHWM), or 0 where it cannot be read. */
    public static long residentPeak() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    String[] f = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(f[0]) * 1024; // in kB
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }
}
