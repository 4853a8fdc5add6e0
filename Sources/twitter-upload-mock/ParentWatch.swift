#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--exit-with-parent`: the parent starts the server with standard input a pipe whose write
/// end only it holds. However the parent ends (exit, SIGTERM, SIGKILL), the kernel closes that
/// end, the read here sees end of file, and the server stops as on SIGTERM: connections closed,
/// spool directory removed, exit 0. A pipe rather than Linux's parent-death signal, which
/// fires when the forking *thread* ends, not the process, and exists on Linux only.
enum ParentWatch {
    static func start() {
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { _ in
            var buffer = [UInt8](repeating: 0, count: 512)
            while true {
                let count = read(STDIN_FILENO, &buffer, buffer.count)
                if count == 0 || (count < 0 && errno != EINTR) { break }
            }
            // Process-directed, so the main thread's sigwait takes it.
            kill(getpid(), SIGTERM)
            return nil
        }, nil)
        if created == 0 { pthread_detach(thread) }
    }
}
