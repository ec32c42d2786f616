package io.mcpoauth.ops;

import io.mcpoauth.store.CommitStats;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;

/**
 * The counters behind {@code /metrics}, rendered in the Prometheus text exposition format (version 0.0.4): every
 * family has {@code # HELP} and {@code # TYPE} lines, names start with {@code mcp_oauth_}. Label values come from a
 * closed set or are cleaned and capped, so a client cannot grow the number of series.
 */
public final class Metrics {
    private static final java.util.regex.Pattern LABEL = java.util.regex.Pattern.compile("[a-z0-9_:.-]+");
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    static final int MAX_SERIES = 200;

    /** A counter with zero or more labels. */
    public static final class Counter {
        final String name;
        final String help;
        final String[] labels;
        final ConcurrentSkipListMap<List<String>, LongAdder> series = new ConcurrentSkipListMap<>(Metrics::compare);

        Counter(String name, String help, String... labels) {
            this.name = name;
            this.help = help;
            this.labels = labels;
            if (labels.length == 0) series.put(List.of(), new LongAdder());
        }

        public void inc(String... values) {
            add(1, values);
        }

        public void add(long n, String... values) {
            List<String> key = List.of(values);
            LongAdder a = series.get(key);
            if (a == null) {
                if (series.size() >= MAX_SERIES) {
                    String[] other = values.clone();
                    Arrays.fill(other, "other");
                    key = List.of(other);
                }
                a = series.computeIfAbsent(key, k -> new LongAdder());
            }
            a.add(n);
        }

        /** The current value of one series (0 when never counted). */
        public long get(String... values) {
            LongAdder a = series.get(List.of(values));
            return a == null ? 0 : a.sum();
        }

        /** Makes a series visible at 0 before its first event. */
        Counter init(String... values) {
            series.computeIfAbsent(List.of(values), k -> new LongAdder());
            return this;
        }
    }

    private record Gauge(String name, String help, DoubleSupplier value) {}

    private record LabeledGauge(String name, String help, String label, Supplier<Map<String, ? extends Number>> values) {}

    // ---- the families, in the order they are rendered ----
    public final Counter registrations = new Counter("mcp_oauth_registrations_total", "Clients registered through POST /register.");
    public final Counter clientsRemoved = new Counter("mcp_oauth_clients_removed_total",
            "Clients removed, by who removed them (client: RFC 7592 delete; admin).", "by").init("client").init("admin");
    public final Counter authorizations = new Counter("mcp_oauth_authorizations_total",
            "Authorization requests that ended: approved (a code was issued) or denied by the user.", "outcome").init("approved").init("denied");
    public final Counter signIns = new Counter("mcp_oauth_sign_ins_total", "Sign-in attempts by outcome.", "outcome")
            .init("success").init("failure");
    public final Counter grants = new Counter("mcp_oauth_token_grants_total", "Successful token responses by grant type.", "grant_type")
            .init("authorization_code").init("refresh_token");
    public final Counter tokenFailures = new Counter("mcp_oauth_token_failures_total",
            "Refused token requests by grant type and OAuth error code.", "grant_type", "error");
    public final Counter reuse = new Counter("mcp_oauth_refresh_reuse_detected_total",
            "Replays detected (a rotated-out refresh token or a used authorization code); the whole grant was revoked.", "kind")
            .init("refresh_token").init("authorization_code");
    public final Counter revocations = new Counter("mcp_oauth_revocations_total",
            "Grants or tokens revoked, by who revoked them (client: RFC 7009; admin; user).", "by").init("client").init("admin");
    public final Counter apiKeyAuth = new Counter("mcp_oauth_api_key_authentications_total",
            "Requests to /mcp with an API key, by outcome.", "outcome").init("accepted").init("rejected");
    public final Counter upstreamRefresh = new Counter("mcp_oauth_upstream_refresh_total",
            "Refreshes of users' upstream provider tokens, by outcome.", "outcome");

    private final List<Counter> counters = List.of(registrations, clientsRemoved, authorizations, signIns, grants, tokenFailures, reuse,
            revocations, apiKeyAuth, upstreamRefresh);
    private final List<Gauge> gauges = new ArrayList<>();
    private final List<LabeledGauge> labeledGauges = new ArrayList<>();
    private final Map<String, Boolean> names = new ConcurrentHashMap<>();
    private volatile CommitStats commits;

    public Metrics() {
        for (Counter c : counters) names.put(c.name, true);
    }

    /** Adds a gauge read at each scrape. */
    public synchronized Metrics gauge(String name, String help, DoubleSupplier value) {
        if (names.putIfAbsent(name, true) != null) throw new IllegalArgumentException("duplicate metric " + name);
        gauges.add(new Gauge(name, help, value));
        return this;
    }

    /** Adds a counter family whose values are read at each scrape (e.g. tool calls by tool). */
    public synchronized Metrics counterFamily(String name, String help, String label, Supplier<Map<String, ? extends Number>> values) {
        if (names.putIfAbsent(name, true) != null) throw new IllegalArgumentException("duplicate metric " + name);
        labeledGauges.add(new LabeledGauge(name, help, label, values));
        return this;
    }

    /** One labelled series of a histogram family: cumulative counts per bucket (the last one +Inf), sum and count. */
    public record Histogram(long[] cumulative, double sum, long count) {}

