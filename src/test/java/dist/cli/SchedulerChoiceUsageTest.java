package dist.cli;

import dist.Main;
import dist.config.Config;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** How worker and nanny commands are told their scheduler: mistakes are named before anything starts. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SchedulerChoiceUsageTest {

    static String run(int expectCode, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        int code;
        try (Config.Override o = Config.set("distributed.scheduler-address", "")) {
            code = Main.run(args, ps, ps);
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(expectCode, code, text);
        return text;
    }

    @Test
    void noSchedulerNamesTheThreeWays() {
        for (String role : new String[]{"worker", "nanny"}) {
            String text = run(2, role, "--no-dashboard");
            assertTrue(text.contains("HOST:PORT") && text.contains("--scheduler-file")
                    && text.contains("distributed.scheduler-address"), text);
        }
    }

    @Test
    void addressAndFileTogetherAreRefused() {
        for (String role : new String[]{"worker", "nanny"}) {
            String text = run(2, role, "127.0.0.1:8786", "--scheduler-file", "s.json");
            assertTrue(text.contains("one scheduler"), text);
        }
    }

    @Test
    void aFileThatNeverAppearsEndsTheCommandAfterTheConnectTimeout(@TempDir Path dir) {
        String missing = dir.resolve("scheduler.json").toString();
        for (String role : new String[]{"worker", "nanny"}) {
            String text = run(1, role, "--scheduler-file", missing, "--connect-timeout", "1");
            assertTrue(text.contains("no scheduler file at " + missing), text);
        }
    }

    @Test
    void helpTellsOfTheSchedulerFile() {
        for (String role : new String[]{"scheduler", "worker", "nanny"}) {
            assertTrue(run(0, role, "--help").contains("--scheduler-file PATH"), role);
        }
    }
}
