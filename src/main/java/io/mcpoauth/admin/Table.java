package io.mcpoauth.admin;

import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/** A plain text table for command output: columns padded to their widest cell. */
public final class Table {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm'Z'").withZone(ZoneOffset.UTC);
    private final String[] header;
    private final List<String[]> rows = new ArrayList<>();

    public Table(String... header) {
        this.header = header;
    }

    public Table row(Object... cells) {
        String[] r = new String[header.length];
        for (int i = 0; i < header.length; i++) r[i] = i < cells.length && cells[i] != null ? cells[i].toString() : "-";
        rows.add(r);
        return this;
    }

    public static String time(Instant t) {
        return t == null ? "-" : TIME.format(t);
    }

    public void print(PrintStream out) {
        int[] w = new int[header.length];
        for (int i = 0; i < header.length; i++) w[i] = header[i].length();
        for (String[] r : rows) for (int i = 0; i < r.length; i++) w[i] = Math.max(w[i], r[i].length());
        line(out, header, w);
        for (String[] r : rows) line(out, r, w);
    }

    private static void line(PrintStream out, String[] cells, int[] w) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            if (i > 0) b.append("  ");
            b.append(i == cells.length - 1 ? cells[i] : String.format("%-" + w[i] + "s", cells[i]));
        }
        out.println(b);
    }
}
