#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import UploadMockDomain

/// `limits.max_memory_bytes` as the server runs with it, and where it came from: the
/// configuration, or the machine (docs/configuration.md, Bounds). A fixed default would let a
/// server in a 1.5 GiB container be killed long before it refused anything.
struct MemoryCap: Sendable, Equatable {
    var bytes: Int
    /// For the start-up log line: `limits.max_memory_bytes in the configuration`, or how it was
    /// derived.
    var source: String

    /// The memory available to this process: the lowest cgroup limit on its way to the root
    /// (v2 `memory.max`, v1 `memory.limit_in_bytes`), or physical memory when that is lower.
    struct MachineLimit: Sendable, Equatable {
        var bytes: Int
        /// `physical memory`, or the cgroup file that set it.
        var source: String
    }

    /// Room kept for the server itself (code, the journal, allocator slack) before the share.
    static let serverReserve = 32 * 1024 * 1024

    /// The configured cap, or one derived from the machine.
    static func resolve(configured: Int?, root: String = "", physicalBytes: Int = physicalMemory()) -> MemoryCap {
        if let configured { return MemoryCap(bytes: configured, source: "limits.max_memory_bytes in the configuration") }
        return derived(from: machineLimit(root: root, physicalBytes: physicalBytes))
    }

    /// Half of the machine's limit less `serverReserve` (at least a quarter of it), at most
    /// `UploadLimits.memoryCeiling`: the soak measured resident memory at up to 1.72 times the
    /// media held (docs/reliability.md), so half leaves the process inside its limit.
    static func derived(from limit: MachineLimit) -> MemoryCap {
        let share = max(limit.bytes / 4, limit.bytes / 2 - serverReserve)
        if share >= UploadLimits.memoryCeiling {
            return MemoryCap(bytes: UploadLimits.memoryCeiling,
                             source: "the 4 GiB ceiling: half of \(limit.source) (\(mebibytes(limit.bytes))) is more")
        }
        return MemoryCap(bytes: share, source: "half of \(limit.source) (\(mebibytes(limit.bytes))) less 32 MiB for the server")
    }

    static func machineLimit(root: String = "", physicalBytes: Int) -> MachineLimit {
        var lowest = MachineLimit(bytes: physicalBytes, source: "physical memory")
        for limit in cgroupLimits(root: root) where limit.bytes < lowest.bytes {
            lowest = limit
        }
        return lowest
    }

    static func physicalMemory() -> Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, size > 0 else { return Int.max }
        return pages.multipliedReportingOverflow(by: size).overflow ? Int.max : pages * size
    }

    /// Every memory limit set on this process's cgroups and their ancestors, v2 and v1, read
    /// through `/proc/self/cgroup` and the mount table; none when nothing is limited or
    /// nothing can be read.
    private static func cgroupLimits(root: String) -> [MachineLimit] {
        guard let memberships = read(root + "/proc/self/cgroup"), let mounts = read(root + "/proc/self/mountinfo") else { return [] }
        let mountTable = words(mounts[...], separator: "\n").compactMap(CgroupMount.init)
        var limits: [MachineLimit] = []
        for line in words(memberships[...], separator: "\n") {
            // hierarchy-ID:controller-list:cgroup-path
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let controllers = fields[1].split(separator: ",")
            let isUnified = fields[0] == "0" && fields[1].isEmpty
            guard isUnified || controllers.contains("memory") else { continue }
            let mount = mountTable.first { isUnified ? $0.isUnified : $0.controllers.contains("memory") }
            guard let mount, let directory = mount.directory(of: String(fields[2])) else { continue }
            let file = isUnified ? "memory.max" : "memory.limit_in_bytes"
            let version = isUnified ? "cgroup v2" : "cgroup v1"
            // A cgroup is limited by every ancestor too: walk up to the mount point.
            var path = directory
            while true {
                if let text = read(root + path + "/" + file), let bytes = limitValue(text) {
                    limits.append(MachineLimit(bytes: bytes, source: "the \(version) limit \(path)/\(file)"))
                }
                guard path.count > mount.point.count, let slash = path.lastIndex(of: "/") else { break }
                path = String(path[..<slash])
            }
        }
        return limits
    }

    /// A limit file's value; nil for `max` and v1's page-rounded "unlimited" (near 2^63).
    private static func limitValue(_ text: String) -> Int? {
        guard let word = text.split(whereSeparator: \.isWhitespace).first, let value = Int(word), value > 0, value < Int(1) << 62 else { return nil }
        return value
    }

    private static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    private static func mebibytes(_ bytes: Int) -> String {
        "\(bytes / (1024 * 1024)) MiB"
    }
}

/// The pieces of a kernel file's text between `separator`s, split on bytes: splitting by
/// Character checks grapheme breaks at every byte, which made reading the mount table a
/// tenth of the server's start-up (docs/performance.md).
private func words(_ text: Substring, separator: Unicode.Scalar) -> [Substring] {
    let byte = UInt8(ascii: separator)
    return text.utf8.split(separator: byte).map { Substring($0) }
}

/// One cgroup file system in `/proc/self/mountinfo`.
private struct CgroupMount {
    /// The cgroup path mounted there (`/` unless the mount shows only part of the tree).
    var root: String
    var point: String
    var isUnified: Bool
    var controllers: [Substring]

    /// `ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL…] - TYPE SOURCE SUPER-OPTIONS`
    init?(_ line: Substring) {
        let fields = words(line, separator: " ")
        guard fields.count >= 10, let dash = fields[6...].firstIndex(of: "-"), dash + 3 < fields.count else { return nil }
        let type = fields[dash + 1]
        guard type == "cgroup2" || type == "cgroup" else { return nil }
        root = Self.unescape(fields[3])
        point = Self.unescape(fields[4])
        isUnified = type == "cgroup2"
        controllers = fields[dash + 3].split(separator: ",")
    }

    /// Where `cgroup` (a path from `/proc/self/cgroup`) lives under this mount; nil when the
    /// mount does not show it.
    func directory(of cgroup: String) -> String? {
        let relative: Substring
        if root == "/" {
            relative = Substring(cgroup)
        } else if cgroup == root || cgroup.hasPrefix(root + "/") {
            relative = cgroup.dropFirst(root.count)
        } else {
            return nil
        }
        let trimmed = relative.hasSuffix("/") ? relative.dropLast() : relative
        return point + trimmed
    }

    /// mountinfo writes space, tab, newline and backslash as octal escapes (`\040`).
    private static func unescape(_ field: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3, let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
