package dist.code;

import dist.TaskFailedException;
import dist.Client;
import dist.Fn0;
import dist.Future;
import dist.LocalCluster;
import dist.WorkerClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tasks that submit tasks and wait on them, on fewer thread slots than waiting tasks. */
class TasksLaunchingTasksTest {

    @Test
    void recursiveFibOnTwoSingleThreadedWorkersCompletes() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(1).start();
             Client client = cluster.client()) {
            Future<Long> f = client.submit(Funcs::fib, 15);
            assertEquals(610L, f.result(Duration.ofSeconds(60)));
        }
    }

    static boolean secedeTwice() {
        boolean first = WorkerClient.secede();
        boolean second = WorkerClient.secede();
        WorkerClient.rejoin();
        return first && !second;
    }

    @Test
    void manualSecedeAndTheWorkerClientOnlyWorkInsideATask() throws Exception {
        assertFalse(WorkerClient.inTask());
        assertThrows(IllegalStateException.class, WorkerClient::get);
        assertThrows(IllegalStateException.class, WorkerClient::secede);
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).start();
             Client client = cluster.client()) {
            assertTrue(client.submit((Fn0<Boolean>) TasksLaunchingTasksTest::secedeTwice).result(Duration.ofSeconds(30)));
            // the worker's client is one per worker, reused by every task
            Fn0<String> id = () -> WorkerClient.get().id();
            String a = client.with(dist.Options.defaults().pure(false)).submit(id).result(Duration.ofSeconds(30));
            String b = client.with(dist.Options.defaults().pure(false)).submit(id).result(Duration.ofSeconds(30));
            assertEquals(a, b);
        }
    }

    static int failInside(int n) throws Exception {
        return WorkerClient.get().submit(TasksLaunchingTasksTest::boom, n).result(Duration.ofSeconds(30));
    }

    static int boom(int n) {
        throw new IllegalArgumentException("no " + n);
    }

    @Test
    void aSubTaskFailureReachesTheOuterCaller() throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().workers(1).threadsPerWorker(1).start();
             Client client = cluster.client()) {
            Future<Integer> f = client.submit(TasksLaunchingTasksTest::failInside, 3);
            TaskFailedException e = assertThrows(TaskFailedException.class, () -> f.result(Duration.ofSeconds(30)));
            assertTrue(String.valueOf(e.getCause()).contains("no 3"), String.valueOf(e.getCause()));
        }
    }
}
