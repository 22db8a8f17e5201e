package dist.scheduler;

import dist.protocol.Message;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The task stream places a worker's runs by the worker's own start and stop, moved onto the scheduler's
 * clock by the least report delay seen from that worker, so runs reported together keep their order and
 * lengths (dask: test_client.py::test_get_task_stream, whose records carry the worker's start and stop).
 */
class TaskStreamPlacementTest {
    private static final String W = "10.0.0.1:9000";
    private static final long MS = 1_000_000L;

    @Test
    void runsReportedTogetherKeepTheWorkersTimes() {
        SchedulerState s = new SchedulerState(SchedulerConfig.defaults());
        s.handle(new SchedulerEvent.FromWorker(W, new Message.RegisterWorker(W, "w", 2, 0, 1, Map.of()), 0), 0);
        // heard at once: the worker's clock is 3980 ms behind ours
        s.handle(new SchedulerEvent.FromWorker(W, new Message.TaskFinished("a-1", 8, "Integer", 1000 * MS, 1010 * MS,
                null, 0), 0), 4990 * MS);
        // two runs 10 ms apart, reported together 100 ms after the second ended
        s.handle(new SchedulerEvent.FromWorker(W, new Message.Batch(List.of(
                new Message.TaskFinished("b-1", 8, "Integer", 2000 * MS, 2010 * MS, null, 1),
                new Message.TaskFinished("c-1", 8, "Integer", 2010 * MS, 2020 * MS, null, 0))), 0), 6100 * MS);
        List<ClusterView.Computation> stream = s.view().taskStream(0, 10);
        assertEquals(List.of("a-1", "b-1", "c-1"), stream.stream().map(ClusterView.Computation::key).toList());
        ClusterView.Computation b = stream.get(1);
        ClusterView.Computation c = stream.get(2);
        assertEquals(5980 * MS, b.startNanos());
        assertEquals(5990 * MS, b.stopNanos());
        assertEquals(5990 * MS, c.startNanos());
        assertEquals(6000 * MS, c.stopNanos());
        assertEquals(1, b.thread());
    }
}
