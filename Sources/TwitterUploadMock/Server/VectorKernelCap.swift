#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import UploadMockForms

/// TWITTER_UPLOAD_MOCK_VECTOR_KERNEL (docs/configuration.md, Environment): the highest vector
/// kernel level the parsers use. The CPU decides otherwise, so without a cap the instruction
/// budget (scripts/budget) would count other paths on another CPU.
enum VectorKernelCap {
    static let variable = "TWITTER_UPLOAD_MOCK_VECTOR_KERNEL"

    /// Reads the variable and caps the level (unset or empty: no cap); returns the level in
    /// force, for the `listening` log line.
    static func applyFromEnvironment() throws(UploadMockError) -> String {
        guard let raw = getenv(variable), raw.pointee != 0 else {
            VectorKernel.cap(at: nil)
            return VectorKernel.bestName
        }
        let value = String(cString: raw)
        guard let cap = VectorKernel.levels.first(where: { $0.key == value })?.value else {
            throw UploadMockError("\(variable)=\(value) is not a kernel level: use one of "
                + VectorKernel.levels.map(\.key).joined(separator: ", ") + " (docs/configuration.md)")
        }
        VectorKernel.cap(at: cap)
        return VectorKernel.bestName
    }
}
