package dist.client;

import dist.protocol.Message;
import dist.serial.Encoded;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Brings finished keys' data from the workers that hold them to the client: one GetData per worker,
 * the next holder when one fails, and the scheduler asked again where the keys are, a bounded number
 * of rounds, until every key has its bytes or fails naming why. {@code fetch.fetch(states, deadline)}
 */
final class ResultFetch {
    /** Rounds of asking the scheduler again where the keys are. */
    static final int FETCH_ROUNDS = 5;

    /** The scheduler's answers the fetch needs. */
    interface Scheduler {
        Message ask(Message request, long deadline) throws InterruptedException, TimeoutException, ExecutionException;

        Map<String, List<String>> whoHasKeys(List<String> keys, long deadline)
                throws InterruptedException, TimeoutException, ExecutionException;
    }

    private final WorkerLinks workers;
    private final Duration requestTimeout;
    private final Scheduler scheduler;

    ResultFetch(WorkerLinks workers, Duration requestTimeout, Scheduler scheduler) {
        this.workers = workers;
        this.requestTimeout = requestTimeout;
        this.scheduler = scheduler;
    }

    /**
     * Brings the data of finished keys to this process, one GetData per worker. A holder that fails or
     * lacks a key: the next holder is tried; when none is left the scheduler is asked again where the
     * keys are, a bounded number of times.
     */
    void fetch(Collection<KeyState> states, long deadline)
            throws ExecutionException, InterruptedException, TimeoutException {
        Map<String, KeyState> remaining = new LinkedHashMap<>();
        Map<String, List<String>> holders = new HashMap<>();
        for (KeyState s : states) {
            if (s.data() == null && s.status().equals(KeyState.FINISHED)) {
                remaining.put(s.key, s);
                holders.put(s.key, s.whoHas());
            }
        }
        List<String> problems = new ArrayList<>();
        for (int round = 0; !remaining.isEmpty(); round++) {
            Set<String> badWorkers = new HashSet<>();
            Map<String, Set<String>> tried = new HashMap<>();
            while (!remaining.isEmpty()) {
                Map<String, List<String>> plan = new LinkedHashMap<>();
                for (String key : remaining.keySet()) {
                    for (String w : holders.getOrDefault(key, List.of())) {
                        if (!badWorkers.contains(w) && !tried.computeIfAbsent(key, x -> new HashSet<>()).contains(w)) {
                            plan.computeIfAbsent(w, x -> new ArrayList<>()).add(key);
                            break;
                        }
                    }
                }
                if (plan.isEmpty()) {
                    break;
                }
                Map<String, CompletableFuture<Message>> replies = new LinkedHashMap<>();
                for (Map.Entry<String, List<String>> e : plan.entrySet()) {
                    replies.put(e.getKey(), getData(e.getKey(), e.getValue(), deadline));
                }
                for (Map.Entry<String, CompletableFuture<Message>> e : replies.entrySet()) {
                    String worker = e.getKey();
                    for (String k : plan.get(worker)) {
                        tried.get(k).add(worker);
                    }
                    Message reply;
                    try {
                        reply = e.getValue().get(Math.max(0, Results.left(deadline)), TimeUnit.NANOSECONDS);
                    } catch (TimeoutException t) {
                        if (Results.left(deadline) <= 0) {
                            throw new TimeoutException("fetching " + plan.get(worker) + " from " + worker + " took past the timeout");
                        }
                        badWorkers.add(worker);
                        problems.add(worker + ": no answer");
                        continue;
                    } catch (ExecutionException x) {
                        badWorkers.add(worker);
                        workers.drop(worker);
                        problems.add(worker + ": " + x.getCause());
                        continue;
                    }
                    if (reply instanceof Message.DataReply d) {
                        for (Map.Entry<String, Encoded> kv : d.data().entrySet()) {
                            KeyState s = remaining.remove(kv.getKey());
                            if (s != null && kv.getValue() != null) {
                                s.data(kv.getValue());
                            }
                        }
                    } else {
                        badWorkers.add(worker);
                        problems.add(worker + ": " + reply);
                    }
                }
            }
            remaining.values().removeIf(s -> !s.status().equals(KeyState.FINISHED) || s.data() != null);
            if (remaining.isEmpty()) {
                return;
            }
            if (round + 1 >= FETCH_ROUNDS) {
                throw new ExecutionException(new IllegalStateException("could not fetch " + remaining.keySet()
                        + " from the workers that hold them after " + FETCH_ROUNDS + " rounds; last problems: "
                        + problems.subList(Math.max(0, problems.size() - 5), problems.size())));
            }
            long pause = Math.min(TimeUnit.MILLISECONDS.toNanos(50L << round), Math.max(0, Results.left(deadline)));
            TimeUnit.NANOSECONDS.sleep(pause);
            if (Results.left(deadline) <= 0) {
                throw new TimeoutException("fetching " + remaining.keySet() + " took past the timeout");
            }
            Map<String, List<String>> whoHas = scheduler.whoHasKeys(new ArrayList<>(remaining.keySet()), deadline);
            List<String> unheld = new ArrayList<>();
            for (String key : remaining.keySet()) {
                List<String> fresh = whoHas.get(key);
                // the scheduler may still be recomputing a lost key: keep the old holders until it says more
                holders.put(key, fresh == null || fresh.isEmpty() ? remaining.get(key).whoHas() : fresh);
                if (fresh == null || fresh.isEmpty()) {
                    unheld.add(key);
                }
            }
            failIfGone(unheld, remaining, deadline);
        }
    }

    /** Scheduler states of a key being computed again: its data will come, from new holders. */
    private static final Set<String> COMING = Set.of("waiting", "processing", "queued", "no-worker");

    /**
     * Keys no worker holds and the scheduler is not computing again (lost scattered data, or keys it
     * forgot) fail now, naming them, rather than after every round of asking their dead holders.
     */
    private void failIfGone(List<String> unheld, Map<String, KeyState> remaining, long deadline)
            throws InterruptedException, TimeoutException, ExecutionException {
        if (unheld.isEmpty()) {
            return;
        }
        Message m = scheduler.ask(new Message.TaskStatusRequest(unheld), deadline);
        if (!(m instanceof Message.TaskStatusReply r)) {
            return; // the rounds go on as before
        }
        List<String> gone = new ArrayList<>();
        for (String key : unheld) {
            String state = r.states().get(key);
            KeyState s = remaining.get(key);
            if (s != null && s.status().equals(KeyState.FINISHED) && s.data() == null && !COMING.contains(state)) {
                gone.add(key + " (" + (state == null ? "unknown to the scheduler" : state) + ")");
            }
        }
        if (!gone.isEmpty()) {
            throw new ExecutionException(new IllegalStateException("could not gather " + gone
                    + ": no worker holds it any more (its workers left)"));
        }
    }

    private CompletableFuture<Message> getData(String worker, List<String> keysWanted, long deadline) {
        Duration timeout = Duration.ofNanos(Math.min(requestTimeout.toNanos(), Math.max(1, Results.left(deadline))));
        return workers.request(worker, new Message.GetData(keysWanted), timeout);
    }
}
