package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.TaskSpec;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The state machine's transition log and the plugin dispatcher, without sockets. */
class PluginStateTest {
    private static final String W = "10.0.0.1:9000";

    private static SchedulerState cluster() {
        SchedulerState s = new SchedulerState(SchedulerConfig.defaults());
        s.handle(new SchedulerEvent.FromWorker(W, new Message.RegisterWorker(W, "w", 1, 0, 1, Map.of()), 0), 0);
        return s;
    }

    private static SchedulerEvent update(String... keys) {
        List<TaskSpec> specs = new ArrayList<>();
        for (String k : keys) {
            specs.add(new TaskSpec(k, new byte[]{1}, List.of(), 0, null));
        }
        return new SchedulerEvent.FromClient("c1", new Message.UpdateGraph("c1", specs, List.of(keys)), 0);
    }

    @Test
    void transitionsAreLoggedOnlyWhileRecording() {
        SchedulerState s = cluster();
        s.handle(update("a"), 1);
        assertEquals(List.of(), s.view().drainTransitions());
        s.view().recordTransitions(true);
        s.handle(update("b"), 2);
        List<SchedulerView.Transition> t = s.view().drainTransitions();
        assertEquals(new SchedulerView.Transition("b", "released", "waiting"), t.get(0));
        assertEquals("b", t.get(1).key());
        assertEquals("waiting", t.get(1).from()); // then processing or queued, as the placement decides
        assertEquals(List.of(), s.view().drainTransitions());
        assertEquals("c1", s.view().submitterOf("b"));
    }

    /** Counts callbacks; the second instance throws from every one of them. */
    static final class Recorder implements SchedulerPlugin {
        final List<String> calls = new ArrayList<>();
        final boolean fail;

        Recorder(boolean fail) {
            this.fail = fail;
        }

        private void add(String s) {
            calls.add(s);
            if (fail) {
                throw new IllegalStateException("plugin failure on purpose: " + s);
            }
        }

        @Override
        public void updateGraph(String clientId, List<String> keys) {
            add("update " + clientId + " " + keys);
        }

        @Override
        public void transition(String key, String from, String to) {
            add(key + " " + from + "->" + to);
        }

        @Override
        public void taskFinished(String key) {
            add("finished " + key);
        }

        @Override
        public void taskErred(String key) {
            add("erred " + key);
        }
    }

    @Test
    void pluginsSeeEveryEventAndAThrowingOneDoesNotStopTheOthers() {
        SchedulerState s = cluster();
        PluginExtension plugins = s.extension(PluginExtension.class);
        Recorder bad = new Recorder(true);
        Recorder good = new Recorder(false);
        plugins.add(bad, null);
        plugins.add(good, null);
        List<SchedulerEvent> events = List.of(update("x", "y"),
                new SchedulerEvent.FromWorker(W, new Message.TaskFinished("x", 4, "Integer", 0, 1, null), 0),
                new SchedulerEvent.FromWorker(W, new Message.TaskErred("y", new byte[]{1}, "boom", 0, 1), 0));
        for (SchedulerEvent e : events) {
            s.handle(e, 5);
        }
        s.validate(); // a throwing plugin cut no transition short
        assertEquals("update c1 [x, y]", good.calls.get(0));
        assertTrue(good.calls.contains("x processing->memory"), good.calls.toString());
        assertTrue(good.calls.contains("finished x"), good.calls.toString());
        assertTrue(good.calls.contains("y processing->erred"), good.calls.toString());
        assertTrue(good.calls.contains("erred y"), good.calls.toString());
        assertEquals(good.calls, bad.calls);
        assertEquals(List.of((long) bad.calls.size(), 0L), plugins.failureCounts());
    }

    @Test
    void loadingByNameGivesClearErrors() {
        ClassLoader l = getClass().getClassLoader();
        assertTrue(SchedulerPlugin.load(Counting.class.getName(), l) instanceof Counting);
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> SchedulerPlugin.load("com.acme.Missing", l));
        assertTrue(missing.getMessage().contains("class path"), missing.getMessage());
        IllegalArgumentException notPlugin = assertThrows(IllegalArgumentException.class,
                () -> SchedulerPlugin.load(String.class.getName(), l));
        assertTrue(notPlugin.getMessage().contains("does not implement"), notPlugin.getMessage());
    }

    public static final class Counting implements SchedulerPlugin {
        public Counting() {
        }
    }
}
