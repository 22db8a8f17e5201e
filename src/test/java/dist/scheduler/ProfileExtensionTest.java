package dist.scheduler;

import dist.protocol.Message.ProfileFrame;
import dist.protocol.Message.ProfileKey;
import dist.protocol.Message.ProfileReport;
import dist.protocol.Message.ProfileTree;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The scheduler's profile history: merged per group and time window, bounded, refusing malformed trees. */
class ProfileExtensionTest {

    static ProfileKey key(String key, long samples, String... frames) {
        List<ProfileFrame> f = new ArrayList<>();
        f.add(new ProfileFrame(-1, key, samples));
        for (int i = 0; i < frames.length; i++) {
            f.add(new ProfileFrame(i, frames[i], samples));
        }
        return new ProfileKey(key, f);
    }

    @Test
    void mergesPerGroupAndWindow() {
        ProfileExtension p = new ProfileExtension();
        p.onWorker(null, new ProfileReport(1000, 2000, List.of(key("inc-1", 3, "A.run(A.java)", "A.inc(A.java)"),
                key("dec-1", 2, "A.run(A.java)", "A.dec(A.java)"))), 0);
        p.onWorker(null, new ProfileReport(5000, 6000, List.of(key("inc-2", 4, "A.run(A.java)", "A.inc(A.java)"))), 0);

        ProfileTree all = p.merged(0, Long.MAX_VALUE, null);
        assertEquals(List.of(new ProfileFrame(-1, "all", 9), new ProfileFrame(0, "A.run(A.java)", 9),
                new ProfileFrame(1, "A.inc(A.java)", 7), new ProfileFrame(1, "A.dec(A.java)", 2)), all.frames());
        assertEquals(List.of("inc", "dec"), all.groups());

        assertEquals(7, p.merged(0, Long.MAX_VALUE, "inc").frames().get(0).count());
        assertEquals(3, p.merged(0, 3000, "inc").frames().get(0).count(), "the window holds the first cycle only");
        assertEquals(0, p.merged(2500, 4000, null).frames().get(0).count());
        p.validate();
    }

    @Test
    void keepsAtMostItsFramesDroppingTheOldest() {
        ProfileExtension p = new ProfileExtension();
        List<ProfileFrame> wide = new ArrayList<>();
        wide.add(new ProfileFrame(-1, "wide-1", 1));
        for (int i = 1; i < 40_000; i++) {
            wide.add(new ProfileFrame(0, "A.f" + i + "(A.java)", 1));
        }
        ProfileKey big = new ProfileKey("wide-1", wide);
        int reports = ProfileExtension.MAX_FRAMES / 40_000 + 5;
        for (int i = 0; i < reports; i++) {
            p.onWorker(null, new ProfileReport(i * 1000L, i * 1000L + 999, List.of(big)), 0);
        }
        p.validate();
        assertEquals(ProfileExtension.MAX_FRAMES / 40_000, p.merged(0, Long.MAX_VALUE, null).frames().get(0).count());
        assertEquals(0, p.merged(0, 4999, null).frames().get(0).count(), "the first five cycles went");
    }

    @Test
    void refusesMalformedAndOversizedReports() {
        ProfileExtension p = new ProfileExtension();
        List<ProfileFrame> forward = List.of(new ProfileFrame(-1, "k", 1), new ProfileFrame(2, "x", 1),
                new ProfileFrame(0, "y", 1));
        assertThrows(IllegalArgumentException.class,
                () -> p.onWorker(null, new ProfileReport(0, 1, List.of(new ProfileKey("k", forward))), 0));
        assertThrows(IllegalArgumentException.class,
                () -> p.onWorker(null, new ProfileReport(0, 1, List.of(new ProfileKey("k", List.of()))), 0));
        String[] deep = new String[ProfileExtension.MAX_DEPTH + 1];
        java.util.Arrays.fill(deep, "A.deep(A.java)");
        assertThrows(IllegalArgumentException.class,
                () -> p.onWorker(null, new ProfileReport(0, 1, List.of(key("deep-1", 1, deep))), 0));
        List<ProfileFrame> wide = new ArrayList<>();
        wide.add(new ProfileFrame(-1, "wide-1", 1));
        for (int i = 0; i < ProfileExtension.MAX_REPORT_FRAMES; i++) {
            wide.add(new ProfileFrame(0, "A.f(A.java)", 1));
        }
        assertThrows(IllegalArgumentException.class,
                () -> p.onWorker(null, new ProfileReport(0, 1, List.of(new ProfileKey("wide-1", wide))), 0));
        assertEquals(0, p.merged(0, Long.MAX_VALUE, null).frames().get(0).count(), "a refused report changes nothing");
        p.validate();
    }
}
