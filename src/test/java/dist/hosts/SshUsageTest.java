package dist.hosts;

import dist.Main;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/** The ssh role's command line: mistakes are named before anything is started. */
class SshUsageTest {

    static String run(int expectCode, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        int code = Main.run(args, ps, ps);
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(expectCode, code, text);
        return text;
    }

    @Test
    void badSshCommandLinesSayWhatIsWrong() {
        assertTrue(run(2, "ssh").contains("at least one host"));
        assertTrue(run(2, "ssh", "--hostfile", "/nonexistent/hosts").contains("cannot read --hostfile"));
        assertTrue(run(2, "ssh", "node1:22").contains("--ssh-port"));
        assertTrue(run(2, "ssh", "node1", "--ssh-private-key", "/nonexistent/key").contains("--ssh-private-key"));
        assertTrue(run(2, "ssh", "node1", "--nthreads", "zero").contains("--nthreads must be a whole number"));
        assertTrue(run(2, "ssh", "node1", "--bogus").contains("unknown option --bogus"));
        assertTrue(run(0, "ssh", "--help").contains("--hostfile"));
        assertTrue(run(0, "--help").contains("ssh HOST"));
    }
}
