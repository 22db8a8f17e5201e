package dist.scheduler;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TaskSet behaves as a LinkedHashSet of tasks: same answers, same iteration order. */
class TaskSetTest {

    private static List<TaskState> tasks(int n) {
        TaskPrefix p = new TaskPrefix("t");
        List<TaskState> ts = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ts.add(new TaskState("t-" + i, null, 0, null, p));
        }
        return ts;
    }

    @Test
    void randomOperationsMatchLinkedHashSet() {
        SplittableRandom r = new SplittableRandom(7);
        for (int round = 0; round < 200; round++) {
            List<TaskState> pool = tasks(1 + r.nextInt(300));
            TaskSet set = new TaskSet();
            LinkedHashSet<TaskState> model = new LinkedHashSet<>();
            // a second set of the same tasks: joining it moves each task's position hint away from the first
            TaskSet other = new TaskSet();
            int ops = r.nextInt(2000);
            for (int op = 0; op < ops; op++) {
                TaskState t = pool.get(r.nextInt(pool.size()));
                if (r.nextInt(4) == 0) {
                    if (!other.add(t)) {
                        other.remove(t);
                    }
                    continue;
                }
                int kind = r.nextInt(10);
                if (kind < 5) {
                    assertEquals(model.add(t), set.add(t));
                } else if (kind < 9) {
                    assertEquals(model.remove(t), set.remove(t));
                } else if (r.nextInt(20) == 0) {
                    model.clear();
                    set.clear();
                } else {
                    assertEquals(model.contains(t), set.contains(t));
                    assertSame(model.contains(t) ? t : null, set.byKey(new String(t.key), t.hash), "by key " + t.key);
                }
                assertEquals(model.size(), set.size());
            }
            assertEquals(new ArrayList<>(model), new ArrayList<>(set), "same members in the same order");
            assertEquals(List.of(model.toArray()), List.of(set.toArray()));
            List<TaskState> down = new ArrayList<>();
            set.descendingIterator().forEachRemaining(down::add);
            assertEquals(new ArrayList<>(model.reversed()), down, "the same members backwards");
        }
    }

    @Test
    void aQueueThatDrainsGivesItsMemoryBackAndKeepsItsOrder() {
        List<TaskState> ts = tasks(100_000);
        TaskSet set = new TaskSet();
        LinkedHashSet<TaskState> model = new LinkedHashSet<>();
        set.addAll(ts);
        model.addAll(ts);
        for (int i = 0; i < 99_990; i++) { // oldest first, as a worker's processing tasks finish
            set.remove(ts.get(i));
            model.remove(ts.get(i));
        }
        for (int i = 0; i < 99_990; i += 2) { // churn: one back in, the oldest out
            set.add(ts.get(i));
            model.add(ts.get(i));
            TaskState oldest = model.iterator().next();
            set.remove(oldest);
            model.remove(oldest);
        }
        assertEquals(new ArrayList<>(model), new ArrayList<>(set));
        assertTrue(set.capacity() < 1_000, "a set of " + set.size() + " still holds " + set.capacity() + " slots");
    }

    @Test
    void aSetWithSteadyChurnRebuildsItsTableRarely() {
        // a worker's processing set: a thousand tasks in flight, one in as one finishes
        List<TaskState> ts = tasks(101_000);
        TaskSet set = new TaskSet();
        set.addAll(ts.subList(0, 1_000));
        int before = set.rebuilds();
        for (int i = 1_000; i < ts.size(); i++) {
            set.add(ts.get(i));
            set.remove(ts.get(i - 1_000));
        }
        assertEquals(1_000, set.size());
        int rebuilds = set.rebuilds() - before;
        // each rebuild leaves at least a quarter of the table free, at least as many slots as members
        assertTrue(rebuilds <= 100_000 / 1_000, rebuilds + " table rebuilds in 100,000 adds to a set of 1,000");
    }

    @Test
    void iteratorRemovesAndModificationDuringIterationIsCaught() {
        List<TaskState> ts = tasks(10);
        TaskSet set = new TaskSet();
        set.addAll(ts);
        for (Iterator<TaskState> it = set.iterator(); it.hasNext(); ) {
            if (it.next().key.endsWith("3")) {
                it.remove();
            }
        }
        assertFalse(set.contains(ts.get(3)));
        assertEquals(9, set.size());
        set.add(ts.get(3)); // back, now last
        assertEquals(ts.get(3), new ArrayList<>(set).get(9), "a task added again goes last");
        assertThrows(ConcurrentModificationException.class, () -> {
            for (TaskState t : set) {
                set.remove(t);
            }
        });
        assertThrows(NullPointerException.class, () -> set.add(null));
        assertTrue(set.containsAll(ts.subList(4, 10)));
    }
    @Test
    void aSharedSetIsReadOnlyAndItsCopyChanges() {
        List<TaskState> ts = tasks(3);
        TaskSet shared = ts.get(0).asSoleDependent();
        assertTrue(shared == ts.get(0).asSoleDependent(), "one set per task, made once");
        assertTrue(shared.frozen() && shared.contains(ts.get(0)) && shared.size() == 1);
        assertThrows(UnsupportedOperationException.class, () -> shared.add(ts.get(1)));
        assertThrows(UnsupportedOperationException.class, () -> shared.remove(ts.get(0)));
        assertThrows(UnsupportedOperationException.class, shared::clear);
        TaskSet mine = shared.copy();
        assertTrue(mine.add(ts.get(2)) && !mine.frozen());
        assertEquals(List.of(ts.get(0), ts.get(2)), new ArrayList<>(mine));
        assertEquals(List.of(ts.get(0)), new ArrayList<>(shared), "the shared set is unchanged");
    }
}
