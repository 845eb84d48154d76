import Foundation
import XCTest
@testable import TransformerEncoder

/// Finding model folders: paths that are files or symlink loops say so, and hub ids resolve in a (fake)
/// Hugging Face cache, offline. (A `pytorch_model.bin`-only Dense folder: SentenceTransformersModulesTests;
/// the encoder's own folder is checked where the model loads.)
final class ModelFolderTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("modelfolder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    static let fixture = TestSupport.fixtures.appendingPathComponent("stmodules/prompts")

    func assertError(
        _ body: @autoclosure () throws -> Any, mentions words: [String], file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertTrue(error is EncoderError, "\(error)", file: file, line: line)
            for word in words {
                XCTAssertTrue("\(error)".contains(word), "'\(error)' should mention '\(word)'", file: file, line: line)
            }
        }
    }

    func testPathThatIsAFileSaysSo() throws {
        let file = Self.fixture.appendingPathComponent("config.json")
        assertError(try ModelFolder.resolve(file.path), mentions: [file.path, "is a file, not a model folder"])
        assertError(try SentenceEncoder(modelFolder: file), mentions: [file.path, "is a file"])
    }

    func testSymlinkLoopSaysSo() throws {
        let a = scratch.appendingPathComponent("a"), b = scratch.appendingPathComponent("b")
        try FileManager.default.createSymbolicLink(atPath: a.path, withDestinationPath: b.path)
        try FileManager.default.createSymbolicLink(atPath: b.path, withDestinationPath: a.path)
        assertError(try ModelFolder.resolve(a.path), mentions: [a.path, "symbolic link loop"])
        assertError(try SentenceEncoder(modelFolder: a), mentions: [a.path, "symbolic link loop"])
    }

    func testMissingFolderSaysNotFound() throws {
        let missing = scratch.appendingPathComponent("nothing-here")
        assertError(try ModelFolder.resolve(missing.path), mentions: [missing.path, "not found"])
        assertError(try SentenceEncoder(modelFolder: missing), mentions: [missing.path, "not found"])
    }

    /// A fake cache: `hub/models--org--tiny/{refs/main, snapshots/<commit>/…}` with the files as symbolic links
    /// to blobs, as huggingface_hub lays it out.
    func makeCache(at hub: URL, id: String = "org/tiny", commit: String = "0123abcd") throws -> URL {
        let repository = hub.appendingPathComponent("models--" + id.replacingOccurrences(of: "/", with: "--"))
        let snapshot = repository.appendingPathComponent("snapshots/\(commit)")
        let blobs = repository.appendingPathComponent("blobs")
        try FileManager.default.createDirectory(at: snapshot, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: repository.appendingPathComponent("refs"), withIntermediateDirectories: true)
        try Data((commit + "\n").utf8).write(to: repository.appendingPathComponent("refs/main"))
        let enumerator = FileManager.default.enumerator(at: Self.fixture, includingPropertiesForKeys: [.isRegularFileKey])!
        var blobIndex = 0
        for case let url as URL in enumerator where (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true {
            let relative = String(url.path.dropFirst(Self.fixture.path.count + 1))
            let blob = blobs.appendingPathComponent("blob\(blobIndex)")
            blobIndex += 1
            try FileManager.default.copyItem(at: url, to: blob)
            let link = snapshot.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(at: link, withDestinationURL: blob)
        }
        return snapshot
    }

    func testHubIDResolvesInTheCacheAndEmbedsLikeTheFolder() throws {
        let home = scratch.appendingPathComponent("hf-home")
        let snapshot = try makeCache(at: home.appendingPathComponent("hub"))
        let resolved = try ModelFolder.resolve("org/tiny", environment: ["HF_HOME": home.path])
        XCTAssertEqual(resolved.path, snapshot.path)
        let fromCache = try SentenceEncoder(modelFolder: resolved).encode(["the cat sat"], promptName: "passage")
        let fromFixture = try SentenceEncoder(modelFolder: Self.fixture).encode(["the cat sat"], promptName: "passage")
        XCTAssertEqual(fromCache.embeddings, fromFixture.embeddings)
    }

    func testCacheLocationsInHuggingFaceOrder() throws {
        let hubCache = scratch.appendingPathComponent("hub-cache")
        let home = scratch.appendingPathComponent("home")
        let xdg = scratch.appendingPathComponent("xdg")
        let user = scratch.appendingPathComponent("user")
        let inHubCache = try makeCache(at: hubCache, commit: "aaaa")
        let inHome = try makeCache(at: home.appendingPathComponent("hub"), commit: "bbbb")
        let inXDG = try makeCache(at: xdg.appendingPathComponent("huggingface/hub"), commit: "cccc")
        let inUser = try makeCache(at: user.appendingPathComponent(".cache/huggingface/hub"), commit: "dddd")
        let all = ["HF_HUB_CACHE": hubCache.path, "HF_HOME": home.path, "XDG_CACHE_HOME": xdg.path, "HOME": user.path]
        XCTAssertEqual(try ModelFolder.resolve("org/tiny", environment: all).path, inHubCache.path)
        XCTAssertEqual(try ModelFolder.resolve("org/tiny", environment: all.filter { $0.key != "HF_HUB_CACHE" }).path, inHome.path)
        XCTAssertEqual(try ModelFolder.resolve("org/tiny", environment: ["XDG_CACHE_HOME": xdg.path, "HOME": user.path]).path, inXDG.path)
        XCTAssertEqual(try ModelFolder.resolve("org/tiny", environment: ["HOME": user.path]).path, inUser.path)
        // A name without an organisation: models--NAME.
        let plain = try makeCache(at: hubCache, id: "tiny-model", commit: "eeee")
        XCTAssertEqual(try ModelFolder.resolve("tiny-model", environment: ["HF_HUB_CACHE": hubCache.path]).path, plain.path)
    }

    func testHubIDNotInTheCacheSaysWhereItLooked() throws {
        let home = scratch.appendingPathComponent("empty-home")
        let expected = home.appendingPathComponent("hub/models--sentence-transformers--all-mpnet-base-v2/refs/main").path
        assertError(
            try ModelFolder.resolve("sentence-transformers/all-mpnet-base-v2", environment: ["HF_HOME": home.path]),
            mentions: ["sentence-transformers/all-mpnet-base-v2", "not in the Hugging Face cache", expected])
        // refs/main names a snapshot that is not there.
        let snapshot = try makeCache(at: home.appendingPathComponent("hub"), commit: "ffff")
        try FileManager.default.removeItem(at: snapshot)
        assertError(try ModelFolder.resolve("org/tiny", environment: ["HF_HOME": home.path]), mentions: [snapshot.path, "ffff", "missing"])
    }

    func testPathsAreNotHubIDs() {
        for name in ["org/name", "name", "sentence-transformers/all-mpnet-base-v2", "BAAI/bge-small-en-v1.5"] {
            XCTAssertTrue(ModelFolder.isHubID(name), name)
        }
        for name in ["/abs/path", "./relative", "../up", "a/b/c", "a/", "", ".hidden", "org/..", "with space/x"] {
            XCTAssertFalse(ModelFolder.isHubID(name), name)
        }
        // A folder on disk wins over the cache.
        let local = scratch.appendingPathComponent("org")
        XCTAssertNoThrow(try FileManager.default.createDirectory(at: local.appendingPathComponent("tiny"), withIntermediateDirectories: true))
        let cwd = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(scratch.path)
        defer { FileManager.default.changeCurrentDirectoryPath(cwd) }
        XCTAssertEqual(try? ModelFolder.resolve("org/tiny", environment: ["HF_HOME": "/nonexistent"]).standardizedFileURL.path,
                       local.appendingPathComponent("tiny").standardizedFileURL.path)
    }
}
