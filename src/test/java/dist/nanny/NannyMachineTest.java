package dist.nanny;

import dist.nanny.NannyMachine.Action;
import dist.nanny.NannyMachine.Begin;
import dist.nanny.NannyMachine.Close;
import dist.nanny.NannyMachine.Finish;
import dist.nanny.NannyMachine.MemoryUsed;
import dist.nanny.NannyMachine.PollMemory;
import dist.nanny.NannyMachine.RestartRequested;
import dist.nanny.NannyMachine.Say;
import dist.nanny.NannyMachine.Send;
import dist.nanny.NannyMachine.StartFailed;
import dist.nanny.NannyMachine.StartWorker;
import dist.nanny.NannyMachine.State;
import dist.nanny.NannyMachine.StopWorker;
import dist.nanny.NannyMachine.Tick;
import dist.nanny.NannyMachine.WorkerExited;
import dist.nanny.NannyMachine.WorkerRegistered;
import dist.protocol.Message;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The nanny's decisions alone: no process, no clock (time is a value here), no waiting. */
class NannyMachineTest {
    static final long MS = 1_000_000L;
    static final long SEC = 1_000 * MS;

    /** 2 failed starts allowed, 500 ms first pause, 1 GiB memory limit at 0.95, polled every 200 ms. */
    static NannyMachine machine() {
        return new NannyMachine("nanny-1", new NannyMachine.Settings(2, 500 * MS, 1L << 30, 0.95, 200 * MS));
    }

    static <T extends Action> List<T> only(List<Action> actions, Class<T> type) {
        return actions.stream().filter(type::isInstance).map(type::cast).toList();
    }

    /** A machine whose first worker registered at {@code addr}. */
    static NannyMachine running(String addr) {
        NannyMachine m = machine();
        m.handle(new Begin(), 0);
        m.handle(new WorkerRegistered(1, addr), 10 * MS);
        return m;
    }

    @Test
    void beginStartsTheFirstWorkerAndItsRegistrationIsReported() {
        NannyMachine m = machine();
        assertEquals(List.of(new StartWorker(1)), m.handle(new Begin(), 0));
        assertEquals(State.STARTING, m.state());
        List<Action> a = m.handle(new WorkerRegistered(1, "127.0.0.1:9000"), 10 * MS);
        assertEquals(List.of(new Send(new Message.RegisterNanny("nanny-1", "127.0.0.1:9000"))), a);
        assertEquals(State.RUNNING, m.state());
        assertEquals("127.0.0.1:9000", m.workerAddress());
        assertEquals(1, m.starts());
        assertEquals(0, m.restarts());
    }

    /** Follows dask's test_nanny.py::test_nanny_process_failure: a worker that ran is started again at once. */
    @Test
    void aRegisteredWorkerThatDiesIsReportedAndStartedAgainAtOnce() {
        NannyMachine m = running("a:1");
        List<Action> a = m.handle(new WorkerExited(1, 137, List.of()), SEC);
        assertEquals(List.of(new Send(new Message.WorkerDied("a:1", "killed by signal 9 (SIGKILL), exit code 137"))),
                only(a, Send.class));
        assertTrue(only(a, Say.class).get(0).line().contains("a:1 died"), a.toString());
        assertEquals(List.of(new StartWorker(2)), only(a, StartWorker.class));
        assertEquals(State.STARTING, m.state());
        assertNull(m.workerAddress());
        assertEquals(1, m.restarts());
        assertEquals(2, m.starts());
    }

    /** Follows dask's test_nanny.py::test_nanny_closes_cleanly_if_worker_is_terminated: a clean exit is not restarted. */
    @Test
    void aWorkerThatExitsCleanlyByItselfIsNotStartedAgain() {
        NannyMachine m = running("a:1");
        List<Action> a = m.handle(new WorkerExited(1, 0, List.of()), SEC);
        assertEquals(State.STOPPED, m.state());
        assertTrue(only(a, StartWorker.class).isEmpty(), a.toString());
        assertEquals(List.of(new Finish(null)), only(a, Finish.class));
        assertEquals(List.of(new Send(new Message.WorkerDied("a:1", "closed by itself (exit code 0)"))), only(a, Send.class));
        assertNull(m.gaveUpReason());

        // one given a lifetime ends it with code 0 and is replaced
        NannyMachine l = new NannyMachine("nanny-1",
                new NannyMachine.Settings(2, 500 * MS, 1L << 30, 0.95, 200 * MS).restartingAfterCleanExit());
        l.handle(new Begin(), 0);
        l.handle(new WorkerRegistered(1, "a:1"), 10 * MS);
        assertEquals(List.of(new StartWorker(2)), only(l.handle(new WorkerExited(1, 0, List.of()), SEC), StartWorker.class));
        assertEquals(State.STARTING, l.state());
    }

