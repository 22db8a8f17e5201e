package dist.dashboard;

import dist.cluster.DashboardService;
import dist.scheduler.SchedulerServer;

import java.io.IOException;

/** The dashboard as a cluster finds it (see {@link DashboardService}). */
public final class DashboardProvider implements DashboardService {

    @Override
    public Running start(SchedulerServer scheduler, String host, int port) throws IOException {
        Dashboard d = Dashboard.start(scheduler, host, port);
        return new Running() {
            @Override
            public String url() {
                return d.url();
            }

            @Override
            public void close() {
                d.close();
            }
        };
    }
}
