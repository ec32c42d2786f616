package io.mcpoauth.store.postgres;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * Statement helpers: parameters bound by their Java type (String, Long, Integer, Boolean, Instant as timestamptz,
 * a collection of strings as text[], null as an untyped null the server infers), rows read by a {@link Row} mapper.
 * Instants are kept to the microsecond, which is what PostgreSQL stores; {@link #micros} gives the same value in Java.
 */
final class Sql {
    private Sql() {}

    /** Reads one row. */
    interface Row<T> {
        T read(ResultSet rs) throws SQLException;
    }

    static PreparedStatement prepare(Connection c, String sql, Object... params) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        try {
            bind(c, ps, params);
            return ps;
        } catch (SQLException | RuntimeException e) {
            ps.close();
            throw e;
        }
    }

    static void bind(Connection c, PreparedStatement ps, Object... params) throws SQLException {
        for (int i = 0; i < params.length; i++) {
            Object p = params[i];
            int n = i + 1;
            if (p == null) ps.setNull(n, Types.NULL);
            else if (p instanceof String s) ps.setString(n, s);
            else if (p instanceof Instant t) ps.setObject(n, OffsetDateTime.ofInstant(micros(t), ZoneOffset.UTC));
            else if (p instanceof Long l) ps.setLong(n, l);
            else if (p instanceof Integer x) ps.setInt(n, x);
            else if (p instanceof Boolean b) ps.setBoolean(n, b);
            else if (p instanceof byte[] bytes) ps.setBytes(n, bytes);
            else if (p instanceof Collection<?> list) ps.setArray(n, c.createArrayOf("text", list.toArray()));
            else throw new IllegalArgumentException("cannot bind a " + p.getClass().getName());
        }
    }

    static int update(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, params)) {
            return ps.executeUpdate();
        }
    }

    static <T> T one(Connection c, String sql, Row<T> row, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, params); ResultSet rs = ps.executeQuery()) {
            return rs.next() ? row.read(rs) : null;
        }
    }

    static <T> List<T> list(Connection c, String sql, Row<T> row, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, params); ResultSet rs = ps.executeQuery()) {
            List<T> out = new ArrayList<>();
            while (rs.next()) out.add(row.read(rs));
            return out;
        }
    }

    static long count(Connection c, String sql, Object... params) throws SQLException {
        Long n = one(c, sql, rs -> rs.getLong(1), params);
        return n == null ? 0 : n;
    }

    /** An Instant as PostgreSQL keeps it: to the microsecond. */
    static Instant micros(Instant t) {
        return t == null ? null : t.truncatedTo(ChronoUnit.MICROS);
    }

    static Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    static List<String> strings(ResultSet rs, String column) throws SQLException {
        Array a = rs.getArray(column);
        if (a == null) return List.of();
        try {
            return Arrays.asList((String[]) a.getArray());
        } finally {
            a.free();
        }
    }

    static Boolean nullableBoolean(ResultSet rs, String column) throws SQLException {
        boolean b = rs.getBoolean(column);
        return rs.wasNull() ? null : b;
    }
}