    @Test
    void failedStartsWaitADoublingPauseCheckedOnTicksThenGiveUp() {
        NannyMachine m = machine();
        m.handle(new Begin(), 0);
        // the first failure: wait 500 ms
        assertTrue(only(m.handle(new WorkerExited(1, 1, List.of()), SEC), StartWorker.class).isEmpty());
        assertEquals(State.WAITING, m.state());
        assertTrue(m.handle(new Tick(), SEC + 499 * MS).isEmpty(), "started before the pause was over");
        assertEquals(List.of(new StartWorker(2)), m.handle(new Tick(), SEC + 500 * MS));
        // the second failure: wait 1 s
        m.handle(new WorkerExited(2, 1, List.of()), 2 * SEC);
        assertTrue(m.handle(new Tick(), 2 * SEC + 999 * MS).isEmpty());
        assertEquals(List.of(new StartWorker(3)), m.handle(new Tick(), 3 * SEC));
        // the third failure is past the limit of 2
        List<Action> a = m.handle(new WorkerExited(3, 1, List.of()), 4 * SEC);
        assertEquals(State.GAVE_UP, m.state());
        assertTrue(m.gaveUpReason().contains("3 times in a row") && m.gaveUpReason().contains("exit code 1"),
                m.gaveUpReason());
        assertEquals(List.of(new Finish(m.gaveUpReason())), only(a, Finish.class));
        assertFalse(m.cannotStart());
        assertEquals(3, m.starts());
    }

    @Test
    void aStartThatWorkedResetsTheCountOfFailures() {
        NannyMachine m = machine();
        m.handle(new Begin(), 0);
        m.handle(new WorkerExited(1, 1, List.of()), 0);
        m.handle(new Tick(), SEC);
        m.handle(new WorkerRegistered(2, "a:1"), SEC);
        m.handle(new WorkerExited(2, 1, List.of()), 2 * SEC); // registered: at once
        assertEquals(State.STARTING, m.state());
        m.handle(new WorkerExited(3, 1, List.of()), 3 * SEC);
        // one failure in a row: the first pause again, not the second
        assertEquals(List.of(new StartWorker(4)), m.handle(new Tick(), 3 * SEC + 500 * MS));
    }

    @Test
    void aWorkerThatCannotStartStopsTheNannyAtOnceWithItsReason() {
        NannyMachine m = machine();
        m.handle(new Begin(), 0);
        List<Action> a = m.handle(new WorkerExited(1, NannyMachine.CANNOT_START, List.of(
                "starting",
                "worker: cannot start: cannot listen on 127.0.0.1:7777: Address already in use",
                "")), SEC);
        assertEquals(State.GAVE_UP, m.state());
        assertTrue(m.cannotStart());
        assertTrue(m.gaveUpReason().contains("127.0.0.1:7777: Address already in use"), m.gaveUpReason());
        assertTrue(m.gaveUpReason().contains("exit code 78"), m.gaveUpReason());
        assertEquals(List.of(new Finish(m.gaveUpReason())), only(a, Finish.class));
        assertTrue(only(a, StartWorker.class).isEmpty(), "started again");
        assertEquals(1, m.starts());
        assertTrue(m.finished());
    }

    /** The reason of a give-up is said once: one Say, no log record besides it, one Finish. */
    @Test
    void givingUpIsSaidOnce() {
        NannyMachine m = machine();
        m.handle(new Begin(), 0);
        m.handle(new WorkerExited(1, 1, List.of()), SEC);
        m.handle(new Tick(), 2 * SEC);
        m.handle(new WorkerExited(2, 1, List.of()), 2 * SEC);
        m.handle(new Tick(), 4 * SEC);
        List<Action> a = m.handle(new WorkerExited(3, 1, List.of()), 4 * SEC);
        assertEquals(1, only(a, Say.class).stream().filter(x -> x.line().contains("giving up")).count(), a.toString());
        assertTrue(only(a, Say.class).stream().noneMatch(x -> x.line().contains("restarting it")), a.toString());
        assertTrue(only(a, NannyMachine.Log.class).isEmpty(), a.toString());
        assertEquals(1, only(a, Finish.class).size(), a.toString());
    }

