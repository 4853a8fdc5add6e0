import Crypto
import SwiftASN1
import X509
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `--tls-self-signed DIR`: a fresh CA and a server certificate for every name clients use
/// (localhost, 127.0.0.1, ::1 and the X hosts). Only the CA certificate is written out
/// (`DIR/ca.pem`, for clients to trust); the keys live in memory for this run.
package struct SelfSignedTLS {
    package let certificatePEM: String
    package let keyPEM: String
    package let caPEM: String

    static let names = ["localhost", "upload.twitter.com", "upload.x.com", "api.x.com", "api.twitter.com"]

    package init() throws {
        let now = Date()
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { CommonName("twitter-upload-mock local CA") }
        let ca = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(caKey.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 365 * 86_400, issuer: caName, subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(caKey))
        let serverKey = P256.Signing.PrivateKey()
        let server = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(serverKey.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 365 * 86_400, issuer: caName,
            subject: try DistinguishedName { CommonName("localhost") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                KeyUsage(digitalSignature: true, keyEncipherment: true)
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(Self.names.map { GeneralName.dnsName($0) } + [
                    .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                    .ipAddress(ASN1OctetString(contentBytes: ArraySlice(repeating: 0, count: 15) + [1])),
                ])
            },
            issuerPrivateKey: .init(caKey))
        certificatePEM = try server.serializeAsPEM().pemString + "\n" + ca.serializeAsPEM().pemString
        keyPEM = serverKey.pemRepresentation
        caPEM = try ca.serializeAsPEM().pemString + "\n"
    }

    /// Writes the CA certificate to `directory/ca.pem`, creating the directory.
    package func writeCA(to directory: String) throws(SelfSignedTLSError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SelfSignedTLSError(reason: "cannot create \(directory): \(error)")
        }
        let path = directory + "/ca.pem"
        guard FileManager.default.createFile(atPath: path, contents: Data(caPEM.utf8)) else {
            throw SelfSignedTLSError(reason: "cannot write \(path)")
        }
    }
}

/// Why the self-signed certificate could not be set up.
package struct SelfSignedTLSError: Error, CustomStringConvertible {
    package var reason: String
    package var description: String { reason }
}
