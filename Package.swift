// swift-tools-version:6.0
import PackageDescription

// The layers, lowest first. Each target sees only what it imports, and imports are internal
// by default, so no lower layer's types leak into the public API by accident:
//
//   CMicroHTTPD       libmicrohttpd and static inline wrappers for its variadic calls
//   UploadMockHTTP    an HTTP server on libmicrohttpd; knows nothing of Twitter
//   CVectorKernels    vector kernels the parsers call for whole blocks: base64, percent-decoding, JSON
//                     string text, the multipart delimiter filter and the streaming copy of stored
//                     media (thin C: SSSE3/AVX2/AVX-512 need per-function targets, picked at run time)
//   UploadMockForms   streaming multipart, urlencoded and base64 parsers; bytes in, events out
//   UploadMockJSON    JSON values written as the real service writes them, strict parsing
//   UploadMockDomain  the upload domain: sessions, rules, reassembly; knows nothing of HTTP or C
//   UploadMockChaos   faults, latency and rate limits
//   UploadMockAuth    OAuth 1.0a, bearer tokens, self-signed TLS
//   TwitterUploadMock the endpoints, admin API, configuration and server facade (the product)
//   twitter-upload-mock  the command line
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "twitter-upload-mock",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TwitterUploadMock", targets: ["TwitterUploadMock"]),
        .executable(name: "twitter-upload-mock", targets: ["twitter-upload-mock"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),
        .target(name: "UploadMockHTTP", dependencies: ["CMicroHTTPD"], swiftSettings: swiftSettings),
        .target(name: "CVectorKernels"),
        .target(name: "UploadMockForms", dependencies: ["CVectorKernels"], swiftSettings: swiftSettings),
        .target(name: "UploadMockJSON", swiftSettings: swiftSettings),
        .target(
            name: "UploadMockDomain",
            dependencies: ["UploadMockJSON", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "UploadMockChaos",
            dependencies: ["UploadMockDomain", "UploadMockHTTP", "UploadMockJSON"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "UploadMockAuth",
            dependencies: [
                "UploadMockForms", "UploadMockHTTP", "UploadMockJSON",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TwitterUploadMock",
            dependencies: [
                "UploadMockHTTP", "UploadMockForms", "UploadMockJSON", "UploadMockDomain", "UploadMockChaos",
                "UploadMockAuth",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "twitter-upload-mock",
            dependencies: [
                "TwitterUploadMock", "UploadMockJSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings,
            // Faster start-up (docs/performance.md, Startup): a position-dependent executable has
            // no pointers of its own for the loader to relocate (55,000 in a PIE), and one that
            // exports none of its symbols has a symbol table small enough for the Swift
            // runtime's dladdr at start to scan quickly. Release only, as every script builds it:
            // with --static-swift-stdlib. Against the shared Swift libraries (debug) glibc warns
            // at each start of a position-dependent executable about their protected functions.
            linkerSettings: [
                .unsafeFlags(["-Xclang-linker", "-no-pie", "-Xlinker", "--no-export-dynamic"],
                             .when(platforms: [.linux], configuration: .release)),
            ]
        ),
        .testTarget(
            name: "TwitterUploadMockTests",
            dependencies: [
                "TwitterUploadMock", "UploadMockHTTP", "UploadMockForms", "UploadMockJSON", "UploadMockDomain",
                "UploadMockChaos", "UploadMockAuth",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)

// The libFuzzer harness (Fuzz/, docs/reliability.md): only `scripts/fuzz` sets this variable,
// so ordinary builds never see these targets (they link only with -sanitize=fuzzer).
if Context.environment["UPLOAD_MOCK_FUZZ"] == "1" {
    package.targets += [
        .systemLibrary(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
        .executableTarget(
            name: "UploadMockFuzz",
            dependencies: [
                "CLibFuzzer", "TwitterUploadMock", "UploadMockHTTP", "UploadMockForms", "UploadMockJSON",
                "UploadMockDomain", "UploadMockChaos", "UploadMockAuth", .product(name: "Logging", package: "swift-log"),
            ],
            path: "Fuzz/UploadMockFuzz",
            swiftSettings: swiftSettings
        ),
    ]
}
