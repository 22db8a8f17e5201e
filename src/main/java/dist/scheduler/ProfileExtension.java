package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.ProfileCounts;
import dist.protocol.Message.ProfileCountsRequest;
import dist.protocol.Message.ProfileFrame;
import dist.protocol.Message.ProfileKey;
import dist.protocol.Message.ProfileReport;
import dist.protocol.Message.ProfileRequest;
import dist.protocol.Message.ProfileTree;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keeps the profiles workers send every cycle ({@link ProfileReport}), per task key's group, and
 * answers a client's {@link ProfileRequest} with them merged into one tree (dask's
 * {@code Scheduler.get_profile}). The history is bounded in frames: the oldest cycles go first.
 */
final class ProfileExtension implements SchedulerExtension {
    /** Frames kept in all, about a hundred bytes each. */
    static final int MAX_FRAMES = 1_000_000;
    /** Frames one report may carry (a worker sends at most 10,000); more is refused. */
    static final int MAX_REPORT_FRAMES = 50_000;
    /** Depth of a frame at most (a worker keeps 256 below a key), so merging never recurses deeper. */
    static final int MAX_DEPTH = 1024;

    /** The samples of one key's tasks on one worker in one cycle. */
    record Entry(long startMillis, long stopMillis, String group, List<ProfileFrame> frames) {
    }

    private final ArrayDeque<Entry> history = new ArrayDeque<>();
    private long frames;

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    private SchedulerContext core;

    @Override
    public Set<Class<? extends Message>> clientMessages() {
        return Set.of(ProfileRequest.class, ProfileCountsRequest.class);
    }

    @Override
    public Set<Class<? extends Message>> workerMessages() {
        return Set.of(ProfileReport.class);
    }

    @Override
    public void onWorker(WorkerState worker, Message message, long requestId) {
        ProfileReport r = (ProfileReport) message;
        long n = 0;
        for (ProfileKey k : r.keys()) {
            check(k);
            n += k.frames().size();
        }
        if (n > MAX_REPORT_FRAMES) {
            throw new IllegalArgumentException("a profile report carries at most " + MAX_REPORT_FRAMES
                    + " frames; this one has " + n);
        }
        for (ProfileKey k : r.keys()) {
            history.addLast(new Entry(r.startMillis(), r.stopMillis(), TaskPrefix.split(k.key()), k.frames()));
            frames += k.frames().size();
        }
        while (frames > MAX_FRAMES) {
            frames -= history.removeFirst().frames().size();
        }
    }

    /** A preorder tree: one root first, each other frame after its parent. */
    private static void check(ProfileKey k) {
        List<ProfileFrame> f = k.frames();
        if (k.key() == null || f == null || f.isEmpty() || f.get(0).parent() != -1) {
            throw new IllegalArgumentException("a profile of a key needs the key and a root frame first");
        }
        int[] depth = new int[f.size()];
        for (int i = 1; i < f.size(); i++) {
            int p = f.get(i).parent();
            if (p < 0 || p >= i || f.get(i).frame() == null) {
                throw new IllegalArgumentException("frame " + i + " of the profile of " + k.key()
                        + " does not follow its parent");
            }
            depth[i] = depth[p] + 1;
            if (depth[i] > MAX_DEPTH) {
                throw new IllegalArgumentException("the profile of " + k.key() + " is deeper than " + MAX_DEPTH + " frames");
            }
        }
    }

    @Override
    public void onClient(String clientId, Message message, long requestId) {
        if (message instanceof ProfileCountsRequest r) {
            core.reply(clientId, counts(r.startMillis(), r.stopMillis(), r.intervalMillis()), requestId);
            return;
        }
        ProfileRequest r = (ProfileRequest) message;
        core.reply(clientId, merged(r.startMillis(), r.stopMillis(), r.taskGroup()), requestId);
    }

    /** Intervals one counts answer spans at most, so a tiny interval over a long time is refused, not built. */
    static final int MAX_INTERVALS = 100_000;

