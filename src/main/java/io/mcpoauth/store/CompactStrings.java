package io.mcpoauth.store;

import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;

/**
 * An immutable list of short strings kept as one String ({@code "a b c"}): a family's five retired hashes take about
 * 180 bytes of heap instead of about 380 as five Strings in a list. It is a {@link List} like any other (equality,
 * hash code, JSON). Elements are rebuilt when read, which only the rare reuse check does.
 */
final class CompactStrings extends AbstractList<String> implements RandomAccess {
    private static final char SEP = ' ';
    private final String joined;
    private final int size;

    private CompactStrings(String joined, int size) {
        this.joined = joined;
        this.size = size;
    }

    /** An immutable copy of {@code list} (null elements refused, like {@link List#copyOf}). */
    static List<String> copyOf(List<String> list) {
        if (list.isEmpty()) return List.of();
        if (list instanceof CompactStrings) return list;
        StringBuilder b = new StringBuilder(list.size() * 23);
        for (String s : list) {
            if (s.indexOf(SEP) >= 0) return List.copyOf(list); // cannot be joined unambiguously: kept as they are
            if (b.length() > 0) b.append(SEP);
            b.append(s);
        }
        return new CompactStrings(b.toString(), list.size());
    }

    @Override
    public String get(int index) {
        if (index < 0 || index >= size) throw new IndexOutOfBoundsException(index);
        int start = 0;
        for (int i = 0; i < index; i++) start = joined.indexOf(SEP, start) + 1;
        int end = joined.indexOf(SEP, start);
        return joined.substring(start, end < 0 ? joined.length() : end);
    }

    @Override
    public int size() {
        return size;
    }
}
