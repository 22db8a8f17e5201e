package dist.scheduler;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * Java Flight Recorder event: the scheduler removed a worker. Committed only while a recording enables
 * it ({@code r.enable("dist.WorkerLost")}): a recording is the scheduler's own trace, like its log.
 */
@Name("dist.WorkerLost")
@Label("Worker lost")
@Category({"dist", "Scheduler"})
@Description("The scheduler removed a worker: its address, why, and whether it left on purpose")
@StackTrace(false)
public final class WorkerLostEvent extends Event {
    @Label("Address")
    public String address;
    @Label("Reason")
    public String reason;
    @Label("Expected")
    public boolean expected;

    private static final WorkerLostEvent PROBE = new WorkerLostEvent();

    static void emit(String address, String reason, boolean expected) {
        if (!PROBE.isEnabled()) {
            return;
        }
        WorkerLostEvent e = new WorkerLostEvent();
        e.address = address;
        e.reason = reason;
        e.expected = expected;
        e.commit();
    }
}
