package dist.client;

import dist.worker.TaskContext;

/**
 * Frees a task's thread slot while the task blocks on other tasks' results, so a worker whose
 * slots are all taken by waiting tasks still runs the tasks they wait on. Outside a task, or
 * when the task has seceded already, it does nothing.
 */
final class Secession implements AutoCloseable {
    private static final Secession NONE = new Secession(null);

    private final TaskContext ctx;

    private Secession(TaskContext ctx) {
        this.ctx = ctx;
    }

    static Secession begin() {
        TaskContext ctx = TaskContext.current();
        return ctx != null && ctx.secede() ? new Secession(ctx) : NONE;
    }

    @Override
    public void close() {
        if (ctx != null) {
            ctx.rejoin();
        }
    }
}
