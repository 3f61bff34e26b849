import Access
import RPC
import Services

/// `GET /console/metrics` on the main port: the text `--metrics-listen` serves, for the
/// console's metrics page. The console may call its own origin only (CSP `connect-src
/// 'self'`, no CORS), and the metrics listener is another origin (another port, often
/// loopback only); this path gives the page the same numbers without opening either.
/// Unlike the console's files it holds data (method names, collection names and sizes), so
/// it passes the same credential check as a call: with authentication on, it needs read
/// access on everything, as `ClusterService.GetState` does.
enum ConsoleMetricsPage {
    /// The path, also the name the access rule is kept under.
    static let path = "/console/metrics"

    /// Adds the rule for `path` to `rules`: read access on everything (a key scoped to some
    /// collections may not see every collection's name and size).
    static func addRule(to rules: inout AccessRules) {
        rules[path] = .requires(.read, perCollection: false)
    }

    /// Serves `metrics` at `path` on `site` (when the console is on).
    static func add(to site: inout StaticSite?, metrics: ServerMetrics) {
        site?.livePages[path] = StaticSite.LivePage(contentType: "text/plain; version=0.0.4; charset=utf-8") {
            Array(metrics.exposition().utf8)
        }
    }
}
