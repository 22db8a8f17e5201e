package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.TaskSpec;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A seceded task stops counting toward its worker's saturation, so queued work can reach the worker. */
class SecededTaskStateTest {
    private static final String W = "10.0.0.1:9000";

    private static List<String> computed(List<Outgoing> out) {
        List<String> keys = new ArrayList<>();
        for (Outgoing o : out) {
            if (o.message() instanceof Message.ComputeTask ct) {
                keys.add(ct.key());
            }
        }
        return keys;
    }

    @Test
    void aSecededTaskFreesRoomForOneQueuedTask() {
        SchedulerState s = new SchedulerState(SchedulerConfig.defaults());
        s.handle(new SchedulerEvent.FromWorker(W, new Message.RegisterWorker(W, "w", 1, 0, 1, Map.of()), 0), 0);
        List<TaskSpec> specs = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            specs.add(new TaskSpec("t-" + i, new byte[]{1}, List.of(), i, null));
            keys.add("t-" + i);
        }
        List<String> sent = computed(s.handle(new SchedulerEvent.FromClient("c1",
                new Message.UpdateGraph("c1", specs, keys), 0), 1));
        assertTrue(sent.size() < 5000 && s.view().queuedCount() == 5000 - sent.size(), "saturation should hold some back");
        List<String> more = computed(s.handle(new SchedulerEvent.FromWorker(W,
                new Message.TaskSeceded(sent.get(0)), 0), 2));
        assertEquals(List.of("t-" + sent.size()), more);
        // a repeated or unknown report changes nothing
        assertEquals(List.of(), computed(s.handle(new SchedulerEvent.FromWorker(W,
                new Message.TaskSeceded(sent.get(0)), 0), 3)));
        assertEquals(List.of(), computed(s.handle(new SchedulerEvent.FromWorker(W,
                new Message.TaskSeceded("nope"), 0), 4)));
        assertEquals(5000 - sent.size() - 1, s.view().queuedCount());
    }
}