    /** A JVM that refuses its options (exit code 1, before any dist code) is not started again. */
    @Test
    void aJvmThatRefusesItsOptionsStopsTheNannyAtOnce() {
        NannyMachine m = machine();
        m.handle(new Begin(), 0);
        List<Action> a = m.handle(new WorkerExited(1, 1, List.of("Invalid maximum heap size: -Xmx1z",
                "Error: Could not create the Java Virtual Machine.",
                "Error: A fatal exception has occurred. Program will exit.")), SEC);
        assertEquals(State.GAVE_UP, m.state());
        assertTrue(m.cannotStart());
        assertTrue(m.gaveUpReason().contains("Invalid maximum heap size: -Xmx1z")
                && m.gaveUpReason().contains("--worker-jvm-options"), m.gaveUpReason());
        assertTrue(only(a, StartWorker.class).isEmpty(), a.toString());
        assertEquals(1, only(a, Say.class).size(), a.toString());
    }

    /** A stop asked for tells the scheduler why the registered worker goes, before it is stopped. */
    @Test
    void aCloseTellsTheSchedulerWhyTheWorkerStops() {
        NannyMachine m = running("a:1");
        List<Action> a = m.handle(new Close("the nanny was stopped (SIGTERM)"), SEC);
        assertEquals(List.of(new Send(new Message.WorkerDied("a:1", "stopped: the nanny was stopped (SIGTERM)")),
                new StopWorker(1, false)), a);
        assertEquals(State.STOPPING, m.state());
    }

    @Test
    void aBadCommandLineIsAsFatalAndNamesTheOption() {
        NannyMachine m = machine();
        m.handle(new Begin(), 0);
        m.handle(new WorkerExited(1, NannyMachine.BAD_COMMAND_LINE, List.of(
                "dist worker: --nthreads must be at least 1, got 0",
                "run 'java -jar dist.jar worker --help' for usage")), SEC);
        assertEquals(State.GAVE_UP, m.state());
        assertTrue(m.gaveUpReason().contains("--nthreads must be at least 1"), m.gaveUpReason());
        assertEquals(0, m.restarts());
    }

    @Test
    void theReasonIsTheWorkersOwnLineElseItsLast() {
        assertEquals("port taken", NannyMachine.reasonIn(List.of("worker: cannot start: port taken", "bye")));
        assertEquals("bye", NannyMachine.reasonIn(List.of("hello", "bye", " ")));
        assertEquals("", NannyMachine.reasonIn(List.of()));
    }

    @Test
    void eventsOfAnEarlierProcessAreIgnored() {
        NannyMachine m = running("a:1");
        m.handle(new WorkerExited(1, 1, List.of()), SEC); // generation 2 starts
        assertTrue(m.handle(new WorkerRegistered(1, "old:1"), SEC).isEmpty());
        assertTrue(m.handle(new WorkerExited(1, 1, List.of()), SEC).isEmpty());
        assertTrue(m.handle(new MemoryUsed(1, 1L << 40), SEC).isEmpty());
        assertEquals(State.STARTING, m.state());
        assertNull(m.workerAddress());
    }

    @Test
    void aRequestedRestartStopsTheWorkerGentlyThenByForceAndStartsItWithoutAReport() {
        NannyMachine m = running("a:1");
        assertEquals(List.of(new StopWorker(1, false)),
                only(m.handle(new RestartRequested("client.restart"), SEC), StopWorker.class));
        assertEquals(State.KILLING, m.state());
        assertTrue(only(m.handle(new Tick(), SEC + NannyMachine.RESTART_GRACE_NANOS - 1), StopWorker.class).isEmpty());
        assertEquals(List.of(new StopWorker(1, true)),
                only(m.handle(new Tick(), SEC + NannyMachine.RESTART_GRACE_NANOS), StopWorker.class));
        List<Action> a = m.handle(new WorkerExited(1, 137, List.of()), 5 * SEC);
        assertTrue(only(a, Send.class).isEmpty(), "a requested restart is no death to report: " + a);
        assertTrue(only(a, Say.class).isEmpty(), a.toString());
        assertEquals(List.of(new StartWorker(2)), only(a, StartWorker.class));
        assertEquals(1, m.restarts());
    }

