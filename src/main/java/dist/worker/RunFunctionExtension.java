package dist.worker;

import dist.protocol.Message;
import dist.protocol.Message.RunFunction;
import dist.protocol.Message.RunReply;
import dist.protocol.TaskCall;

import java.util.Set;

/** Runs a function a client sends to every worker ({@code Client.run}); its result or its error is the answer. */
final class RunFunctionExtension implements WorkerExtension {
    private WorkerServices worker;

    @Override
    public void start(WorkerServices worker) {
        this.worker = worker;
    }

    @Override
    public Set<Class<? extends Message>> requests() {
        return Set.of(RunFunction.class);
    }

    @Override
    public Message answer(Message request) {
        RunFunction rf = (RunFunction) request;
        try {
            TaskCall call = (TaskCall) worker.serializer().decode(rf.call(), null, worker.loader(), null);
            Object result = WorkerServer.runAs(worker.server(), () -> call.function().invoke(call.args().toArray()));
            return new RunReply(worker.serializer().encode(result), null, null);
        } catch (Throwable t) {
            if (TaskErrors.fatal(t)) {
                worker.fatal("running a function for a client", t);
                return null;
            }
            // whatever it threw (a stack overflow included) is the caller's answer
            return new RunReply(null, TaskErrors.encode(worker.serializer(), t), TaskErrors.summary(t));
        }
    }
}
