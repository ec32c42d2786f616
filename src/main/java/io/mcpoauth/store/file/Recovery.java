package io.mcpoauth.store.file;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * {@code store check} and {@code store recover}: verify every data file, and bring back what can be brought back.
 *
 * <p>A file's problem is one of (the word before the colon): {@code missing}, {@code damaged}, {@code unreadable}
 * (a permission error: not damage, nothing is changed, the operator fixes owner or mode), {@code not a file} (a
 * directory or symbolic link in its place: left alone), {@code newer format} (left alone), {@code journal damaged},
 * {@code journal unreadable}.
 *
 * <p>Recovering restores the previous generation of a damaged or missing file, and rebuilds a journaled file from
 * every journal frame that can still be read (skipping a missing segment or a damaged frame, keeping a copy of the
 * damaged bytes). Going back can bring back refresh tokens that were rotated or revoked since, so every
 * refresh-token family whose state may have gone back is listed.
 */
public final class Recovery {
    private static final String SUFFIX = ".json";
    private final SnapshotFormat format = new SnapshotFormat();

    /** The state of one data file; {@code problem} starts with the kind of problem (see the class comment). */
    public record FileState(String name, boolean ok, String problem, boolean previousUsable, int records) {}

    /** Checks every data file in {@code dir} without taking the lock (safe while the server runs: files are renamed into place). */
    public List<FileState> check(Path dir) throws IOException {
        List<FileState> out = new ArrayList<>();
        FileState manifest = manifestState(dir);
        if (manifest != null) out.add(manifest);
        for (String name : dataFiles(dir)) out.add(state(dir, name));
        return out;
    }

    /**
     * Restores damaged or missing files, holding the lock. Files that cannot be read (permissions), that are not
     * files, or that a newer version wrote are left exactly as they are and reported as not recovered.
     *
     * @param discard file names the operator chose to start empty when nothing can be restored
     * @param report  receives one line per action, and one per refresh-token family whose state goes back
     * @return the names that could not be recovered
     */
    public List<String> recover(Path dirPath, List<String> discard, Consumer<String> report) throws IOException {
        List<String> failed = new ArrayList<>();
        try (DataDirectory dir = DataDirectory.open(dirPath)) {
            Path d = dir.path();
            FileState manifest = manifestState(d);
            boolean rebuildManifest = false;
            if (manifest != null) {
                if (manifest.problem().startsWith("unreadable")) {
                    report.accept(Manifest.FILE + ": " + manifest.problem() + "; nothing was changed");
                    failed.add(Manifest.FILE);
                } else {
                    Path aside = moveAside(d.resolve(Manifest.FILE));
                    report.accept(Manifest.FILE + ": " + manifest.problem() + "; moved aside to " + aside.getFileName()
                            + "; it is written again from the files present");
                    rebuildManifest = true;
                }
            }
            for (String name : dataFiles(d)) {
                FileState st = state(d, name);
                if (st.ok()) {
                    report.accept(name + ": intact (" + st.records() + " records)");
                    continue;
                }
                String kind = st.problem().substring(0, Math.max(0, st.problem().indexOf(':')));
                switch (kind) {
                    case "unreadable", "journal unreadable" -> {
                        report.accept(name + ": " + st.problem() + ". Nothing was changed: this is not damage. Let the user who runs"
                                + " the server read it (chown, chmod 600), then start the server.");
                        failed.add(name);
                    }
                    case "not a file" -> {
                        report.accept(name + ": " + st.problem() + ". Nothing was changed: move it out of the way yourself, then run"
                                + " store recover again.");
                        failed.add(name);
                    }
                    case "newer format" -> {
                        report.accept(name + ": " + st.problem() + ". Left as it is: run the newer version.");
                        failed.add(name);
                    }
                    case "journal damaged" -> {
                        Path file = d.resolve(name);
                        SnapshotFormat.Decoded snap = decodeQuietly(read(file));
                        report.accept(name + ": " + st.problem());
                        rebuildJournaled(d, name, snap, "the snapshot", report);
                    }
                    default -> recoverFile(d, name, st, discard, report, failed);
                }
            }
            if (rebuildManifest) {
                List<String> present = new ArrayList<>();
                for (String name : dataFiles(d)) if (Files.isRegularFile(d.resolve(name), LinkOption.NOFOLLOW_LINKS)) present.add(name);
                Manifest.rebuild(d, FileOps.POSIX, format, present);
                report.accept(Manifest.FILE + ": written again, listing " + String.join(", ", present));
            }
        }
        return failed;
    }

