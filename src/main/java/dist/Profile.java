package dist;

import dist.protocol.Message;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A profile of tasks as the workers' sampling profiler saw them ({@link Client#profile}): a tree of
 * frames ("pkg.Cls.method(File.java)"), each with the samples taken while it or a frame it called ran.
 * The root is "all", whose count is every sample; a frame's children are the methods it called.
 *
 * <pre>{@code
 * Profile p = client.profile("inc");                 // the task group of keys "inc-..."
 * System.out.println(p.count() + " samples");
 * p.find("Work.inc(").ifPresent(f -> System.out.println(f.count() + " in Work.inc"));
 * }</pre>
 *
 * @param frame    the method, e.g. "app.Work.inc(Work.java)"; "all" at the root
 * @param count    samples taken in it or in what it called
 * @param children the methods it called, as samples found them
 * @param groups   at the root, the task groups whose samples it holds; empty below
 */
public record Profile(String frame, long count, List<Profile> children, List<String> groups) {

    public Profile {
        children = List.copyOf(children);
        groups = List.copyOf(groups);
    }

    /** The first frame, depth first from this one, whose text contains {@code fragment}. */
    public Optional<Profile> find(String fragment) {
        if (frame.contains(fragment)) {
            return Optional.of(this);
        }
        for (Profile c : children) {
            Optional<Profile> f = c.find(fragment);
            if (f.isPresent()) {
                return f;
            }
        }
        return Optional.empty();
    }

    /** The tree as text, one frame a line, indented by depth, with its sample count. */
    public String format() {
        StringBuilder b = new StringBuilder();
        format(b, 0);
        return b.toString();
    }

    private void format(StringBuilder b, int depth) {
        b.append("  ".repeat(depth)).append(count).append(' ').append(frame).append('\n');
        for (Profile c : children) {
            c.format(b, depth + 1);
        }
    }

    /** The tree a scheduler sent: frames in preorder, each after its parent. */
    static Profile of(Message.ProfileTree t) {
        List<Message.ProfileFrame> f = t.frames();
        if (f.isEmpty()) {
            return new Profile("all", 0, List.of(), t.groups());
        }
        List<List<Profile>> kids = new ArrayList<>(f.size());
        for (int i = 0; i < f.size(); i++) {
            kids.add(new ArrayList<>());
        }
        Profile[] built = new Profile[f.size()];
        // children come after their parent, so building from the end finds each node's children made
        for (int i = f.size() - 1; i >= 0; i--) {
            List<Profile> mine = kids.get(i);
            java.util.Collections.reverse(mine);
            built[i] = new Profile(f.get(i).frame(), f.get(i).count(), mine, i == 0 ? t.groups() : List.of());
            int p = f.get(i).parent();
            if (p >= 0) {
                kids.get(p).add(built[i]);
            }
        }
        return built[0];
    }
}
