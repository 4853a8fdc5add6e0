import Foundation
import Testing
@testable import TwitterUploadMock

/// `limits.max_memory_bytes` derived from the machine (docs/configuration.md, Bounds): the
/// lowest cgroup limit on the way to the root, v2 or v1, or physical memory; read here from
/// fake /proc and /sys trees. Tests/python/test_bounds.py checks the value this machine gives.
@Suite("Memory cap default")
struct MemoryCapTests {
    static let mebibyte = 1024 * 1024
    static let physical = 24 * 1024 * mebibyte

    /// A fake root with these files (paths relative to it).
    func root(_ files: [String: String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("memory-cap-\(UUID().uuidString)").path
        for (path, text) in files {
            let url = URL(fileURLWithPath: root + path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return root
    }

    static let unifiedMount = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"

    @Test("cgroup v2: the lowest memory.max from the process's cgroup up to the mount; max is no limit")
    func unified() throws {
        let root = try root([
            "/proc/self/cgroup": "0::/user.slice/ci.scope\n",
            "/proc/self/mountinfo": "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n" + Self.unifiedMount,
            "/sys/fs/cgroup/user.slice/ci.scope/memory.max": "max\n",
            "/sys/fs/cgroup/user.slice/memory.max": "\(1536 * Self.mebibyte)\n",
        ])
        let cap = MemoryCap.resolve(configured: nil, root: root, physicalBytes: Self.physical)
        #expect(cap.bytes == 768 * Self.mebibyte - MemoryCap.serverReserve)
        #expect(cap.source == "half of the cgroup v2 limit /sys/fs/cgroup/user.slice/memory.max (1536 MiB) less 32 MiB for the server")
    }

    @Test("cgroup v1 (hybrid hierarchy): memory.limit_in_bytes; the page-rounded 'unlimited' is no limit")
    func legacy() throws {
        let root = try root([
            "/proc/self/cgroup": "5:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n",
            "/proc/self/mountinfo": Self.unifiedMount.replacingOccurrences(of: "/sys/fs/cgroup ", with: "/sys/fs/cgroup/unified ")
                + "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n",
            "/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": "\(512 * Self.mebibyte)\n",
            "/sys/fs/cgroup/memory/docker/memory.limit_in_bytes": "9223372036854771712\n",
            "/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
        ])
        let cap = MemoryCap.resolve(configured: nil, root: root, physicalBytes: Self.physical)
        #expect(cap.bytes == 256 * Self.mebibyte - MemoryCap.serverReserve)
        #expect(cap.source.contains("the cgroup v1 limit /sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes (512 MiB)"))
    }

    @Test("a mount that shows only part of the tree (a container's cgroup namespace) maps the path")
    func namespaced() throws {
        let root = try root([
            "/proc/self/cgroup": "0::/\n",
            "/proc/self/mountinfo": "30 23 0:26 /kubepods/pod1 /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n",
            "/sys/fs/cgroup/memory.max": "\(100 * Self.mebibyte)\n",
        ])
        // cgroup "/" relative to a namespace root: not under "/kubepods/pod1", so nothing maps…
        #expect(MemoryCap.machineLimit(root: root, physicalBytes: Self.physical).source == "physical memory")
        let inside = try self.root([
            "/proc/self/cgroup": "0::/kubepods/pod1\n",
            "/proc/self/mountinfo": "30 23 0:26 /kubepods/pod1 /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n",
            "/sys/fs/cgroup/memory.max": "\(100 * Self.mebibyte)\n",
        ])
        // …while a path under it does.
        #expect(MemoryCap.machineLimit(root: inside, physicalBytes: Self.physical).bytes == 100 * Self.mebibyte)
    }

    @Test("physical memory when it is lower than the cgroup's; never more than the 4 GiB ceiling; at least a quarter")
    func boundsOfTheShare() throws {
        let root = try root([
            "/proc/self/cgroup": "0::/ci\n",
            "/proc/self/mountinfo": Self.unifiedMount,
            "/sys/fs/cgroup/ci/memory.max": "\(64 * 1024 * Self.mebibyte)\n",
        ])
        let physical = MemoryCap.resolve(configured: nil, root: root, physicalBytes: 2048 * Self.mebibyte)
        #expect(physical.bytes == 1024 * Self.mebibyte - MemoryCap.serverReserve && physical.source.hasPrefix("half of physical memory (2048 MiB)"))
        let large = MemoryCap.resolve(configured: nil, root: root, physicalBytes: 256 * 1024 * Self.mebibyte)
        #expect(large.bytes == 4096 * Self.mebibyte)
        #expect(large.source == "the 4 GiB ceiling: half of the cgroup v2 limit /sys/fs/cgroup/ci/memory.max (65536 MiB) is more")
        let tiny = MemoryCap.resolve(configured: nil, root: "/nonexistent", physicalBytes: 64 * Self.mebibyte)
        #expect(tiny.bytes == 16 * Self.mebibyte)
    }

    @Test("a configured value wins, and nothing unreadable breaks the default")
    func configuredAndUnreadable() {
        #expect(MemoryCap.resolve(configured: 1234, root: "/nonexistent") == MemoryCap(bytes: 1234, source: "limits.max_memory_bytes in the configuration"))
        let cap = MemoryCap.resolve(configured: nil, root: "/nonexistent", physicalBytes: 8192 * Self.mebibyte)
        #expect(cap.bytes == 4096 * Self.mebibyte - MemoryCap.serverReserve)
    }

    @Test("an embedded server reports the cap in force: the configured one, or this machine's")
    func embedded() throws {
        var configuration = MockConfiguration()
        configuration.port = 0
        #expect(try UploadMockServer(configuration: configuration).maxMemoryBytes == MemoryCap.resolve(configured: nil).bytes)
        configuration.upload.limits.maxMemoryBytes = 1234
        #expect(try UploadMockServer(configuration: configuration).maxMemoryBytes == 1234)
    }
}