    /** A damaged or missing file: its previous generation, or empty on request, or nothing. */
    private void recoverFile(Path d, String name, FileState st, List<String> discard, Consumer<String> report, List<String> failed)
            throws IOException {
        Path file = d.resolve(name);
        SnapshotWriter writer = new SnapshotWriter(file, FileOps.POSIX, format);
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            Path aside = moveAside(file);
            report.accept(name + ": " + st.problem() + "; moved aside to " + aside.getFileName());
        } else {
            report.accept(name + ": " + st.problem());
        }
        Path prev = d.resolve(name + SnapshotWriter.PREV_SUFFIX);
        boolean journaled = name.equals(FileStores.REFRESH_TOKENS) || !new Journal(file, FileOps.POSIX).segments().isEmpty();
        if (st.previousUsable()) {
            byte[] bytes = FileOps.POSIX.readFile(prev);
            SnapshotFormat.Decoded decoded = decodeQuietly(bytes);
            report.accept(name + ": restored the previous generation (" + decoded.records().size() + " records)");
            if (name.equals(FileStores.REFRESH_TOKENS)) reportFamilies(decoded, report);
            if (journaled) {
                rebuildJournaled(d, name, decoded, "the previous generation", report);
            } else {
                writer.writeBytes(bytes);
            }
        } else if (discard.contains(name)) {
            if (journaled) {
                rebuildJournaled(d, name, null, "nothing (--discard)", report);
            } else {
                writer.writeBytes(format.encode(kindOf(name), 1, List.<Map.Entry<String, ?>>of(), SnapshotFormat.Layout.INDENTED));
            }
            report.accept(name + ": no usable previous generation; started empty as requested (--discard)");
        } else {
            report.accept(name + ": no usable previous generation. Restore it from a backup, or run "
                    + FileStore.RECOVER_COMMAND + " --discard " + name + " to start it empty.");
            failed.add(name);
        }
    }

    /**
     * A journaled file from {@code base} (null: empty, and the journal is set aside) and every journal frame from its
     * first segment on that can still be read: a missing segment or a damaged frame is skipped (its bytes kept in a
     * {@code .corrupt-} copy of the segment), the frames after it are kept. Then a new snapshot naming a new, empty
     * segment is written, and the old segments are deleted (or, when damaged, moved aside).
     */
    private void rebuildJournaled(Path d, String name, SnapshotFormat.Decoded base, String baseLabel, Consumer<String> report)
            throws IOException {
        Path file = d.resolve(name);
        Journal journal = new Journal(file, FileOps.POSIX);
        TreeMap<String, JsonNode> state = new TreeMap<>();
        if (base != null) {
            for (Iterator<Map.Entry<String, JsonNode>> it = base.records().fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                state.put(e.getKey(), e.getValue());
            }
        }
        long from = base == null ? Long.MAX_VALUE : Math.max(1, base.journalSegment());
        List<Journal.Piece> pieces = base == null ? List.of() : journal.scan(from);
        Map<String, Integer> touched = new HashMap<>();
        Map<String, Integer> lost = new TreeMap<>();
        Map<String, JsonNode> lostValues = new HashMap<>();
        int unknownLossAt = -1;
        int kept = 0;
        Set<Path> damagedSegments = new LinkedHashSet<>();
        for (int i = 0; i < pieces.size(); i++) {
            Journal.Piece p = pieces.get(i);
            if (p.tornTail()) {
                report.accept(name + ": cut an unfinished write (" + p.length() + " bytes) at the end of " + p.path().getFileName()
                        + ": a commit that was never acknowledged");
                continue;
            }
            List<Map.Entry<String, JsonNode>> changes = p.payload() == null ? null : changes(p.payload());
            if (p.good() && changes != null) {
                for (Map.Entry<String, JsonNode> c : changes) {
                    if (c.getValue() == null) state.remove(c.getKey());
                    else state.put(c.getKey(), c.getValue());
                    touched.put(c.getKey(), i);
                }
                kept++;
                continue;
            }
            String problem = p.problem() != null ? p.problem() : p.path().getFileName() + " at byte " + p.offset() + ": a frame that is not valid JSON";
            if (Files.exists(p.path(), LinkOption.NOFOLLOW_LINKS)) damagedSegments.add(p.path());
            if (changes != null) {
                report.accept(name + ": " + problem + "; dropped that frame (" + p.length() + " bytes; it still names the families it held)");
                for (Map.Entry<String, JsonNode> c : changes) {
                    lost.put(c.getKey(), i);
                    lostValues.put(c.getKey(), c.getValue());
                }
            } else {
                List<String> named = p.payload() == null ? List.of() : keysIn(p.payload());
                report.accept(name + ": " + problem + (p.length() > 0 ? "; dropped " + p.length() + " bytes that cannot be read" : "")
                        + "; the changes recorded there are lost" + (named.isEmpty() ? "" : " (the families named in its bytes are listed)"));
                for (String k : named) lost.put(k, i);
                unknownLossAt = i;
            }
        }
        // what may have gone back, family by family
        for (Map.Entry<String, Integer> e : lost.entrySet()) {
            if (touched.getOrDefault(e.getKey(), -1) > e.getValue()) continue; // a later frame that was kept has its newer state
            JsonNode now = state.get(e.getKey());
            JsonNode was = lostValues.get(e.getKey());
            JsonNode shown = now != null ? now : was;
            String what;
            if (!lostValues.containsKey(e.getKey())) { // named in damaged bytes: what the change was is unknown
                what = now == null ? "a change to it in the damaged bytes is lost and it is not there now (if it was created there, it is"
                        + " gone: that sign-in must be repeated)"
                        : "a change to it in the damaged bytes is lost: it is back to its earlier state (a token rotated since works"
                        + " again, a revocation is undone); revoke it if in doubt";
            } else if (now == null) {
                what = was == null ? "its removal is lost, but it was not there before either"
                        : "it was created in the lost change and is gone: that sign-in must be repeated";
            } else {
                what = was == null ? "its revocation (removal) is lost: it works again; revoke it if in doubt"
                        : "its change there is lost: it is back to its earlier state (a token rotated since works again); revoke it if in doubt";
            }
            report.accept("  refresh-token family " + e.getKey() + familyOwner(shown) + ": " + what);
        }
        if (unknownLossAt >= 0 && base != null && !baseLabel.equals("the previous generation")) {
            for (Map.Entry<String, JsonNode> e : state.entrySet()) {
                if (touched.getOrDefault(e.getKey(), -1) > unknownLossAt || lost.containsKey(e.getKey())) continue;
                report.accept("  refresh-token family " + e.getKey() + familyOwner(e.getValue()) + ": as of " + baseLabel
                        + "; a rotation or revocation of it in the lost part is undone (its older token may work again); revoke it if in doubt");
            }
        }
        // write: a new empty segment, then the snapshot naming it, then the old segments go
        TreeMap<Long, Path> segs = journal.segments();
        long next = Math.max(segs.isEmpty() ? 0 : segs.lastKey(), base == null ? 0 : base.journalSegment()) + 1;
        journal.startSegment(next);
        journal.close();
        List<Map.Entry<String, ?>> records = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : state.entrySet()) records.add(new AbstractMap.SimpleImmutableEntry<>(e.getKey(), e.getValue()));
        long generation = base == null ? 1 : base.generation() + 1;
        new SnapshotWriter(file, FileOps.POSIX, format).writeBytes(format.encode(kindOf(name), generation, records, SnapshotFormat.Layout.ONE_LINE, next));
        for (Map.Entry<Long, Path> e : segs.entrySet()) {
            if (e.getKey() >= next) continue;
            if (damagedSegments.contains(e.getValue()) || base == null && Files.size(e.getValue()) > 0) {
                Path aside = moveAside(e.getValue());
                report.accept(name + ": kept a copy of " + e.getValue().getFileName() + " as " + aside.getFileName());
            } else {
                Files.deleteIfExists(e.getValue());
            }
        }
        FileOps.POSIX.syncDirectory(d);
        report.accept(name + ": rebuilt from " + baseLabel + (base == null ? "" : " and " + kept + " journal frames that could be read")
                + " (" + state.size() + " records); the journal starts again at " + journal.name(next));
    }

    /** The changes of one frame's payload, or null when it is not a frame this version wrote. */
    private static List<Map.Entry<String, JsonNode>> changes(byte[] payload) {
        try {
            JsonNode root = SnapshotFormat.MAPPER.readTree(payload);
            JsonNode cs = root == null ? null : root.get("changes");
            if (cs == null || !cs.isArray()) return null;
            List<Map.Entry<String, JsonNode>> out = new ArrayList<>();
            for (JsonNode c : cs) {
                String k = c.path("k").asText(null);
                if (k == null) return null;
                JsonNode v = c.get("v");
                out.add(new AbstractMap.SimpleEntry<>(k, v != null && v.isObject() ? v : null));
            }
            return out;
        } catch (IOException e) {
            return null;
        }
    }

    private static final java.util.regex.Pattern KEY = java.util.regex.Pattern.compile("\\{\"k\":\"((?:[^\"\\\\]|\\\\.){1,200})\"");

    /** The keys a damaged frame still names in its bytes (every change starts with {"k":"<key>"), best effort. */
    private static List<String> keysIn(byte[] payload) {
        List<String> out = new ArrayList<>();
        java.util.regex.Matcher m = KEY.matcher(new String(payload, java.nio.charset.StandardCharsets.ISO_8859_1));
        while (m.find()) out.add(m.group(1));
        return out;
    }

    private static String familyOwner(JsonNode v) {
        if (v == null) return "";
        return " (client " + v.path("client_id").asText("?") + ", user " + v.path("user_id").asText("?") + ")";
    }

    private static Path moveAside(Path file) throws IOException {
        String stamp = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'"));
        Path aside = file.resolveSibling(file.getFileName() + FileStore.CORRUPT_INFIX + stamp);
        for (int i = 1; Files.exists(aside, LinkOption.NOFOLLOW_LINKS); i++) {
            aside = file.resolveSibling(file.getFileName() + FileStore.CORRUPT_INFIX + stamp + "-" + i);
        }
        Files.move(file, aside);
        return aside;
    }

    private void reportFamilies(SnapshotFormat.Decoded decoded, Consumer<String> report) {
        for (Iterator<Map.Entry<String, JsonNode>> it = decoded.records().fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            report.accept("  restored refresh-token family " + e.getKey() + " (client " + e.getValue().path("client_id").asText("?")
                    + ", user " + e.getValue().path("user_id").asText("?") + "): tokens rotated since this generation work again"
                    + "; revoke the family if in doubt");
        }
    }

    /** {@code .manifest} when it has a problem, else null. */
    private FileState manifestState(Path dir) {
        Path file = dir.resolve(Manifest.FILE);
        BasicFileAttributes a;
        try {
            a = DataDirectory.attributesOrNull(file);
        } catch (IOException e) {
            return new FileState(Manifest.FILE, false, "unreadable: " + DataDirectory.describe(e), false, 0);
        }
        if (a == null) return null;
        if (!a.isRegularFile()) return new FileState(Manifest.FILE, false, "damaged: it is " + DataDirectory.whatIs(a), false, 0);
        try {
            format.decode(FileOps.POSIX.readFile(file), Manifest.KIND);
            return null;
        } catch (IOException e) {
            return new FileState(Manifest.FILE, false, "unreadable: " + DataDirectory.describe(e) + "; " + DataDirectory.ownership(file), false, 0);
        } catch (SnapshotFormat.Corrupt c) {
            return new FileState(Manifest.FILE, false, "damaged: " + c.getMessage(), false, 0);
        }
    }

    private FileState state(Path dir, String name) {
        Path file = dir.resolve(name);
        Path prev = dir.resolve(name + SnapshotWriter.PREV_SUFFIX);
        boolean prevOk = Files.isRegularFile(prev, LinkOption.NOFOLLOW_LINKS) && decodeQuietly(read(prev)) != null;
        BasicFileAttributes a;
        try {
            a = DataDirectory.attributesOrNull(file);
        } catch (IOException e) {
            return new FileState(name, false, "unreadable: " + DataDirectory.describe(e), prevOk, 0);
        }
        if (a == null) {
            return new FileState(name, false, "missing: " + (Manifest.listed(dir, format).contains(name)
                    ? "it is listed in " + Manifest.FILE + " (it was written before)" : "only traces of it are left (.prev, journal or a damaged copy)"),
                    prevOk, 0);
        }
        if (a.isSymbolicLink()) {
            String to;
            try {
                to = " to " + Files.readSymbolicLink(file);
            } catch (IOException e) {
                to = "";
            }
            return new FileState(name, false, "not a file: a symbolic link" + to + " (the server never follows it)", prevOk, 0);
        }
        if (!a.isRegularFile()) return new FileState(name, false, "not a file: " + DataDirectory.whatIs(a) + " is in its place", prevOk, 0);
        byte[] bytes;
        try {
            bytes = FileOps.POSIX.readFile(file);
        } catch (IOException e) {
            return new FileState(name, false, "unreadable: " + DataDirectory.describe(e) + "; " + DataDirectory.ownership(file), prevOk, 0);
        }
        SnapshotFormat.Decoded d;
        try {
            d = format.decode(bytes, kindOf(name));
        } catch (SnapshotFormat.NewerFormat n) {
            return new FileState(name, false, "newer format: " + n.getMessage(), prevOk, 0);
        } catch (SnapshotFormat.Corrupt c) {
            return new FileState(name, false, "damaged: " + c.getMessage(), prevOk, 0);
        }
        Journal journal = new Journal(file, FileOps.POSIX);
        try {
            boolean hasSegments = !journal.segments().isEmpty();
            if (d.journalSegment() > 0 || hasSegments) {
                if (d.journalSegment() <= 0) {
                    return new FileState(name, false, "journal damaged: the snapshot does not say where its journal starts, but segments exist",
                            prevOk, d.records().size());
                }
                journal.replay(d.journalSegment(), false, frame -> { });
            }
        } catch (Journal.Damaged e) {
            return new FileState(name, false, "journal damaged: " + e.getMessage(), prevOk, d.records().size());
        } catch (java.nio.file.AccessDeniedException e) {
            return new FileState(name, false, "journal unreadable: " + DataDirectory.describe(e) + "; "
                    + DataDirectory.ownership(Path.of(e.getFile())), prevOk, d.records().size());
        } catch (IOException e) {
            return new FileState(name, false, "journal unreadable: " + DataDirectory.describe(e), prevOk, d.records().size());
        }
        return new FileState(name, true, null, prevOk, d.records().size());
    }

    private SnapshotFormat.Decoded decodeQuietly(byte[] bytes) {
        try {
            return bytes == null ? null : format.decode(bytes, null);
        } catch (SnapshotFormat.Corrupt c) {
            return null;
        }
    }

    private static byte[] read(Path p) {
        try {
            return FileOps.POSIX.readFile(p);
        } catch (IOException e) {
            return null;
        }
    }

    /** Every data file name that exists, is listed in {@code .manifest}, or has a previous generation, journal or damaged copy in {@code dir}. */
    static List<String> dataFiles(Path dir) throws IOException {
        TreeSet<String> names = new TreeSet<>(Manifest.listed(dir, new SnapshotFormat()));
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                String n = p.getFileName().toString();
                if (n.startsWith(".")) continue;
                int i = n.indexOf(SUFFIX);
                if (i > 0 && (n.length() == i + SUFFIX.length() || n.startsWith(SnapshotWriter.PREV_SUFFIX, i + SUFFIX.length())
                        || n.startsWith(FileStore.CORRUPT_INFIX, i + SUFFIX.length()) || n.startsWith(Journal.INFIX, i + SUFFIX.length()))) {
                    names.add(n.substring(0, i + SUFFIX.length()));
                }
            }
        }
        return new ArrayList<>(names);
    }

    /** By convention a file's kind is its name without {@code .json} (clients.json holds "clients"). */
    static String kindOf(String fileName) {
        return fileName.endsWith(SUFFIX) ? fileName.substring(0, fileName.length() - SUFFIX.length()) : fileName;
    }
}