    private record HistogramFamily(String name, String help, String label, double[] buckets, Supplier<Map<String, Histogram>> values) {}

    private final List<HistogramFamily> histograms = new ArrayList<>();

    /** Adds a histogram family read at each scrape (e.g. upstream call latency by server); {@code buckets}: upper bounds, +Inf implied. */
    public synchronized Metrics histogramFamily(String name, String help, String label, double[] buckets, Supplier<Map<String, Histogram>> values) {
        if (names.putIfAbsent(name, true) != null) throw new IllegalArgumentException("duplicate metric " + name);
        histograms.add(new HistogramFamily(name, help, label, buckets.clone(), values));
        return this;
    }

    /** The store's commit statistics, rendered as latency and batch-size histograms. */
    public void commitStats(CommitStats stats) {
        this.commits = stats;
    }

    /** A label value from outside (grant types, error codes): lower-case letters, digits and '_' only, at most 40. */
    public static String clean(String value) {
        if (value == null || value.isEmpty()) return "none";
        String v = value.toLowerCase(Locale.ROOT);
        if (v.length() > 40 || !LABEL.matcher(v).matches()) return "other";
        return v;
    }

    /** The exposition text. */
    public synchronized String render() {
        StringBuilder b = new StringBuilder(4096);
        for (Counter c : counters) {
            header(b, c.name, c.help, "counter");
            c.series.forEach((values, v) -> sample(b, c.name, c.labels, values, v.sum()));
        }
        for (Gauge g : gauges) {
            header(b, g.name, g.help, "gauge");
            sample(b, g.name, new String[0], List.of(), g.value.getAsDouble());
        }
        for (LabeledGauge g : labeledGauges) {
            header(b, g.name, g.help, g.name.endsWith("_total") ? "counter" : "gauge");
            g.values.get().forEach((k, v) -> sample(b, g.name, new String[]{g.label}, List.of(k), v.doubleValue()));
        }
        for (HistogramFamily h : histograms) {
            header(b, h.name, h.help, "histogram");
            h.values.get().forEach((k, v) -> {
                for (int i = 0; i <= h.buckets.length && i < v.cumulative().length; i++) {
                    String le = i < h.buckets.length ? number(h.buckets[i]) : "+Inf";
                    sample(b, h.name + "_bucket", new String[]{h.label, "le"}, List.of(k, le), v.cumulative()[i]);
                }
                sample(b, h.name + "_sum", new String[]{h.label}, List.of(k), v.sum());
                sample(b, h.name + "_count", new String[]{h.label}, List.of(k), v.count());
            });
        }
        CommitStats s = commits;
        if (s != null) {
            String lat = "mcp_oauth_store_commit_duration_seconds";
            header(b, lat, "Time to write one store file durably (write, fsync, rename, fsync directory).", "histogram");
            long cum = 0;
            for (int i = 0; i <= CommitStats.BUCKETS.length; i++) {
                cum += s.bucket(i);
                String le = i < CommitStats.BUCKETS.length ? number(CommitStats.BUCKETS[i]) : "+Inf";
                sample(b, lat + "_bucket", new String[]{"le"}, List.of(le), cum);
            }
            sample(b, lat + "_sum", new String[0], List.of(), s.totalSeconds());
            sample(b, lat + "_count", new String[0], List.of(), s.commits());

            String batch = "mcp_oauth_store_commit_batch_size";
            header(b, batch, "Changes made durable by one store write (group commit).", "histogram");
            cum = 0;
            for (int i = 0; i <= CommitStats.BATCH_BUCKETS.length; i++) {
                cum += s.batchBucket(i);
                String le = i < CommitStats.BATCH_BUCKETS.length ? number(CommitStats.BATCH_BUCKETS[i]) : "+Inf";
                sample(b, batch + "_bucket", new String[]{"le"}, List.of(le), cum);
            }
            sample(b, batch + "_sum", new String[0], List.of(), s.batchedChanges());
            sample(b, batch + "_count", new String[0], List.of(), s.commits());

            String failures = "mcp_oauth_store_commit_failures_total";
            header(b, failures, "Store writes that could not be made durable (the change was refused).", "counter");
            sample(b, failures, new String[0], List.of(), s.failures());
        }
        return b.toString();
    }

    private static void header(StringBuilder b, String name, String help, String type) {
        b.append("# HELP ").append(name).append(' ').append(help.replace("\\", "\\\\").replace("\n", "\\n")).append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder b, String name, String[] labels, List<String> values, double v) {
        b.append(name);
        if (labels.length > 0) {
            b.append('{');
            for (int i = 0; i < labels.length; i++) {
                if (i > 0) b.append(',');
                b.append(labels[i]).append("=\"").append(escape(values.get(i))).append('"');
            }
            b.append('}');
        }
        b.append(' ').append(number(v)).append('\n');
    }

    private static String escape(String v) {
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    static String number(double v) {
        if (v == Math.rint(v) && !Double.isInfinite(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        return Double.toString(v);
    }

    private static int compare(List<String> a, List<String> b) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            int c = a.get(i).compareTo(b.get(i));
            if (c != 0) return c;
        }
        return Integer.compare(a.size(), b.size());
    }
}
