// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swift-transformer-encoder",
    products: [
        // MARK: Public API
        .library(name: "TransformerEncoder", targets: ["TransformerEncoder"]),
        .executable(name: "encoder", targets: ["encoder"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // The server (EncoderServer): HTTP, graceful shutdown, metrics, logs.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // MARK: System libraries (Debian: libopenblas-dev, liblapacke-dev, libdnnl-dev)
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CLAPACKE",
            pkgConfig: "lapacke",
            providers: [.apt(["liblapacke-dev"])]
        ),
        // oneDNN (Debian ships no pkg-config file for it): the `.onednn` backend's matmul primitives.
        .systemLibrary(
            name: "CDNNL",
            providers: [.apt(["libdnnl-dev"])]
        ),

        // MARK: Model-file formats
        // JSONCore: the one strict JSON parser and writer; internal (not a product, no stable API).
        .target(name: "JSONCore"),
        .target(name: "SafeTensors", dependencies: ["JSONCore"]),
        .target(name: "Tokenizers", dependencies: ["JSONCore"]),

        // MARK: The encoder: matrix layer, BERT blocks, text pipeline
        .target(
            name: "TransformerEncoder",
            dependencies: ["CBLAS", "CLAPACKE", "CDNNL", "JSONCore", "SafeTensors", "Tokenizers"]
        ),

        // MARK: The embedding server (`encoder serve`); TransformerEncoder stays free of server dependencies
        .target(
            name: "EncoderServer",
            dependencies: [
                "TransformerEncoder",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: Command-line tool
        .executableTarget(
            name: "encoder",
            dependencies: [
                "TransformerEncoder",
                "JSONCore",
                "EncoderServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: Tests
        // Shared test support (fixture paths, default model lookup, reference sentences); not a product.
        .target(
            name: "EncoderTestSupport", dependencies: ["TransformerEncoder"], path: "Tests/EncoderTestSupport"),
        .testTarget(name: "JSONCoreTests", dependencies: ["JSONCore"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors", "EncoderTestSupport"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "JSONCore", "EncoderTestSupport"]),
        .testTarget(name: "TransformerEncoderTests", dependencies: ["TransformerEncoder", "EncoderTestSupport"]),
        .testTarget(name: "EncoderCLITests", dependencies: ["encoder", "EncoderTestSupport"]),
        .testTarget(
            name: "EncoderServerTests",
            dependencies: [
                "EncoderServer", "encoder", "EncoderTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)
