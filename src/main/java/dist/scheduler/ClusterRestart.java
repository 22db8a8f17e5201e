package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.Ack;
import dist.protocol.Message.KeyCancelled;
import dist.protocol.Message.RestartCluster;

import java.util.Set;

/**
 * A client's {@link RestartCluster}: every client's futures are cancelled and every task forgotten.
 * Workers with a nanny are removed and restarted by it; workers without one (threads of a local
 * cluster) stay and drop their keys.
 */
final class ClusterRestart implements SchedulerExtension {
    private SchedulerContext core;

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> clientMessages() {
        return Set.of(RestartCluster.class);
    }

    @Override
    public void onClient(String clientId, Message message, long requestId) {
        String reason = "the cluster was restarted by client " + clientId;
        for (TaskState ts : core.tasks()) {
            if (ts.wantedBy != null) {
                for (ClientState c : ts.wantedBy) {
                    core.send(c.id, new KeyCancelled(ts.key, reason));
                }
            }
        }
        core.forgetEverything(clientId, reason);
        core.log(System.Logger.Level.INFO, "cluster restarted by client " + clientId);
        if (requestId != 0) {
            core.reply(clientId, new Ack(), requestId);
        }
    }
}
