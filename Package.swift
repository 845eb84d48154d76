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
    ],
    targets: [
        // MARK: System libraries (Debian: libopenblas-dev, liblapacke-dev)
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

        // MARK: Model-file formats
        // JSONCore: the one strict JSON parser and writer; internal (not a product, no stable API).
        .target(name: "JSONCore"),
        .target(name: "SafeTensors", dependencies: ["JSONCore"]),
        .target(name: "Tokenizers", dependencies: ["JSONCore"]),

        // MARK: The encoder: matrix layer, BERT blocks, text pipeline
        .target(
            name: "TransformerEncoder",
            dependencies: ["CBLAS", "CLAPACKE", "JSONCore", "SafeTensors", "Tokenizers"]
        ),

        // MARK: Command-line tool
        .executableTarget(
            name: "encoder",
            dependencies: [
                "TransformerEncoder",
                "JSONCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: Tests
        .testTarget(name: "JSONCoreTests", dependencies: ["JSONCore"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers"]),
        .testTarget(name: "TransformerEncoderTests", dependencies: ["TransformerEncoder"]),
        .testTarget(name: "EncoderCLITests", dependencies: ["encoder"]),
    ]
)
