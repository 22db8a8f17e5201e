package dist.cli;

import dist.Main;
import dist.scheduler.WorkerLostEvent;
import dist.worker.FlightEvents;
import jdk.jfr.Recording;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** {@code dist report}: recordings in, one page out; a file that is no recording is named, without a stack trace. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReportCommandTest {

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** A recording of one process: a task on each of two workers, a fetch, a spill, a worker lost. */
    static Path recording(Path dir) throws Exception {
        Path file = dir.resolve("worker.jfr");
        try (Recording r = new Recording()) {
            for (String e : List.of("dist.TaskExecuted", "dist.Transfer", "dist.Spill", "dist.WorkerLost")) {
                r.enable(e);
            }
            r.start();
            for (String[] kw : new String[][]{{"load-7e1a", "10.0.0.1:4001"}, {"parse-9c2b", "10.0.0.2:4002"}}) {
                FlightEvents.TaskExecuted t = new FlightEvents.TaskExecuted();
                t.begin();
                t.key = kw[0];
                t.group = kw[0].substring(0, kw[0].indexOf('-'));
                t.worker = kw[1];
                t.runTime = 1;
                t.resultBytes = 800;
                t.commit();
            }
            FlightEvents.Transfer f = new FlightEvents.Transfer();
            f.keys = "load-7e1a";
            f.from = "10.0.0.1:4001";
            f.to = "10.0.0.2:4002";
            f.bytes = 123_457;
            f.commit();
            FlightEvents.Spill s = new FlightEvents.Spill();
            s.key = "load-7e1a";
            s.bytes = 98_765;
            s.toDisk = true;
            s.commit();
            WorkerLostEvent l = new WorkerLostEvent();
            l.address = "10.0.0.2:4002";
            l.reason = "it closed";
            l.commit();
            r.stop();
            r.dump(file);
        }
        return file;
    }

    @Test
    void aRecordingBecomesAReport(@TempDir Path dir) throws Exception {
        Path jfr = recording(dir);
        Path html = dir.resolve("out").resolve("report.html");
        Result r = run("report", jfr.toString(), "--out", html.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("report written to " + html.toAbsolutePath()), r.out());
        String page = Files.readString(html, StandardCharsets.UTF_8);
        for (String s : List.of("<title>load-7e1a</title>", "<title>parse-9c2b</title>", ">10.0.0.1:4001</text>",
                "<td>123457</td>", "<table id=\"spill\">", "<td>98765</td>", "<table id=\"workers-lost\">",
                "<td>it closed</td>", "worker.jfr")) {
            assertTrue(page.contains(s), s + " in the report:\n" + page);
        }
        // a directory stands for its recordings
        Path again = dir.resolve("again.html");
        assertEquals(0, run("report", dir.toString(), "--out=" + again).code());
        assertTrue(Files.readString(again, StandardCharsets.UTF_8).contains("<title>parse-9c2b</title>"));
    }

    @Test
    void aBadFileIsNamedWithoutAStackTrace(@TempDir Path dir) throws Exception {
        Path text = dir.resolve("notes.jfr");
        Files.writeString(text, "not a recording\n");
        Path jfr = recording(dir);
        Path cut = dir.resolve("cut.jfr");
        byte[] whole = Files.readAllBytes(jfr);
        Files.write(cut, Arrays.copyOf(whole, whole.length / 2));
        Path html = dir.resolve("report.html");
        String[][] cases = {
                {"report", text.toString(), "--out", html.toString()},
                {"report", jfr.toString(), cut.toString(), "--out", html.toString()},
                {"report", dir.resolve("missing.jfr").toString(), "--out", html.toString()},
                {"report", "--out", html.toString()},
                {"report", jfr.toString(), "--out", dir.toString()},
                {"report", jfr.toString(), "--bogus"},
        };
        String[] said = {text + " is not a Flight Recorder recording", cut.toString(),
                "no such file: " + dir.resolve("missing.jfr"), "give at least one recording", "is a directory",
                "unknown option --bogus"};
        for (int i = 0; i < cases.length; i++) {
            Result r = run(cases[i]);
            assertEquals(2, r.code(), Arrays.toString(cases[i]) + ": " + r.err());
            assertTrue(r.err().startsWith("dist report: ") && r.err().contains(said[i]), r.err());
            assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
            assertFalse(Files.exists(html), "no report from " + Arrays.toString(cases[i]));
        }
        Result r = run("report", jfr.toString(), "--out", text.resolve("report.html").toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("cannot write the report to " + text.resolve("report.html")), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        assertEquals(0, run("report", "--help").code());
    }
}
