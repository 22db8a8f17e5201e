package dist.scheduler;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.ConcurrentModificationException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** TaskTable answers as a HashMap from key to task does, through any sequence of operations. */
class TaskTableTest {

    private static TaskState task(String key) {
        return new TaskState(key, null, 0, null, new TaskPrefix("t"));
    }

    @Test
    void randomOperationsMatchHashMap() {
        SplittableRandom r = new SplittableRandom(11);
        for (int round = 0; round < 200; round++) {
            // few distinct hash values in some rounds: long probe runs, wrapped around the table's end
            int keys = 1 + r.nextInt(round % 3 == 0 ? 40 : 2000);
            List<TaskState> pool = new ArrayList<>(keys);
            for (int i = 0; i < keys; i++) {
                pool.add(task(round % 3 == 0 ? "Aa".repeat(i % 4) + "BB".repeat(3 - i % 4) + "-" + (i / 4) : "k-" + i));
            }
            TaskTable table = new TaskTable();
            HashMap<String, TaskState> model = new HashMap<>();
            int ops = r.nextInt(5000);
            for (int op = 0; op < ops; op++) {
                TaskState t = pool.get(r.nextInt(pool.size()));
                int kind = r.nextInt(10);
                if (kind < 5) {
                    assertSame(model.putIfAbsent(t.key, t), table.putIfAbsent(t), "putIfAbsent " + t.key);
                } else if (kind < 7) {
                    assertSame(model.remove(t.key), table.remove(t.key), "remove " + t.key);
                } else if (kind < 8) {
                    boolean held = model.get(t.key) == t;
                    if (held) {
                        model.remove(t.key);
                    }
                    assertEquals(held, table.remove(t), "remove the task " + t.key);
                } else if (kind < 9) {
                    assertSame(model.get(t.key), table.get(t.key), "get " + t.key);
                } else if (r.nextInt(50) == 0) {
                    model.clear();
                    table.clear();
                }
                assertEquals(model.size(), table.size());
            }
            for (TaskState t : pool) {
                assertSame(model.get(t.key), table.get(t.key), "get " + t.key + " at the end of round " + round);
            }
            Set<TaskState> seen = new HashSet<>();
            for (TaskState t : table) {
                assertSame(t, model.get(t.key));
                seen.add(t);
            }
            assertEquals(model.size(), seen.size(), "iteration sees every task once");
        }
    }

    @Test
    void aTaskOfAKnownKeyIsNotAddedAgain() {
        TaskTable table = new TaskTable();
        TaskState first = task("x-1");
        assertNull(table.putIfAbsent(first));
        assertSame(first, table.putIfAbsent(task("x-1")));
        assertEquals(1, table.size());
        assertSame(first, table.remove("x-1"));
        assertNull(table.get("x-1"));
        assertNull(table.remove("x-1"));
    }

    @Test
    void removingATaskLeavesAnotherOfItsKeyInPlace() {
        TaskTable table = new TaskTable();
        TaskState old = task("x-1");
        TaskState now = task("x-1");
        table.putIfAbsent(now);
        assertEquals(false, table.remove(old), "a task the table does not hold");
        assertSame(now, table.get("x-1"));
        assertEquals(true, table.remove(now));
        assertNull(table.get("x-1"));
    }

    @Test
    void changingTheTableWhileIteratingThrows() {
        TaskTable table = new TaskTable();
        for (int i = 0; i < 10; i++) {
            table.putIfAbsent(task("k-" + i));
        }
        Iterator<TaskState> it = table.iterator();
        it.next();
        table.remove("k-3");
        assertThrows(ConcurrentModificationException.class, it::next);
    }

    @Test
    void clearGivesALargeTablesMemoryBackAndStaysUsable() {
        TaskTable table = new TaskTable();
        for (int i = 0; i < 100_000; i++) {
            table.putIfAbsent(task("k-" + i));
        }
        assertEquals(100_000, table.size());
        table.clear();
        assertEquals(0, table.size());
        assertNull(table.get("k-5"));
        assertNull(table.putIfAbsent(task("k-5")));
        assertEquals(1, table.size());
    }
}
