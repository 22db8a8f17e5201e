package dist.client;

import dist.StoryEvent;
import dist.protocol.Message;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/** The client's questions about the cluster's own workings: task stories and the dashboard's address. Internal. */
public final class Operability {
    private final SchedulerLink link;

    public Operability(SchedulerLink link) {
        this.link = link;
    }

    public List<StoryEvent> story(String key) throws InterruptedException, ExecutionException, TimeoutException {
        Objects.requireNonNull(key, "key");
        Message m = link.request(new Message.StoryRequest(key));
        if (m instanceof Message.ErrorReply e) {
            throw new ExecutionException(new IllegalStateException(e.message()));
        }
        if (!(m instanceof Message.StoryReply r)) {
            throw new ExecutionException(new IllegalStateException("the scheduler answered StoryRequest with " + m));
        }
        List<StoryEvent> l = new ArrayList<>(r.where().size());
        for (int i = 0; i < r.where().size(); i++) {
            long micros = r.epochMicros().get(i);
            l.add(new StoryEvent(key, r.where().get(i), r.events().get(i),
                    Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000), Math.floorMod(micros, 1_000_000) * 1000L),
                    r.details().get(i)));
        }
        return List.copyOf(l);
    }

    /** The scheduler's newest {@code n} log records (all with n below 1), newest first. */
    public List<dist.LogEntry> schedulerLogs(int n) throws InterruptedException, ExecutionException, TimeoutException {
        return entries(link.request(new Message.LogsRequest(n)), "the scheduler");
    }

    /** The newest {@code n} log records of each of these workers (addresses), newest first. */
    public java.util.Map<String, List<dist.LogEntry>> workerLogs(int n, List<String> workers)
            throws InterruptedException, ExecutionException, TimeoutException {
        java.util.Map<String, java.util.concurrent.CompletableFuture<Message>> replies = new java.util.LinkedHashMap<>();
        for (String w : workers) {
            replies.put(w, link.requestWorker(w, new Message.LogsRequest(n)));
        }
        java.util.Map<String, List<dist.LogEntry>> out = new java.util.LinkedHashMap<>();
        for (java.util.Map.Entry<String, java.util.concurrent.CompletableFuture<Message>> e : replies.entrySet()) {
            Message m;
            try {
                m = e.getValue().get(link.requestTimeout().toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
            } catch (TimeoutException t) {
                throw new TimeoutException("worker " + e.getKey() + " sent no log records within "
                        + link.requestTimeout().toMillis() + " ms");
            }
            out.put(e.getKey(), entries(m, "worker " + e.getKey()));
        }
        return out;
    }

    /** The newest {@code n} log records of the nannies of these workers (addresses; empty: all), by worker. */
    public java.util.Map<String, List<dist.LogEntry>> nannyLogs(int n, List<String> workers)
            throws InterruptedException, ExecutionException, TimeoutException {
        Message m = link.request(new Message.NannyLogsRequest(List.copyOf(workers), n));
        if (m instanceof Message.ErrorReply e) {
            throw new ExecutionException(new IllegalStateException(e.message()));
        }
        if (!(m instanceof Message.NannyLogsReply r)) {
            throw new ExecutionException(new IllegalStateException("the scheduler answered NannyLogsRequest with " + m));
        }
        java.util.Map<String, List<dist.LogEntry>> out = new java.util.LinkedHashMap<>();
        for (int i = 0; i < r.workers().size(); i++) {
            out.put(r.workers().get(i), entries(r.logs().get(i), "the nanny of " + r.workers().get(i)));
        }
        return out;
    }

    private static List<dist.LogEntry> entries(Message m, String who) throws ExecutionException {
        if (m instanceof Message.ErrorReply e) {
            throw new ExecutionException(new IllegalStateException(who + ": " + e.message()));
        }
        if (!(m instanceof Message.LogsReply r)) {
            throw new ExecutionException(new IllegalStateException(who + " answered LogsRequest with " + m));
        }
        List<dist.LogEntry> l = new ArrayList<>(r.millis().size());
        for (int i = 0; i < r.millis().size(); i++) {
            l.add(new dist.LogEntry(Instant.ofEpochMilli(r.millis().get(i)), r.levels().get(i), r.loggers().get(i),
                    r.messages().get(i)));
        }
        return List.copyOf(l);
    }

    /** A stretch of the scheduler's task stream and transfers (see {@link Message.TaskStreamRequest}). */
    public Message.TaskStreamReply taskStream(long since, long transfersSince, int max)
            throws InterruptedException, ExecutionException, TimeoutException {
        Message m = link.request(new Message.TaskStreamRequest(since, transfersSince, max));
        if (m instanceof Message.TaskStreamReply r) {
            return r;
        }
        throw new ExecutionException(new IllegalStateException(m instanceof Message.ErrorReply e ? e.message()
                : "the scheduler answered TaskStreamRequest with " + m));
    }

    /** The scheduler's totals of every span it keeps. */
    public Message.SpansReply spans() throws InterruptedException, ExecutionException, TimeoutException {
        Message m = link.request(new Message.SpansRequest());
        if (m instanceof Message.SpansReply r) {
            return r;
        }
        throw new ExecutionException(new IllegalStateException(m instanceof Message.ErrorReply e ? e.message()
                : "the scheduler answered SpansRequest with " + m));
    }

    public Optional<String> dashboardLink() throws InterruptedException, ExecutionException, TimeoutException {
        Message m = link.request(new Message.DashboardLinkRequest());
        if (m instanceof Message.DashboardLink d) {
            return Optional.ofNullable(d.url()).map(u -> formatLink(dist.config.Config.get("distributed.dashboard.link"), u,
                    System.getenv()));
        }
        throw new ExecutionException(new IllegalStateException("the scheduler answered DashboardLinkRequest with " + m));
    }

    /**
     * The dashboard's address written as {@code template} says (dask's distributed.dashboard.link):
     * {scheme}, {host} and {port} of {@code url}, and any {NAME} of the environment, e.g.
     * "{scheme}://{host}:{port}/status" or "https://proxy.example/{USER}/{port}/status". A name
     * neither of these knows is left as it is.
     */
    static String formatLink(String template, String url, java.util.Map<String, String> env) {
        if (template == null || template.isBlank()) {
            return url;
        }
        java.net.URI u = java.net.URI.create(url);
        java.util.Map<String, String> values = new java.util.HashMap<>(env);
        values.put("scheme", u.getScheme());
        values.put("host", u.getHost());
        values.put("port", String.valueOf(u.getPort()));
        StringBuilder out = new StringBuilder();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\{([A-Za-z_][A-Za-z0-9_]*)}").matcher(template);
        while (m.find()) {
            String v = values.get(m.group(1));
            m.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(v == null ? m.group() : v));
        }
        m.appendTail(out);
        return out.toString();
    }
}
