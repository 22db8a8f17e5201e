package dist.conformance;

import dist.Future;
import dist.Options;
import dist.PluginFailedException;
import dist.UploadJar;
import dist.Wait;
import dist.WorkerPlugin;
import dist.worker.WorkerContext;
import dist.worker.WorkerServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dist.conformance.PluginProbes.T;
import static dist.conformance.PluginProbes.await;
import static dist.conformance.PluginProbes.file;
import static dist.conformance.PluginProbes.port;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Worker plugins on worker processes, following dask's distributed/tests/test_worker_plugins.py
 * (a file the conformance ledger does not list): setup on current and joining workers, teardown on
 * removal, replacement and close, the transitions a plugin sees, names, and the built-in
 * {@link UploadJar}.
 *
 * <p>Not ported: test_create_on_construction (a dist worker takes no plugin objects when it starts;
 * they come from the scheduler), test_register_worker_plugin_is_deprecated,
 * test_duck_typed_register_worker_plugin_is_deprecated and
 * test_register_worker_plugin_typing_over_nanny_keyword (Python's deprecations and duck typing; the
 * compiler picks {@code registerPlugin(WorkerPlugin)} or {@code (NannyPlugin)}),
 * test_register_idempotent_plugins and test_register_non_idempotent_plugins (no idempotent option:
 * registering again always replaces).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class WorkerPluginsConformanceTest {

    static int identity(int x) {
        return x;
    }

    static int inc(int x) {
        return x + 1;
    }

    static int failing(int x) {
        throw new IllegalStateException("failing " + x);
    }

    static List<String> pluginNames() {
        return WorkerServer.current().pluginNames();
    }

    /**
     * dask: test_worker_plugins.py::test_create_with_client — a plugin registered while there is no
     * worker is set up on a worker that joins later, with its data, and torn down when that worker
     * closes.
     */
    @Test
    void createWithClient(@TempDir Path dir) throws Exception {
        try (PluginProbes.Cluster c = PluginProbes.Cluster.start(0, false)) {
            c.client.registerPlugin(new PluginProbes.Recorder(dir.toString(), "MyPlugin", 123));
            String w = c.addWorker();
            assertEquals("123 running", await(file(dir.toString(), "MyPlugin", port(w), "setup")));
            // its SIGTERM hook is in place once it says where it is: only then does a SIGTERM close it
            c.lastWorker.awaitLine(l -> l.startsWith("worker at: "), T);
            c.lastWorker.process.destroy(); // SIGTERM: the worker closes
            assertEquals("123", await(file(dir.toString(), "MyPlugin", port(w), "teardown")), c.lastWorker.output());
        }
    }

    /**
     * dask: test_worker_plugins.py::test_remove_with_client, test_remove_with_client_raises — removing
     * a plugin tears it down on the worker before the call returns, the others stay; removing one
     * that is not there fails naming it.
     */
    @Test
    void removeWithClient(@TempDir Path dir) throws Exception {
        try (PluginProbes.Cluster c = PluginProbes.Cluster.start(1, false)) {
            String w = c.addresses().get(0);
            c.client.registerPlugin(new PluginProbes.Recorder(dir.toString(), "foo", 123));
            c.client.registerPlugin(new PluginProbes.Recorder(dir.toString(), "bar", 546));
            assertEquals(List.of("foo", "bar"), c.client.run(WorkerPluginsConformanceTest::pluginNames).get(w));

            c.client.unregisterPlugin("foo");
            assertEquals("123", PluginProbes.read(file(dir.toString(), "foo", port(w), "teardown")));
            assertEquals(List.of("bar"), c.client.run(WorkerPluginsConformanceTest::pluginNames).get(w));

            c.client.unregisterPlugin("bar");
            assertEquals("546", PluginProbes.read(file(dir.toString(), "bar", port(w), "teardown")));
            assertEquals(List.of(), c.client.run(WorkerPluginsConformanceTest::pluginNames).get(w));

            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.client.unregisterPlugin("baz"));
            assertTrue(e.getMessage().contains("baz"), e.getMessage());
        }
    }

    /**
     * dask: test_worker_plugins.py::test_normal_task_transitions_called — a task's path on its worker,
     * in dask's state names, from its arrival to being forgotten.
     */
    @Test
    void normalTaskTransitionsCalled(@TempDir Path dir) throws Exception {
        try (PluginProbes.Cluster c = PluginProbes.Cluster.start(1, false)) {
            String w = c.addresses().get(0);
            c.client.registerPlugin(new PluginProbes.Recorder(dir.toString(), "MyPlugin", 1));
            Future<Integer> f = c.client.with(Options.defaults().key("task")).submit(WorkerPluginsConformanceTest::identity, 1);
            assertEquals(1, f.result(T));
            f.release();
            List<String> expected = List.of("task released waiting", "task waiting ready", "task ready executing",
                    "task executing memory", "task memory released", "task released forgotten");
            assertTrue(Wait.until(T, () -> PluginProbes.transitions(dir.toString(), "MyPlugin", w).size() >= expected.size()),
                    "transitions: " + PluginProbes.transitions(dir.toString(), "MyPlugin", w));
            assertEquals(expected, PluginProbes.transitions(dir.toString(), "MyPlugin", w));
        }
    }

    /**
     * dask: test_worker_plugins.py::test_failing_task_transitions_called — a failing task goes
     * executing to error, and its user's exception reaches the caller.
     */
    @Test
    void failingTaskTransitionsCalled(@TempDir Path dir) throws Exception {
        try (PluginProbes.Cluster c = PluginProbes.Cluster.start(1, false)) {
            String w = c.addresses().get(0);
            c.client.registerPlugin(new PluginProbes.Recorder(dir.toString(), "MyPlugin", 1));
            Future<Integer> f = c.client.with(Options.defaults().key("task")).submit(WorkerPluginsConformanceTest::failing, 1);
            dist.TaskFailedException e = assertThrows(dist.TaskFailedException.class, () -> f.result(T));
            assertInstanceOf(IllegalStateException.class, e.getCause());
            f.release();
            List<String> expected = List.of("task released waiting", "task waiting ready", "task ready executing",
                    "task executing error", "task error released", "task released forgotten");
            assertTrue(Wait.until(T, () -> PluginProbes.transitions(dir.toString(), "MyPlugin", w).size() >= expected.size()),
                    "transitions: " + PluginProbes.transitions(dir.toString(), "MyPlugin", w));
            assertEquals(expected, PluginProbes.transitions(dir.toString(), "MyPlugin", w));
        }
    }

    /**
     * dask: test_worker_plugins.py::test_superseding_task_transitions_called — a task that needs a
     * resource is constrained rather than ready (dask's list also has a waiting to ready step its
     * worker takes before it sees the resources; a dist worker knows them at once).
     */
    @Test
    void supersedingTaskTransitionsCalled(@TempDir Path dir) throws Exception {
        try (PluginProbes.Cluster c = PluginProbes.Cluster.start(0, false)) {
            String w = c.addWorker("--resources", "X=1");
            c.client.registerPlugin(new PluginProbes.Recorder(dir.toString(), "MyPlugin", 1));
            Future<Integer> f = c.client.with(Options.defaults().key("task").resource("X", 1))
                    .submit(WorkerPluginsConformanceTest::identity, 1);
            assertEquals(1, f.result(T));
            f.release();
            List<String> expected = List.of("task released waiting", "task waiting constrained",
                    "task constrained executing", "task executing memory", "task memory released",
                    "task released forgotten");
            assertTrue(Wait.until(T, () -> PluginProbes.transitions(dir.toString(), "MyPlugin", w).size() >= expected.size()),
                    "transitions: " + PluginProbes.transitions(dir.toString(), "MyPlugin", w));
            assertEquals(expected, PluginProbes.transitions(dir.toString(), "MyPlugin", w));
        }
    }

    /**
     * dask: test_worker_plugins.py::test_dependent_tasks — a task and its input on one worker: each
     * key's own path is dask's (the order between the two keys' releases is the scheduler's).
     */
    @Test
    void dependentTasks(@TempDir Path dir) throws Exception {
        try (PluginProbes.Cluster c = PluginProbes.Cluster.start(1, false)) {
            String w = c.addresses().get(0);
            c.client.registerPlugin(new PluginProbes.Recorder(dir.toString(), "MyPlugin", 1));
            Future<Integer> dep = c.client.with(Options.defaults().key("dep")).submit(WorkerPluginsConformanceTest::identity, 1);
            Future<Integer> task = c.client.with(Options.defaults().key("task")).submit(WorkerPluginsConformanceTest::inc, dep);
            assertEquals(2, task.result(T));
            dep.release();
            task.release();
            assertTrue(Wait.until(T, () -> PluginProbes.transitions(dir.toString(), "MyPlugin", w).size() >= 12),
                    "transitions: " + PluginProbes.transitions(dir.toString(), "MyPlugin", w));
            List<String> all = PluginProbes.transitions(dir.toString(), "MyPlugin", w);
            List<String> path = List.of("released waiting", "waiting ready", "ready executing", "executing memory",
                    "memory released", "released forgotten");
            assertEquals(path, all.stream().filter(l -> l.startsWith("dep ")).map(l -> l.substring(4)).toList());
            assertEquals(path, all.stream().filter(l -> l.startsWith("task ")).map(l -> l.substring(5)).toList());
            // the input is in memory before its dependent arrives, as dask's list has it
            assertTrue(all.indexOf("dep executing memory") < all.indexOf("task released waiting"), all.toString());
        }
    }

    /**
     * dask: test_worker_plugins.py::test_empty_plugin, test_assert_no_warning_no_overload — a plugin
     * that overrides nothing registers, and tasks run as before.
     */
    @Test
    void emptyPlugin() throws Exception {
        try (PluginProbes.Cluster c = PluginProbes.Cluster.start(1, false)) {
            c.client.registerPlugin(new PluginProbes.Empty());
            assertEquals(2, c.client.submit(WorkerPluginsConformanceTest::inc, 1).result(T));
        }
    }

    /**
     * dask: test_worker_plugins.py::test_default_name — a plugin that names none is known by its
     * class: registering one of the same class again replaces it, rather than adding another.
     */
    @Test
    void defaultName() throws Exception {
        try (PluginProbes.Cluster c = PluginProbes.Cluster.start(1, false)) {
            String w = c.addresses().get(0);
            c.client.registerPlugin(new PluginProbes.Empty());
            c.client.registerPlugin(new PluginProbes.Empty());
            assertEquals(List.of(PluginProbes.Empty.class.getName()),
                    c.client.run(WorkerPluginsConformanceTest::pluginNames).get(w));
        }
    }

    /**
     * dask: test_worker_plugins.py::test_WorkerPlugin_overwrite — a plugin registered under a name
     * taken replaces the other: the old one is torn down, the new one set up, and only the new one
     * sees later tasks.
     */
    @Test
    void workerPluginOverwrite(@TempDir Path dir) throws Exception {
        try (PluginProbes.Cluster c = PluginProbes.Cluster.start(1, false)) {
            String w = c.addresses().get(0);
            c.client.registerPlugin(new PluginProbes.Recorder(dir.toString(), "custom", "first"));
            c.client.registerPlugin(new PluginProbes.Recorder(dir.toString(), "custom", "second"));
            assertEquals("first", PluginProbes.read(file(dir.toString(), "custom", port(w), "teardown")));
            assertEquals("second running", PluginProbes.read(file(dir.toString(), "custom", port(w), "setup")));
            assertEquals(List.of("custom"), c.client.run(WorkerPluginsConformanceTest::pluginNames).get(w));
        }
    }

    /** Waits (bounded) on a latch no one opens, then throws: a plugin as bad as one can be. */
    public static class Stuck implements WorkerPlugin {
        @Override
        public void transition(String key, String from, String to) {
            try {
                new java.util.concurrent.CountDownLatch(1).await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("stuck plugin gives up on " + key);
        }
    }

    /**
     * A plugin whose transition callback blocks and then throws costs its worker nothing: tasks
     * still run at once (its calls are queued on its own thread, never waited on by the worker's
     * state machine), and the worker still answers.
     */
    @Test
    void aBlockingPluginDoesNotStallItsWorker() throws Exception {
        try (PluginProbes.Cluster c = PluginProbes.Cluster.start(1, false)) {
            c.client.registerPlugin(new Stuck());
            List<Future<Integer>> fs = new java.util.ArrayList<>();
            for (int i = 0; i < 50; i++) {
                fs.add(c.client.submit(WorkerPluginsConformanceTest::inc, i));
            }
            for (int i = 0; i < 50; i++) {
                assertEquals(i + 1, fs.get(i).result(T));
            }
            assertEquals(List.of(Stuck.class.getName()), c.client.run(WorkerPluginsConformanceTest::pluginNames)
                    .values().iterator().next());
        }
    }

    static int uploadedValue() throws Exception {
        Class<?> k = Class.forName("uploaded.PluginJar", true, Thread.currentThread().getContextClassLoader());
        return (Integer) k.getField("X").get(null);
    }

    /**
     * As dask's UploadFile plugin: a jar registered with {@link UploadJar} reaches the current
     * workers and one started afterwards, whose tasks load its class.
     */
    @Test
    void uploadJarReachesAWorkerStartedLater(@TempDir Path dir) throws Exception {
        Path jar = JarBuilder.jar(dir, "plugin", "uploaded.PluginJar", """
                package uploaded;
                public class PluginJar { public static final Integer X = 321; }
                """);
        try (PluginProbes.Cluster c = PluginProbes.Cluster.start(1, false)) {
            String first = c.addresses().get(0);
            c.client.registerPlugin(new UploadJar(jar));
            assertEquals(321, c.client.with(Options.defaults().workers(first))
                    .submit(WorkerPluginsConformanceTest::uploadedValue).result(T));
            String later = c.addWorker();
            assertEquals(321, c.client.with(Options.defaults().workers(later).allowOtherWorkers(false))
                    .submit(WorkerPluginsConformanceTest::uploadedValue).result(T));
            // the task may load the class from the client before the plugin's setup there has ended
            List<String> expected = List.of("upload-jar-" + jar.getFileName());
            assertTrue(Wait.until(T, () -> expected.equals(c.client.run(WorkerPluginsConformanceTest::pluginNames).get(later))),
                    () -> "plugins on " + later + ": " + c.client.run(WorkerPluginsConformanceTest::pluginNames).get(later));
        }
    }

    /** Its setup fails once, on the worker named "fails": the registration fails, the worker stays. */
    public static class FailsOn implements WorkerPlugin {
        @Override
        public void setup(WorkerContext worker) {
            throw new UnsupportedOperationException("no plugin on " + worker.address());
        }
    }

    /**
     * A plugin whose setup throws fails the registration with the plugin's own exception as the
     * cause, and the worker carries on: it runs tasks and holds no such plugin.
     */
    @Test
    void aFailingSetupFailsTheRegistrationAndTheWorkerLivesOn() throws Exception {
        try (PluginProbes.Cluster c = PluginProbes.Cluster.start(1, false)) {
            String w = c.addresses().get(0);
            PluginFailedException e = assertThrows(PluginFailedException.class,
                    () -> c.client.registerPlugin(new FailsOn()));
            assertInstanceOf(UnsupportedOperationException.class, e.getCause());
            assertEquals("no plugin on " + w, e.getCause().getMessage());
            assertEquals(w, e.where());
            assertEquals(FailsOn.class.getName(), e.plugin());
            assertEquals(2, c.client.submit(WorkerPluginsConformanceTest::inc, 1).result(T));
            assertEquals(List.of(), c.client.run(WorkerPluginsConformanceTest::pluginNames).get(w));
            Map<String, List<String>> names = c.client.run(WorkerPluginsConformanceTest::pluginNames);
            assertEquals(1, names.size());
        }
    }
}
