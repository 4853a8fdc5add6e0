import UploadMockJSON

/// Which slice of the selected journal entries `GET /__admin/requests` answers, so a client
/// (the dashboard, docs/dashboard.md) pages through 100,000 entries a few at a time:
/// `?order=newest&limit=100`, then `&before=` the last id it got; `&after=` the newest id it
/// has asks only for what arrived since.
struct JournalPage: Sendable, Equatable {
    enum Order: String, Sendable, CaseIterable {
        case oldest, newest
    }

    var order = Order.oldest
    /// At most this many entries; nil: all that match.
    var limit: Int?
    /// Only entries whose id is greater.
    var after: UInt64?
    /// Only entries whose id is smaller.
    var before: UInt64?

    /// The query parameters it reads, in the order docs list them.
    static let queryNames = ["order", "limit", "after", "before"]

    init() {}

    /// Reads its parameters from `query`; the others are left for the filter.
    static func split(_ query: [(name: String, value: String)]) throws(ConfigurationError)
        -> (page: JournalPage, rest: [(name: String, value: String)]) {
        var page = JournalPage(), rest: [(name: String, value: String)] = []
        for (name, value) in query {
            func invalid(_ expected: String) -> ConfigurationError {
                .invalidQueryParameter(name, value, expected: expected)
            }
            switch name {
            case "order":
                guard let order = Order(rawValue: value) else { throw invalid("oldest or newest") }
                page.order = order
            case "limit":
                guard let limit = Int(decimal: value), limit > 0 else { throw invalid("a positive number of entries") }
                page.limit = limit
            case "after":
                guard let id = UInt64(decimal: value) else { throw invalid("an entry id") }
                page.after = id
            case "before":
                guard let id = UInt64(decimal: value) else { throw invalid("an entry id") }
                page.before = id
            default:
                rest.append((name, value))
            }
        }
        return (page, rest)
    }
}
