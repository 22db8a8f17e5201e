package dist.cluster;

import dist.scheduler.SchedulerServer;

import java.io.IOException;
import java.util.ServiceLoader;

/**
 * Serves the web dashboard of a scheduler that a cluster started. The dashboard sits above the
 * cluster in the layers, so a cluster finds it through {@link ServiceLoader} rather than naming it.
 *
 * <pre>{@code
 * DashboardService.Running d = DashboardService.find().start(scheduler, "127.0.0.1", 0);
 * System.out.println(d.url());
 * }</pre>
 */
public interface DashboardService {

    /** A dashboard being served. */
    interface Running extends AutoCloseable {
        /** Its address, e.g. "http://127.0.0.1:8787/status". */
        String url();

        @Override
        void close();
    }

    /** Serves {@code scheduler}'s dashboard on {@code host:port} (0: any free port). */
    Running start(SchedulerServer scheduler, String host, int port) throws IOException;

    /** The dashboard on the class path; the jar always has one. */
    static DashboardService find() {
        return ServiceLoader.load(DashboardService.class, DashboardService.class.getClassLoader()).findFirst()
                .orElseThrow(() -> new IllegalStateException("no dashboard on the class path: "
                        + "dist.jar ships one; a repackaged jar must keep META-INF/services/"
                        + DashboardService.class.getName()));
    }
}
