package dist;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The jar's entry point: an old runtime gets a sentence, not an UnsupportedClassVersionError; --version answers. */
class LauncherTest {

    @Test
    void anOldRuntimeIsToldWhatToRunInstead() {
        String s = Launcher.refusal("17", "/usr/lib/jvm/java-17");
        assertNotNull(s);
        assertTrue(s.contains("Java 21 or newer") && s.contains("Java 17") && s.contains("/usr/lib/jvm/java-17"), s);
        assertNotNull(Launcher.refusal("1.8", "/old"));
        assertNull(Launcher.refusal("21", "/jdk"));
        assertNull(Launcher.refusal("25", "/jdk"));
    }

    @Test
    void theLauncherIsCompiledForEveryRuntime() throws Exception {
        Path cls = Path.of("target/classes/dist/Launcher.class");
        byte[] b = Files.readAllBytes(cls);
        int major = ((b[6] & 0xff) << 8) | (b[7] & 0xff);
        assertEquals(52, major, "class file version of the entry point (52 is Java 8)");
    }

    /** With a JDK older than 21 on the machine, the entry point says so in a sentence and exits 2. */
    @Test
    void anOldJavaRunningTheEntryPointPrintsTheSentence() throws Exception {
        Path old = null;
        try (var dirs = Files.list(Path.of("/usr/lib/jvm"))) {
            for (Path d : dirs.toList()) {
                Path java = d.resolve("bin/java");
                if (Files.isExecutable(java) && d.getFileName().toString().matches(".*(-|^)(8|11|17)(-|\\.|$).*")) {
                    old = java;
                    break;
                }
            }
        } catch (java.io.IOException e) {
            // no /usr/lib/jvm: the decision itself is checked above
        }
        if (old == null) {
            assertNotNull(Launcher.refusal("17", "?")); // no old JVM here: the decision alone
            return;
        }
        Process p = new ProcessBuilder(List.of(old.toString(), "-cp", "target/classes", "dist.Launcher", "scheduler"))
                .redirectErrorStream(true).start();
        try {
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the old JVM ended");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(2, p.exitValue(), out);
            assertTrue(out.contains("dist needs Java 21 or newer"), out);
            assertFalse(out.contains("UnsupportedClassVersionError"), out);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void versionNamesDistAndJava() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, Main.run(new String[]{"--version"}, new PrintStream(out, true), System.err));
        String s = out.toString(StandardCharsets.UTF_8);
        assertTrue(s.startsWith("dist ") && s.contains("Java " + Runtime.version().feature()), s);
    }
}
