package dist.api;

import dist.TaskFailedException;
import dist.Bag;
import dist.Client;
import dist.Fn1;
import dist.Fn2;
import dist.TaskStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Bags on four single-thread workers (threads mode), with the preemptible-workers scenario's numbers. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BagTest {
    static final Duration T = Duration.ofSeconds(30);
    static ClusterFixture fx;
    static Client client;

    @BeforeAll
    static void start() throws Exception {
        fx = ClusterFixture.start(4, 1);
        client = fx.client;
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    static int multiplyByTwo(int x) throws InterruptedException {
        Thread.sleep(20);
        return 2 * x;
    }

    static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    @Test
    void thePreemptibleScenarioSumsTo159600() throws Exception {
        Bag<Integer> x = Bag.fromSequence(range(400), 400 / 2);
        assertEquals(200, x.npartitions());
        Number summed = x.map(BagTest::multiplyByTwo).sum().compute(client, T);
        assertEquals(159600L, summed);
    }

    @Test
    void mapFilterCountAndComputeKeepOrder() throws Exception {
        Bag<Integer> xs = Bag.fromSequence(range(100), 7);
        assertEquals(range(100), xs.compute(client, T));
        Fn1<Integer, Boolean> even = v -> v % 2 == 0;
        Fn1<Integer, String> show = v -> "n" + v;
        assertEquals(List.of("n0", "n2", "n4"), xs.filter(v -> v < 5).filter(even).map(show).compute(client, T));
        assertEquals(50L, xs.filter(even).count().compute(client, T));
        assertEquals(0L, xs.filter(v -> false).count().compute(client, T));
    }

    /**
     * map, filter and flatMap add no task: as dask.bag fuses linear chains (dask.bag.core's optimize),
     * their steps run in the task that needs the elements, here each partition's fold.
     */
    @Test
    void elementStepsRunInsideTheTaskThatNeedsThem() throws Exception {
        Bag<Integer> xs = Bag.fromSequence(range(40), 4);
        Fn1<Integer, List<Integer>> twice = v -> List.of(v, v);
        Fn1<Integer, Boolean> odd = v -> v % 2 == 1;
        Fn1<Integer, Integer> square = v -> v * v;
        Bag<Integer> chained = xs.flatMap(twice).filter(odd).map(square);
        List<Integer> expected = range(40).stream().flatMap(v -> java.util.stream.Stream.of(v, v))
                .filter(v -> v % 2 == 1).map(v -> v * v).toList();
        try (TaskStream ts = client.taskStream()) {
            assertEquals(40L, chained.count().compute(client, T));
            assertEquals(expected, chained.compute(client, T));
            ts.close();
            List<String> groups = ts.tasks().stream().map(TaskStream.Task::group).toList();
            assertEquals(4, groups.stream().filter("foldPartition"::equals).count(), groups.toString());
            // computed on their own, the partitions are one task each, named by their last step
            assertEquals(4, groups.stream().filter("mapPartition"::equals).count(), groups.toString());
            Set<String> unfused = Set.of("flatMapPartition", "filterPartition");
            assertEquals(Set.of(), groups.stream().filter(unfused::contains).collect(Collectors.toSet()));
        }
    }

    /**
     * A p2p grouping's output partition is read by the task that consumes it, on the partition's
     * owner, as the steps after a grouping are fused into it: the grouped lists are never stored
     * as values of their own (dask fuses the unpack into its consumers' blockwise layer too).
     */
    @Test
    void aGroupingIsReadByTheTaskThatConsumesIt() throws Exception {
        Fn1<Integer, Integer> mod = v -> v % 10;
        try (TaskStream ts = client.taskStream()) {
            assertEquals(10L, Bag.fromSequence(range(400), 4).groupBy(mod, 3).count().compute(client, T));
            ts.close();
            List<String> groups = ts.tasks().stream().map(TaskStream.Task::group).toList();
            assertEquals(3, groups.stream().filter("p2pShuffleUnpack"::equals).count(), groups.toString());
            assertEquals(0, groups.stream().filter("foldPartition"::equals).count(), groups.toString());
        }
    }

    @Test
    void foldAndReduce() throws Exception {
        Bag<Integer> xs = Bag.fromSequence(range(50), 9);
        Fn2<Integer, Integer, Integer> max = Math::max;
        assertEquals(49, xs.reduce(max).compute(client, T));
        Fn2<Integer, Integer, Integer> add = Integer::sum;
        assertEquals(1225, xs.fold(add, 0).compute(client, T));
        Fn2<String, Integer, String> append = (s, v) -> s + v;
        Fn2<String, String, String> concat = String::concat;
        assertEquals("0123456789", Bag.fromSequence(range(10), 4).fold(append, concat, "").compute(client, T));
        assertEquals(2.5, ((Number) Bag.fromSequence(List.of(1, 1.5), 2).sum().compute(client, T)).doubleValue());
        TaskFailedException e = assertThrows(TaskFailedException.class,
                () -> Bag.fromSequence(List.<Integer>of(), 3).reduce(max).compute(client, T));
        assertInstanceOf(NoSuchElementException.class, e.getCause());
    }

    @Test
    void persistKeepsPartitionsOnTheCluster() throws Exception {
        Fn1<Integer, Integer> square = v -> v * v;
        Bag<Integer> squares = Bag.fromSequence(range(20), 4).map(square).persist(client);
        for (var p : squares.partitions()) {
            p.future().result(T);
        }
        assertEquals(2470L, squares.sum().compute(client, T));
        assertEquals(20L, squares.count().compute(client, T));
    }

    @Test
    void badArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Bag.fromSequence(range(3), 0));
    }
}
