package dist.conformance;

import dist.Client;
import dist.Wait;
import dist.comm.CommConfig;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerServer;
import dist.worker.WorkerServer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * As dask's {@code gen_cluster(client=True)}: a scheduler, named workers whose stores a test can read
 * (dask's {@code a.data}), and a client, for the ClientBasics conformance classes.
 */
final class ClientBasicsCluster implements AutoCloseable {
    static final Duration T = Duration.ofSeconds(30);
    final SchedulerServer scheduler;
    final List<WorkerServer> workers = new ArrayList<>();
    final Client client;

    private ClientBasicsCluster(int[] threads) throws Exception {
        scheduler = SchedulerServer.start("127.0.0.1", 0, SchedulerConfig.defaults(), CommConfig.DEFAULT);
        for (int i = 0; i < threads.length; i++) {
            addWorker("w" + i, threads[i]);
        }
        client = Client.connect(scheduler.address());
        if (!Wait.until(T, () -> workerCount() == threads.length)) {
            throw new AssertionError("workers did not register");
        }
    }

    /** One worker per entry, with that many threads. */
    static ClientBasicsCluster start(int... threads) throws Exception {
        return new ClientBasicsCluster(threads);
    }

    WorkerServer addWorker(String name, int threads) throws Exception {
        WorkerServer w = WorkerServer.start(new WorkerServer.Options(scheduler.address(), "127.0.0.1", 0, threads,
                name, 0, 8 * 1024, CommConfig.DEFAULT));
        workers.add(w);
        return w;
    }

    WorkerServer w(int i) {
        return workers.get(i);
    }

    int workerCount() {
        try {
            return client.ncores().size();
        } catch (Exception e) {
            return -1;
        }
    }

    /** The scheduler's state of {@code key} as text ("null" when it forgot the key). */
    String stateOf(String key) {
        try {
            String st = scheduler.query(s -> s.view().stateOf(key), 10, TimeUnit.SECONDS);
            return String.valueOf(st);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** The workers the scheduler lists as holding {@code key}. */
    List<String> whoHas(String key) {
        try {
            return scheduler.query(s -> s.view().whoHas(List.of(key)).getOrDefault(key, List.of()), 10,
                    TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Whether the scheduler forgot {@code key}, waiting for it at most {@link #T}. */
    boolean forgets(String key) throws InterruptedException {
        return Wait.until(T, () -> stateOf(key).equals("null"));
    }

    Client newClient() throws Exception {
        return Client.connect(scheduler.address());
    }

    @Override
    public void close() {
        client.close();
        for (WorkerServer w : workers) {
            w.close();
        }
        scheduler.close();
    }
}