    /**
     * Samples per {@code interval} ms, a cycle counting in the interval its end falls in, from {@code start}
     * (0: the oldest kept cycle's interval) to {@code stop}'s interval: an interval without samples counts 0,
     * so a quiet cluster shows as zeros up to {@code stop}. Each group has a count in every interval.
     */
    ProfileCounts counts(long start, long stop, long interval) {
        if (interval <= 0 || stop < start) {
            throw new IllegalArgumentException("profile counts need an interval above 0 and start <= stop, got interval "
                    + interval + " ms over [" + start + ", " + stop + "]");
        }
        long first = Long.MAX_VALUE;
        if (start > 0) {
            first = Math.floorDiv(start, interval) * interval;
        } else {
            for (Entry e : history) {
                first = Math.min(first, Math.floorDiv(e.stopMillis(), interval) * interval);
            }
        }
        if (first == Long.MAX_VALUE || first > stop) {
            return new ProfileCounts(List.of(), List.of(), Map.of());
        }
        long n = (stop - first) / interval + 1;
        if (n > MAX_INTERVALS) {
            throw new IllegalArgumentException("profile counts span at most " + MAX_INTERVALS + " intervals; ["
                    + start + ", " + stop + "] at " + interval + " ms has " + n);
        }
        long[] all = new long[(int) n];
        Map<String, long[]> groups = new java.util.TreeMap<>();
        for (Entry e : history) {
            long i = (e.stopMillis() - first) / interval;
            if (e.stopMillis() < first || i >= n) {
                continue;
            }
            long c = e.frames().get(0).count();
            all[(int) i] += c;
            groups.computeIfAbsent(e.group(), g -> new long[(int) n])[(int) i] += c;
        }
        List<Long> times = new ArrayList<>((int) n);
        for (long i = 0; i < n; i++) {
            times.add(first + i * interval);
        }
        Map<String, List<Long>> byGroup = new LinkedHashMap<>();
        groups.forEach((g, c) -> byGroup.put(g, java.util.Arrays.stream(c).boxed().toList()));
        return new ProfileCounts(times, java.util.Arrays.stream(all).boxed().toList(), byGroup);
    }

    /** The cycles overlapping [start, stop] of group {@code group} (null: all), merged under a root "all". */
    ProfileTree merged(long start, long stop, String group) {
        Node root = new Node("all");
        Set<String> groups = new LinkedHashSet<>();
        for (Entry e : history) {
            if (e.stopMillis() < start || e.startMillis() > stop || group != null && !group.equals(e.group())) {
                continue;
            }
            groups.add(e.group());
            List<ProfileFrame> f = e.frames();
            Node[] at = new Node[f.size()];
            at[0] = root;
            root.count += f.get(0).count();
            for (int i = 1; i < f.size(); i++) {
                ProfileFrame x = f.get(i);
                Node n = at[x.parent()].children.computeIfAbsent(x.frame(), Node::new);
                n.count += x.count();
                at[i] = n;
            }
        }
        List<ProfileFrame> out = new ArrayList<>();
        preorder(root, -1, out);
        return new ProfileTree(out, List.copyOf(groups));
    }

    private static void preorder(Node n, int parent, List<ProfileFrame> out) {
        int me = out.size();
        out.add(new ProfileFrame(parent, n.frame, n.count));
        for (Node c : n.children.values()) {
            preorder(c, me, out);
        }
    }

    private static final class Node {
        final String frame;
        long count;
        final Map<String, Node> children = new LinkedHashMap<>(4);

        Node(String frame) {
            this.frame = frame;
        }
    }

    @Override
    public void validate() {
        long n = 0;
        for (Entry e : history) {
            n += e.frames().size();
        }
        if (n != frames || frames > MAX_FRAMES) {
            throw new IllegalStateException("the profile history counts " + frames + " frames but holds " + n);
        }
    }
}
