package dist.nanny;

import dist.nanny.NannyMachine.Action;
import dist.nanny.NannyMachine.Event;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** Any order of events a shell can feed keeps to the table of states, and the counts add up. */
class NannyMachineRandomTest {
    static final long MS = 1_000_000L;

    @Test
    void randomEventsNeverLeaveTheTableAndCountsAddUp() {
        java.util.Set<NannyMachine.State> seen = java.util.EnumSet.noneOf(NannyMachine.State.class);
        for (long seed = 0; seed < 300; seed++) {
            run(seed, seen);
        }
        assertEquals(java.util.EnumSet.allOf(NannyMachine.State.class), seen, "states the walks reached");
    }

    private static void run(long seed, java.util.Set<NannyMachine.State> seen) {
        SplittableRandom rnd = new SplittableRandom(seed);
        NannyMachine m = new NannyMachine("n", new NannyMachine.Settings(rnd.nextInt(4), 50 * MS, 1L << 30, 0.95,
                200 * MS));
        long now = 0;
        boolean finishedSaid = false;
        seen.add(m.state());
        assertEquals(List.of(new NannyMachine.StartWorker(1)), m.handle(new NannyMachine.Begin(), now));
        int lastStarted = 1;
        for (int step = 0; step < 200; step++) {
            now += rnd.nextLong(1, 3_000) * MS;
            int gen = rnd.nextInt(10) == 0 ? Math.max(0, m.generation() - 1) : m.generation();
            Event e = switch (rnd.nextInt(9)) {
                case 0, 1 -> new NannyMachine.Tick();
                case 2 -> new NannyMachine.WorkerRegistered(gen, "w:" + gen);
                case 3 -> new NannyMachine.WorkerExited(gen, rnd.nextInt(15) == 0 ? (rnd.nextBoolean() ? 2 : 78)
                        : List.of(0, 1, 137, 143).get(rnd.nextInt(4)), List.of("worker: cannot start: why"));
                case 4 -> new NannyMachine.MemoryUsed(gen, rnd.nextBoolean() ? 1L << 20 : 2L << 30);
                case 5 -> new NannyMachine.RestartRequested("asked");
                case 6 -> rnd.nextInt(15) == 0 ? new NannyMachine.StartFailed(gen, "no java") : new NannyMachine.Tick();
                case 7 -> rnd.nextInt(20) == 0 ? new NannyMachine.Close() : new NannyMachine.Tick();
                default -> new NannyMachine.Begin();
            };
            String context = "seed " + seed + " step " + step + " " + e + " in " + m.state();
            long at = now;
            List<Action> actions = assertDoesNotThrow(() -> m.handle(e, at), context);
            for (Action a : actions) {
                if (a instanceof NannyMachine.StartWorker s) {
                    assertEquals(++lastStarted, s.generation(), context);
                }
                if (a instanceof NannyMachine.Finish) {
                    assertFalse(finishedSaid, "finished twice: " + context);
                    finishedSaid = true;
                }
            }
            seen.add(m.state());
            assertEquals(m.finished(), finishedSaid, context);
            assertEquals(m.starts(), m.restarts() + 1, context);
            assertEquals(m.starts(), m.generation(), context);
            if (m.finished()) {
                assertTrue(m.handle(new NannyMachine.Tick(), now).isEmpty(), context);
                return;
            }
        }
    }
}
