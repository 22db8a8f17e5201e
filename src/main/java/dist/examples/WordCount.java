package dist.examples;

import dist.Client;
import dist.Future;
import dist.LocalCluster;
import dist.Progress;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * The seed manual's word count (2.6): count the words of every text file in a folder on the workers,
 * keep each file's 10,000 most frequent, gather and merge those here, and print the 10 most frequent
 * overall. {@code ./run.sh example wordcount [DIR]}; without DIR it writes a small corpus of
 * generated text files (the same words every time) to a temporary folder first.
 *
 * <pre>{@code
 * try (LocalCluster cluster = LocalCluster.builder().workers(2).start(); Client client = cluster.client()) {
 *     WordCount.Result r = WordCount.run(client, WordCount.textFiles(dir), System.out, false);
 *     System.out.println(r.top(10));
 * }
 * }</pre>
 */
public final class WordCount {
    /** Words kept per file before the merge, as in the manual. */
    public static final int TOP_PER_FILE = 10_000;

    private WordCount() {
    }

    /** What a run found: distinct words after the merge, and every merged word with its count, most frequent first. */
    public record Result(int files, Map<String, Long> counts) {
        /** The {@code n} most frequent words with their counts. */
        public List<Map.Entry<String, Long>> top(int n) {
            return counts.entrySet().stream().limit(n).map(e -> Map.entry(e.getKey(), e.getValue())).toList();
        }
    }

    /** Runs on a worker: how often each whitespace-separated word occurs in {@code file}. */
    public static Map<String, Long> countWords(String file) throws IOException {
        Map<String, Long> counts = new HashMap<>();
        try (BufferedReader r = Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                for (String w : line.trim().split("\\s+")) {
                    if (!w.isEmpty()) {
                        counts.merge(w, 1L, Long::sum);
                    }
                }
            }
        }
        return counts;
    }

    /** Runs on a worker: the {@value #TOP_PER_FILE} most frequent words, most frequent first. */
    public static Map<String, Long> topItems(Map<String, Long> counts) {
        return sorted(counts, TOP_PER_FILE);
    }

    /** Most frequent first; equal counts in word order, so the output repeats exactly. */
    static Map<String, Long> sorted(Map<String, Long> counts, int limit) {
        Map<String, Long> top = new LinkedHashMap<>();
        counts.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder())
                        .thenComparing(Map.Entry.comparingByKey()))
                .limit(limit)
                .forEachOrdered(e -> top.put(e.getKey(), e.getValue()));
        return top;
    }

    /**
     * The manual's pipeline: {@code map(countWords)}, a progress bar, {@code map(topItems)}, gather,
     * merge. {@code redraw}: draw the bar in place (a terminal) or a line per 10% (a log).
     */
    public static Result run(Client client, List<Path> files, PrintStream out, boolean redraw) throws Exception {
        List<String> names = files.stream().map(p -> p.toAbsolutePath().toString()).toList();
        List<Future<Map<String, Long>>> counts = client.map(WordCount::countWords, names);
        out.println("counting words in " + names.size() + " files");
        Progress.progress(counts, out, redraw);
        List<Future<Map<String, Long>>> tops = client.map(WordCount::topItems, counts);
        Map<String, Long> all = new HashMap<>();
        for (Map<String, Long> top : client.gather(tops)) {
            top.forEach((w, n) -> all.merge(w, n, Long::sum));
        }
        return new Result(names.size(), sorted(all, Integer.MAX_VALUE));
    }

    /** The regular files in {@code dir} (not its sub-folders), in name order. */
    public static List<Path> textFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException(dir + " is not a folder; give a folder of text files, or none for a generated corpus");
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    /**
     * Writes {@code files} text files of {@code wordsPerFile} words each into {@code dir}: words from a
     * vocabulary of made-up words, drawn with Zipf-like frequencies (a few common, many rare) from a
     * fixed seed, so every run writes the same text.
     */
    public static List<Path> generateCorpus(Path dir, int files, int wordsPerFile) throws IOException {
        Files.createDirectories(dir);
        String[] vocabulary = new String[3000];
        String[] syllables = {"ka", "lo", "mi", "ne", "ru", "ta", "shi", "po", "ve", "da", "zu", "ge"};
        SplittableRandom words = new SplittableRandom(7);
        for (int i = 0; i < vocabulary.length; i++) {
            StringBuilder w = new StringBuilder();
            int n = 1 + words.nextInt(3);
            for (int s = 0; s < n; s++) {
                w.append(syllables[words.nextInt(syllables.length)]);
            }
            vocabulary[i] = w.append(i).toString(); // the index keeps words distinct
        }
        List<Path> out = new ArrayList<>();
        double logV = Math.log(vocabulary.length);
        for (int f = 0; f < files; f++) {
            SplittableRandom r = new SplittableRandom(1000L + f);
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < wordsPerFile; i++) {
                int idx = (int) Math.exp(r.nextDouble() * logV) - 1; // about 1/(i+1): Zipf-like
                text.append(vocabulary[Math.min(idx, vocabulary.length - 1)]).append((i % 12 == 11) ? '\n' : ' ');
            }
            Path p = dir.resolve(String.format("text-%03d.txt", f));
            Files.writeString(p, text, StandardCharsets.UTF_8);
            out.add(p);
        }
        return out;
    }

    /** {@code wordcount [DIR] [--scheduler HOST:PORT]}: a local cluster of two worker processes unless a scheduler is named. */
    public static void main(String[] args) throws Exception {
        String dir = null;
        String scheduler = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--scheduler") && i + 1 < args.length) {
                scheduler = args[++i];
            } else if (args[i].startsWith("--") || dir != null) {
                System.err.println("usage: ./run.sh example wordcount [DIR] [--scheduler HOST:PORT]\n"
                        + "  counts the words of the text files in DIR (default: a generated corpus)");
                System.exit(2);
                return;
            } else {
                dir = args[i];
            }
        }
        Path tmp = null;
        List<Path> files;
        try {
            if (dir == null) {
                tmp = Files.createTempDirectory("dist-wordcount-");
                files = generateCorpus(tmp, 24, 50_000);
                System.out.println("generated " + files.size() + " text files of 50,000 words in " + tmp);
            } else {
                files = textFiles(Path.of(dir));
                if (files.isEmpty()) {
                    System.err.println("wordcount: no files in " + dir);
                    System.exit(1);
                    return;
                }
            }
        } catch (IOException e) {
            System.err.println("wordcount: " + e.getMessage());
            System.exit(1);
            return;
        }
        try {
            Result r;
            if (scheduler != null) {
                try (Client client = Client.connect(scheduler)) {
                    r = run(client, files, System.out, System.console() != null);
                }
            } else {
                try (LocalCluster cluster = LocalCluster.builder().workers(2).threadsPerWorker(2).processes(true)
                        .output(null).start();
                     Client client = cluster.client()) {
                    r = run(client, files, System.out, System.console() != null);
                }
            }
            System.out.println("distinct words: " + r.counts().size());
            System.out.println("top 10: " + r.top(10));
        } finally {
            if (tmp != null) {
                try (Stream<Path> s = Files.list(tmp)) {
                    for (Path p : s.toList()) {
                        Files.deleteIfExists(p);
                    }
                }
                Files.deleteIfExists(tmp);
            }
        }
    }
}
