#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The directory one server spools into: `DIR/spool-PID`, 0700, inside the `--storage-dir` the
/// user named (which may be shared, like /tmp, so it is never changed itself). Directories of
/// servers that are no longer running are removed at start; the server's own at stop.
///
/// Anyone who can write to a shared directory can plant entries there, so removal never
/// follows a link: entries are examined with `fstatat(AT_SYMLINK_NOFOLLOW)`, opened with
/// `O_NOFOLLOW` relative to a descriptor of the directory opened here, checked to be the same
/// directory and owned by this user, and emptied with `unlinkat`, which removes a link itself
/// and never what it points to. Anything else named `spool-PID` is left alone.
package struct SpoolDirectory: Sendable {
    private static let prefix = "spool-"

    /// The `--storage-dir` it lives in.
    package let parent: String
    /// `spool-PID`.
    package let name: String
    package var path: String { "\(parent)/\(name)" }

    /// Creates this process's spool directory under `parent` (and `parent` itself, 0700, if it
    /// does not exist) after removing those of dead processes.
    package static func prepare(under parent: String) throws(UploadFailure) -> SpoolDirectory {
        if mkdir(parent, 0o700) != 0, errno != EEXIST {
            throw .storageFailed(reason: "cannot create \(parent): \(describe(errno))")
        }
        let directory = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw .storageFailed(reason: "cannot open \(parent): \(describe(errno))") }
        defer { close(directory) }
        for name in entries(of: directory) {
            guard name.hasPrefix(prefix), let pid = Int32(decimal: name.dropFirst(prefix.count)), pid != getpid() else { continue }
            if kill(pid, 0) != 0, errno == ESRCH { removeOwnDirectory(name, in: directory) }
        }
        let own = SpoolDirectory(parent: parent, name: "\(prefix)\(getpid())")
        try own.clearLeftover(in: directory)
        guard mkdirat(directory, own.name, 0o700) == 0 else {
            throw .storageFailed(reason: "cannot create \(own.path): \(describe(errno))")
        }
        // mkdir's mode passes through the umask: make it exactly 0700, through a descriptor.
        let created = openat(directory, own.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard created >= 0 else { throw .storageFailed(reason: "cannot open \(own.path): \(describe(errno))") }
        defer { close(created) }
        guard fchmod(created, 0o700) == 0 else { throw .storageFailed(reason: "cannot chmod \(own.path): \(describe(errno))") }
        return own
    }

    /// Removes this spool directory and the files in it.
    package func remove() {
        let directory = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { return }
        defer { close(directory) }
        Self.removeOwnDirectory(name, in: directory)
    }

    /// An earlier process with this pid may have left `spool-PID` behind: its own directory is
    /// emptied and removed, a link or file of this user's is unlinked (never followed), and
    /// anything of another user's is a reason not to start.
    private func clearLeftover(in directory: Int32) throws(UploadFailure) {
        var status = stat()
        guard fstatat(directory, name, &status, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        guard status.st_uid == geteuid() else {
            throw .storageFailed(reason: "\(path) exists and belongs to another user; remove it, or choose another --storage-dir")
        }
        if Self.isDirectory(status) {
            Self.removeOwnDirectory(name, in: directory)
        } else {
            unlinkat(directory, name, 0)
        }
    }

    /// Empties and removes `name` under `directory` when it is a directory of this user's, not
    /// a link to one; does nothing otherwise.
    private static func removeOwnDirectory(_ name: String, in directory: Int32) {
        var seen = stat()
        guard fstatat(directory, name, &seen, AT_SYMLINK_NOFOLLOW) == 0, isDirectory(seen), seen.st_uid == geteuid() else { return }
        let spool = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard spool >= 0 else { return }
        defer { close(spool) }
        // The entry may have been swapped between the look and the open: check it is the same.
        var opened = stat()
        guard fstat(spool, &opened) == 0, opened.st_dev == seen.st_dev, opened.st_ino == seen.st_ino,
              opened.st_uid == geteuid() else { return }
        for file in entries(of: spool) { unlinkat(spool, file, 0) }
        unlinkat(directory, name, AT_REMOVEDIR)
    }

    /// The names in an open directory, `.` and `..` left out; the descriptor stays open.
    private static func entries(of directory: Int32) -> [String] {
        let copy = dup(directory)
        guard copy >= 0 else { return [] }
        guard let stream = fdopendir(copy) else {
            close(copy)
            return []
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    private static func isDirectory(_ status: stat) -> Bool {
        status.st_mode & S_IFMT == S_IFDIR
    }

    private static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
