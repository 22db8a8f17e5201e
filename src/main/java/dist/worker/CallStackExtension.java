package dist.worker;

import dist.protocol.Message;
import dist.protocol.Message.CallStackReply;
import dist.protocol.Message.CallStackRequest;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Answers where a client's running tasks are: each one's thread stack, frame by frame ({@code Client.callStack}). */
final class CallStackExtension implements WorkerExtension {
    private WorkerServices worker;

    @Override
    public void start(WorkerServices worker) {
        this.worker = worker;
    }

    @Override
    public Set<Class<? extends Message>> requests() {
        return Set.of(CallStackRequest.class);
    }

    @Override
    public Message answer(Message request) {
        CallStackRequest r = (CallStackRequest) request;
        Set<String> wanted = r.keys() == null ? Set.of() : new HashSet<>(r.keys());
        Map<String, List<String>> stacks = new LinkedHashMap<>();
        for (Map.Entry<String, Thread> e : worker.executing().entrySet()) {
            if (!r.all() && !wanted.contains(e.getKey())) {
                continue;
            }
            List<String> frames = new ArrayList<>();
            for (StackTraceElement f : e.getValue().getStackTrace()) {
                frames.add(f.toString());
            }
            stacks.put(e.getKey(), frames);
        }
        return new CallStackReply(stacks);
    }
}
