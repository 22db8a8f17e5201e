package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.Logged;
import dist.protocol.Message.Printed;
import dist.protocol.Message.TaskLog;
import dist.protocol.Message.TaskPrint;

import java.util.Set;

/**
 * Text a running task printed ({@code WorkerClient.print}) goes to the client that submitted the
 * task; records a task logged go to the client that asked for them ({@code Client.forwardLogging}).
 */
final class PrintForwarding implements SchedulerExtension {
    private SchedulerContext core;

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> workerMessages() {
        return Set.of(TaskPrint.class, TaskLog.class);
    }

    @Override
    public void onWorker(WorkerState worker, Message message, long requestId) {
        if (message instanceof TaskLog l) {
            if (l.clientId() != null && l.text() != null) {
                core.send(l.clientId(), new Logged(l.logger(), l.level(), l.text()));
            }
            return;
        }
        TaskPrint p = (TaskPrint) message;
        TaskState ts = p.key() == null ? null : core.task(p.key());
        if (ts != null && ts.submitter != null && p.text() != null) {
            core.send(ts.submitter, new Printed(p.text(), p.stderr()));
        }
    }
}