    @Test
    void memoryIsPolledOnTicksAndAWorkerPastTheLimitIsStoppedAndReported() {
        NannyMachine m = running("a:1");
        assertTrue(m.handle(new Tick(), 100 * MS).isEmpty(), "polled before the interval");
        assertEquals(List.of(new PollMemory(1)), m.handle(new Tick(), 200 * MS));
        assertTrue(m.handle(new Tick(), 300 * MS).isEmpty());
        assertTrue(m.handle(new MemoryUsed(1, 100L << 20), 300 * MS).isEmpty(), "100 MiB is under 0.95 GiB");
        List<Action> a = m.handle(new MemoryUsed(1, 1L << 30), 400 * MS);
        assertEquals(List.of(new StopWorker(1, false)), only(a, StopWorker.class));
        assertTrue(only(m.handle(new Tick(), 400 * MS + NannyMachine.MEMORY_GRACE_NANOS), StopWorker.class)
                .get(0).force());
        a = m.handle(new WorkerExited(1, 137, List.of()), 2 * SEC);
        Message.WorkerDied died = (Message.WorkerDied) only(a, Send.class).get(0).message();
        assertTrue(died.reason().contains("exceeded its memory limit"), died.reason());
        assertEquals(List.of(new StartWorker(2)), only(a, StartWorker.class));
    }

    @Test
    void unreadableMemoryIsSaidOnceAndNotPolledAgain() {
        NannyMachine m = running("a:1");
        m.handle(new Tick(), 200 * MS);
        assertEquals(1, m.handle(new MemoryUsed(1, -1), 200 * MS).size());
        assertTrue(m.handle(new Tick(), 10 * SEC).isEmpty());
    }

    @Test
    void closeStopsTheWorkerAndFinishesOnItsExit() {
        NannyMachine m = running("a:1");
        assertEquals(List.of(new StopWorker(1, false)), only(m.handle(new Close(), SEC), StopWorker.class));
        assertEquals(State.STOPPING, m.state());
        assertTrue(m.handle(new RestartRequested("late"), SEC).isEmpty(), "restarted while stopping");
        assertEquals(List.of(new Finish(null)), m.handle(new WorkerExited(1, 143, List.of()), 2 * SEC));
        assertEquals(State.STOPPED, m.state());
        assertNull(m.gaveUpReason());
    }

    @Test
    void closeOfAWorkerThatNeverExitsFinishesAfterTheKillWait() {
        NannyMachine m = running("a:1");
        m.handle(new Close(), 0);
        assertEquals(List.of(new StopWorker(1, true)),
                only(m.handle(new Tick(), NannyMachine.STOP_GRACE_NANOS), StopWorker.class));
        long end = NannyMachine.STOP_GRACE_NANOS + NannyMachine.KILL_WAIT_NANOS;
        assertTrue(only(m.handle(new Tick(), end - 1), Finish.class).isEmpty());
        assertEquals(List.of(new Finish(null)), only(m.handle(new Tick(), end), Finish.class));
        assertTrue(m.finished());
    }

    @Test
    void closeWhileWaitingToRestartFinishesAtOnce() {
        NannyMachine m = machine();
        m.handle(new Begin(), 0);
        m.handle(new WorkerExited(1, 1, List.of()), 0);
        assertEquals(List.of(new Finish(null)), m.handle(new Close(), MS));
        assertTrue(m.handle(new Tick(), 10 * SEC).isEmpty(), "started after close");
    }

    @Test
    void aWorkerJvmThatCannotBeLaunchedGivesUp() {
        NannyMachine m = machine();
        m.handle(new Begin(), 0);
        m.handle(new StartFailed(1, "no such file: java"), 0);
        assertEquals(State.GAVE_UP, m.state());
        assertTrue(m.gaveUpReason().contains("no such file: java"), m.gaveUpReason());
    }

    @Test
    void theBackoffDoublesUpToTenSeconds() {
        assertEquals(500 * MS, NannyMachine.backoffNanos(500 * MS, 1));
        assertEquals(1000 * MS, NannyMachine.backoffNanos(500 * MS, 2));
        assertEquals(10 * SEC, NannyMachine.backoffNanos(500 * MS, 6));
        assertEquals(10 * SEC, NannyMachine.backoffNanos(500 * MS, 1000));
        assertEquals(10 * SEC, NannyMachine.backoffNanos(Long.MAX_VALUE / 2, 3));
    }

    @Test
    void aChangeOfStateNotInTheTableNamesBothStatesAndTheEvent() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> NannyMachine.check(State.STOPPED, State.STARTING, new Begin()));
        assertTrue(e.getMessage().contains("STOPPED") && e.getMessage().contains("STARTING")
                && e.getMessage().contains("Begin"), e.getMessage());
        NannyMachine.check(State.WAITING, State.STARTING, new Tick()); // in the table
    }
}
