package dist.worker;

import dist.comm.Connection;
import dist.comm.EventLoop;
import dist.protocol.Message;
import dist.serial.Encoded;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Results that move between a worker and the others: what it serves (GetData), what a client
 * scatters to it (PutData), the replicas it gathers (AcquireData) and the fetches its state machine
 * asks for. What arrives is kept in the worker's store and reported to the state machine; every
 * fetch is answered to it, with the data or with why not, so no task waits on a fetch forever.
 */
final class DataExchange {
    private static final System.Logger LOG = System.getLogger("dist.worker");

    /** Stops the worker when the JVM ran out of memory. */
    interface Fatal {
        void outOfMemory(String doing, Throwable t);
    }

    private final Supplier<String> address;
    private final DataStore data;
    private final PeerLinks peers;
    private final Duration requestTimeout;
    private final EventLoop<Object> events;
    private final WorkerMetrics metrics;
    private final ThreadLocal<FineMetrics.Bucket> countingFor;
    private final Supplier<Connection> scheduler;
    private final Fatal fatal;

    DataExchange(Supplier<String> address, DataStore data, PeerLinks peers, Duration requestTimeout, EventLoop<Object> events,
                 WorkerMetrics metrics, ThreadLocal<FineMetrics.Bucket> countingFor, Supplier<Connection> scheduler,
                 Fatal fatal) {
        this.address = address;
        this.data = data;
        this.peers = peers;
        this.requestTimeout = requestTimeout;
        this.events = events;
        this.metrics = metrics;
        this.countingFor = countingFor;
        this.scheduler = scheduler;
        this.fatal = fatal;
    }

    /** The bytes of the keys held here, spilled ones read back; keys not here (or lost) are left out. */
    Map<String, Encoded> dataFor(List<String> keys) {
        Map<String, Encoded> out = new LinkedHashMap<>();
        for (String key : keys) {
            try {
                DataStore.Entry e = data.get(key);
                if (e != null) {
                    out.put(key, e.encoded());
                }
            } catch (java.io.UncheckedIOException e) {
                LOG.log(Level.WARNING, e.getMessage()); // reported as missing: found elsewhere or recomputed
            }
        }
        return out;
    }

    /** Keeps data that arrived (peer, scatter); a failed spill leaves it in memory, where it is still usable. */
    void keep(String key, Encoded encoded) {
        try {
            data.putEncoded(key, encoded);
        } catch (DataStore.SpillException e) {
            LOG.log(Level.WARNING, e.getMessage() + " (" + key + " stays in memory)");
        }
    }

    /** Scatter: keeps the bytes and reports the keys to the scheduler (AddKeys) before answering. */
    void putData(Connection c, Message.PutData pd, long requestId) {
        if (pd.data() == null || pd.data().containsKey(null) || pd.data().containsValue(null)) {
            if (requestId != 0) {
                c.reply(requestId, new Message.ErrorReply("PutData needs a key and bytes for every entry"));
            }
            return;
        }
        Map<String, Long> sizes = new LinkedHashMap<>();
        for (Map.Entry<String, Encoded> e : pd.data().entrySet()) {
            keep(e.getKey(), e.getValue());
            sizes.put(e.getKey(), e.getValue().nbytes());
        }
        events.submit(new WorkerEvent.DataAdded(sizes));
        if (requestId != 0) {
            c.reply(requestId, new Message.Ack());
        }
    }

    /** Replication: fetches each key from the first of its sources that has it (see {@link ReplicaPlan}), keeps it, reports it. */
    void acquire(Connection c, Message.AcquireData ad, long requestId) {
        Map<String, Long> here = new HashMap<>();
        if (ad.sources() != null) {
            for (String key : ad.sources().keySet()) {
                long size = key == null ? -1 : data.size(key);
                if (size >= 0) {
                    here.put(key, size);
                }
            }
        }
        ReplicaPlan plan = new ReplicaPlan(address.get(), ad.sources(), here);
        while (!plan.done()) {
            for (Map.Entry<String, List<String>> p : plan.nextRound().entrySet()) {
                Map<String, Encoded> arrived = Map.of();
                try {
                    Message reply = peers.get(p.getKey()).request(new Message.GetData(p.getValue()))
                            .get(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
                    if (reply instanceof Message.DataReply dr && dr.data() != null) {
                        arrived = dr.data();
                    }
                } catch (Exception e) {
                    LOG.log(Level.DEBUG, "replica fetch from " + p.getKey() + " failed: " + e);
                }
                for (String key : p.getValue()) {
                    Encoded b = arrived.get(key);
                    if (b != null) {
                        keep(key, b);
                        plan.arrived(key, b.nbytes());
                    }
                }
            }
        }
        Map<String, Long> got = new LinkedHashMap<>(plan.got());
        if (!got.isEmpty()) {
            events.submit(new WorkerEvent.DataAdded(got));
        }
        if (requestId != 0) {
            c.reply(requestId, new Message.AcquireReply(got, plan.missing()));
        } else if (c == scheduler.get()) {
            // queued behind the DataAdded above: the scheduler reads the AddKeys before this answer
            events.submit(new Message.AcquireReply(got, plan.missing()));
        }
    }

    /** Fetches what the state machine asked for from one peer and tells it what came and what did not. */
    void fetch(WorkerInstruction.Fetch f, FineMetrics.Bucket counts) {
        long start = System.nanoTime();
        countingFor.set(counts);
        try {
            Connection c = peers.get(f.peer());
            Message reply = c.request(new Message.GetData(f.keys()))
                    .get(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!(reply instanceof Message.DataReply dr)) {
                events.submit(new WorkerEvent.FetchFailed(f.peer(), f.keys(), "unexpected reply " + reply));
                return;
            }
            Map<String, Long> got = new LinkedHashMap<>();
            List<String> missing = new ArrayList<>();
            for (String key : f.keys()) {
                Encoded b = dr.data() == null ? null : dr.data().get(key);
                if (b == null) {
                    missing.add(key);
                } else {
                    keep(key, b);
                    got.put(key, b.nbytes());
                }
            }
            long size = 0;
            for (long n : got.values()) {
                size += n;
            }
            long end = System.nanoTime();
            metrics.fetched(f.peer(), start, end, size);
            counts.add(FineMetrics.TRANSFER, end - start, size);
            FlightEvents.transfer(got.keySet(), f.peer(), address.get(), size, end - start);
            events.submit(new WorkerEvent.FetchDone(f.peer(), got, missing));
        } catch (Throwable e) {
            // every fetch is answered, or the tasks waiting for its keys would wait forever
            if (TaskErrors.fatal(e)) {
                fatal.outOfMemory("fetching from " + f.peer(), e);
                return;
            }
            peers.drop(f.peer(), e);
            events.submit(new WorkerEvent.FetchFailed(f.peer(), f.keys(), e.toString()));
        }
    }
}
