package dist.scheduler;

import dist.client.Keys;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The key → group rule: dask's {@code key_split}. */
class TaskPrefixTest {

    /** dask: dask/tests/test_utils.py::test_key_split (the cases of key_split's docstring). */
    @Test
    void keySplit() {
        assertEquals("x", TaskPrefix.split("x"));
        assertEquals("x", TaskPrefix.split("x-1"));
        assertEquals("x", TaskPrefix.split("x-1-2-3"));
        assertEquals("x", TaskPrefix.split("('x-2', 1)"));
        assertEquals("x", TaskPrefix.split("('x', 1)"));
        assertEquals("hello-world", TaskPrefix.split("hello-world-1"));
        assertEquals("data", TaskPrefix.split("ae05086432ca935f6eba409a8ecd4896"));
        assertEquals("myclass", TaskPrefix.split("<module.submodule.myclass object at 0xdaf372"));
        assertEquals("Other", TaskPrefix.split(null));
        assertEquals("x", TaskPrefix.split("x-abcdefab"), "ignores hex");
        assertEquals("x", TaskPrefix.split("_(x)"), "strips unpleasant characters");
    }

    @Test
    void impureAndPureKeysOfOneFunctionShareTheirGroup() {
        for (int i = 0; i < 200; i++) { // uuids whose first part has no digit, or whose later parts are letters
            assertEquals("add", TaskPrefix.split(Keys.unique("add")));
        }
        assertEquals("add", TaskPrefix.split("add-abcdefab-beef-4cad-8bad-0123456789ab"));
        assertEquals("add", TaskPrefix.split("add-" + new UUID(0xabcdefabbeefcafeL, 0L)));
        assertEquals("inc", TaskPrefix.split(Keys.pure("inc", new byte[] {1, 2, 3})));
        assertEquals("my_func", TaskPrefix.split("my_func-3"));
        assertEquals("lambda", TaskPrefix.split("lambda-0f3a"));
        assertEquals("Other", TaskPrefix.split(""));
        assertEquals("Other", TaskPrefix.split("-1"));
        assertEquals("Other", TaskPrefix.split("<>"));
    }

    /** The allocation-free start length agrees with the full rule wherever it answers. */
    @Test
    void endAgreesWithSplit() {
        for (String k : List.of("x", "x-1", "hello-world-1", "add-" + UUID.randomUUID(), "inc-abcdefab-1",
                "tgd-0", "tgdy", "ae05086432ca935f6eba409a8ecd4896", "('x', 1)", "_(x)", "Ünïcode-wörd-7", "a--b")) {
            int n = TaskPrefix.end(k);
            if (n >= 0) {
                assertEquals(TaskPrefix.split(k), k.substring(0, n), k);
            }
        }
        assertEquals(-1, TaskPrefix.end("ae05086432ca935f6eba409a8ecd4896"), "\"data\" is not the key's start");
        assertEquals(-1, TaskPrefix.end("('x', 1)"));
    }

    /** Before, each impure task was a group of its own and filled the dashboard with "1 / 1" rows. */
    @Test
    void impureTasksOfOneFunctionAreOneGroupInTheScheduler() {
        Harness h = new Harness();
        h.register("tcp://a:1", "a", 2);
        String a = Keys.unique("add");
        String b = Keys.unique("add");
        String c = Keys.unique("add");
        h.submit("c1", List.of(h.task(a), h.task(b), h.task(c)), a, b, c);
        List<ClusterView.Group> groups = h.s.view().cluster(0, 10).groups();
        assertEquals(List.of("add"), groups.stream().map(ClusterView.Group::prefix).toList());
        assertEquals(3, groups.get(0).waiting() + groups.get(0).processing());
        assertEquals("add", ClusterView.groupOf(a));
    }
}
