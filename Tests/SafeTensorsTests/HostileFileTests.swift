import Foundation
import XCTest
@testable import SafeTensors

/// One test per class of malformed input: each checks the error kind and that the
/// description names the file (and the tensor, where there is one).
final class HostileFileTests: XCTestCase {
    private var tempDir: URL!

    override func setUpWithError() throws {
        tempDir = FileManager.default.temporaryDirectory.appendingPathComponent("st-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tempDir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tempDir)
    }

    private func open(_ url: URL, expect kind: SafeTensorsError.Kind, line: UInt = #line) {
        assertSafeTensorsError(kind, file: url.path, { () throws(SafeTensorsError) in
            _ = try SafeTensorsFile(contentsOf: url)
        }, line: line)
    }

    /// A valid F32 entry `"name":{...}` for `count` floats at `begin`.
    private func entry(_ name: String, begin: Int, count: Int) -> String {
        #""\#(name)":{"dtype":"F32","shape":[\#(count)],"data_offsets":[\#(begin),\#(begin + 4 * count)]}"#
    }

    // MARK: Files

    func testMissingFile() {
        open(tempDir.appendingPathComponent("absent.safetensors"), expect: .fileNotFound)
        open(tempDir.appendingPathComponent("no/such/dir/model.safetensors"), expect: .fileNotFound)
    }

    func testDirectory() {
        open(tempDir, expect: .isDirectory)
    }

    func testNotARegularFile() throws {
        let fifo = tempDir.appendingPathComponent("fifo")
        XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
        open(fifo, expect: .notRegularFile)  // must not block waiting for a writer
        open(URL(fileURLWithPath: "/dev/null"), expect: .notRegularFile)
    }

    func testUnreadableFile() throws {
        // Errors other than "missing" or "directory" while opening (here ELOOP and ENAMETOOLONG).
        let loop = tempDir.appendingPathComponent("loop.safetensors")
        XCTAssertEqual(symlink(loop.path, loop.path), 0)
        open(loop, expect: .unreadable(reason: String(cString: strerror(ELOOP))))
        let long = tempDir.appendingPathComponent(String(repeating: "x", count: 300))
        open(long, expect: .unreadable(reason: String(cString: strerror(ENAMETOOLONG))))
    }

    func testPermissionDenied() throws {
        // Not testable as root, who may read anything.
        let url = tempDir.appendingPathComponent("secret.safetensors")
        try Data(Builder.single(dtype: "F32", shape: [1], data: [0, 0, 0, 0])).write(to: url)
        XCTAssertEqual(chmod(url.path, 0), 0)
        if geteuid() == 0 { throw XCTSkip("running as root: permissions do not prevent reading") }
        open(url, expect: .unreadable(reason: String(cString: strerror(EACCES))))
    }

    func testEmptyAndTooShortFiles() throws {
        let empty = tempDir.appendingPathComponent("empty.safetensors")
        try Data().write(to: empty)
        open(empty, expect: .fileTooSmall(size: 0))
        let short = tempDir.appendingPathComponent("short.safetensors")
        try Data([1, 0, 0]).write(to: short)
        open(short, expect: .fileTooSmall(size: 3))
        for n in 0..<8 {
            assertRejects([UInt8](repeating: 0, count: n), .fileTooSmall(size: n))
        }
    }

    // MARK: Framing

    func testHeaderLengthBeyondFile() throws {
        var bytes = Builder.file(header: "{}")
        bytes[0] = 3  // claims 3 header bytes, only 2 follow
        assertRejects(bytes, .headerExceedsFile(length: 3, available: 2))
        assertRejects(Builder.littleEndianBytes([UInt64(1)]), .headerExceedsFile(length: 1, available: 0))
        // Mapped file too.
        let url = tempDir.appendingPathComponent("framing.safetensors")
        try Data(Builder.littleEndianBytes([UInt64(50_000)]) + Array("{}".utf8)).write(to: url)
        open(url, expect: .headerExceedsFile(length: 50_000, available: 2))
    }

    func testHeaderLengthOverLimit() {
        let limit = SafeTensorsFile.maxHeaderLength
        for length in [UInt64(limit) + 1, UInt64(Int.max), UInt64.max] {
            let bytes = Builder.littleEndianBytes([length]) + Array("{}".utf8)
            let error = assertRejects(bytes, .headerTooLarge(length: length, limit: limit))
            XCTAssertEqual(error?.description, "hostile.safetensors: header length \(length) exceeds the limit of 100000000 bytes")
        }
    }

    func testEmptyHeaderIsNotJSON() {
        assertRejects(Builder.file(header: ""), .invalidJSON(offset: 0, reason: "expected a value, found end of input"))
    }

    // MARK: Header syntax

    func testHeaderNotUTF8() {
        let prefix = Array(#"{"__metadata__":{"k":""#.utf8)
        let suffix = Array(#""}}"#.utf8)
        for bad: [UInt8] in [[0xFF], [0xC0, 0xAF] /* overlong '/' */, [0xED, 0xA0, 0x80] /* surrogate */,
                             [0xF4, 0x90, 0x80, 0x80] /* > U+10FFFF */, [0xE2, 0x82] /* truncated */] {
            assertRejects(Builder.file(headerBytes: prefix + bad + suffix), .headerNotUTF8(offset: prefix.count))
        }
        // Valid multi-byte UTF-8 is fine.
        XCTAssertEqual(try SafeTensorsFile(bytes: Builder.file(header: #"{"__metadata__":{"clé":"日本語 🎉"}}"#)).metadata, ["clé": "日本語 🎉"])
    }

    func testHeaderNotJSON() {
        let cases: [(String, Int)] = [
            (#"{"a":1,}"#, 7),                 // trailing comma
            (#"{'a':1}"#, 1),                  // single quotes
            (#"{"a":{"dtype":"F32""#, 19),     // truncated
            (#"{} {}"#, 3),                    // two values
            (#"{"a":01}"#, 6),                 // leading zero
            (#"{"a":-}"#, 6),                  // bare minus
            (#"{"a":1.}"#, 7),                 // no fraction digits
            (#"{"a":tru}"#, 5),                // bad literal
            ("{\"a\u{1}\":1}", 3),             // raw control character in a string
            (#"{"a\q":1}"#, 3),                // bad escape
            (#"{"\ud800":1}"#, 2),             // lone high surrogate
            (#"{"\udc00":1}"#, 2),             // lone low surrogate
            (#"{"a" 1}"#, 5),                  // missing colon
            ("{\"a\":NaN}", 5),                // not JSON
            ("\u{FEFF}{}", 0),                 // byte-order mark
        ]
        for (header, offset) in cases {
            assertInvalidJSON(header, at: offset)
        }
    }

    func testDeepNestingIsRejectedWithoutRecursingOnIt() {
        let depth = 100_000
        let header = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        assertRejects(Builder.file(header: header), .invalidJSON(offset: 64, reason: "nesting deeper than 64 levels"))
        let objects = String(repeating: #"{"a":"#, count: depth)
        assertRejects(Builder.file(header: objects), .invalidJSON(offset: 5 * 64, reason: "nesting deeper than 64 levels"))
    }

    func testHeaderNotAnObject() {
        for header in ["[]", #""weights""#, "42", "null", "true", #"[{"t":{}}]"#] {
            assertRejects(Builder.file(header: "  \(header)\n"), .headerNotObject)
        }
    }

    // MARK: Tensor entries

    func testTensorEntryNotAnObject() {
        for value in ["[1,2]", #""F32""#, "null", "7"] {
            assertRejects(Builder.file(header: #"{"w":\#(value)}"#), .tensorEntryNotObject, tensor: "w")
        }
    }

    func testMissingFields() {
        assertRejects(Builder.file(header: #"{"w":{"shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), .missingField("dtype"), tensor: "w")
        assertRejects(Builder.file(header: #"{"w":{"dtype":"F32","data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), .missingField("shape"), tensor: "w")
        assertRejects(Builder.file(header: #"{"w":{"dtype":"F32","shape":[1]}}"#, data: [0, 0, 0, 0]), .missingField("data_offsets"), tensor: "w")
        let error = assertRejects(Builder.file(header: #"{"w":{}}"#), .missingField("dtype"), tensor: "w")
        XCTAssertEqual(error?.description, #"hostile.safetensors: tensor 'w': header entry has no "dtype" field"#)
    }

    func testDuplicateFieldInEntry() {
        let header = #"{"w":{"dtype":"F32","shape":[1],"dtype":"F16","data_offsets":[0,4]}}"#
        assertRejects(Builder.file(header: header, data: [0, 0, 0, 0]), .duplicateField("dtype"), tensor: "w")
    }

    func testUnknownDType() {
        for dtype in ["F128", "f32", "float32", "", "F8_E4M3FN"] {
            assertRejects(Builder.single(name: "w", dtype: dtype, shape: [1], data: [0, 0, 0, 0]), .unknownDType(dtype), tensor: "w")
        }
        assertRejects(Builder.file(header: #"{"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), .dtypeNotString, tensor: "w")
    }

    func testInvalidShape() {
        let cases: [(String, String)] = [
            ("[2,-1]", "dimension 1 is negative (-1)"),
            ("[1.5]", "dimension 0 is not an integer"),
            ("[2e0]", "dimension 0 is not an integer"),
            ("[4.0]", "dimension 0 is not an integer"),
            (#"["4"]"#, "dimension 0 is a string, not an integer"),
            ("[null]", "dimension 0 is null, not an integer"),
            ("[[4]]", "dimension 0 is an array, not an integer"),
            ("[99999999999999999999]", "dimension 0 is too large for Int"),
            ("[-99999999999999999999]", "dimension 0 is negative and too large for Int"),
            ("4", "expected an array, found a number"),
            (#"{"0":4}"#, "expected an array, found an object"),
        ]
        for (shape, reason) in cases {
            let header = #"{"w":{"dtype":"F32","shape":\#(shape),"data_offsets":[0,16]}}"#
            assertRejects(Builder.file(header: header, data: [UInt8](repeating: 0, count: 16)), .invalidShape(reason: reason), tensor: "w")
        }
    }

    func testShapeOverflow() {
        let cases: [(String, [Int])] = [
            ("F32", [1 << 32, 1 << 32]),          // element count overflows
            ("F32", [1 << 62]),                   // byte size overflows
            ("F64", [Int.max]),
            ("U8", [3, Int.max / 2]),
            ("F32", [0, 1 << 40, 1 << 40]),       // a zero does not excuse the other dimensions
        ]
        for (dtype, shape) in cases {
            assertRejects(Builder.single(name: "w", dtype: dtype, shape: shape, data: []), .shapeOverflow(shape: shape), tensor: "w")
        }
        // Huge but representable: caught by the size check, not allocated.
        assertRejects(Builder.single(name: "w", dtype: "F32", shape: [1 << 30, 1 << 30], data: [0, 0, 0, 0]),
                      .byteSizeMismatch(expected: 1 << 62, actual: 4), tensor: "w")
    }

    func testInvalidDataOffsets() {
        let cases: [(String, String)] = [
            ("[0]", "expected 2 elements, found 1"),
            ("[0,4,8]", "expected 2 elements, found 3"),
            ("[]", "expected 2 elements, found 0"),
            ("[-4,0]", "begin is negative"),
            ("[0,-4]", "end is negative"),
            ("[0,4.0]", "end is not an integer"),
            ("[0,1e1]", "end is not an integer"),
            (#"["0",4]"#, "begin is a string, not an integer"),
            ("[0,true]", "end is a boolean, not an integer"),
            ("[0,99999999999999999999]", "end is too large for Int"),
            ("[-99999999999999999999,0]", "begin is negative"),
            (#"{"begin":0,"end":4}"#, "expected an array, found an object"),
            ("null", "expected an array, found null"),
        ]
        for (offsets, reason) in cases {
            let header = #"{"w":{"dtype":"F32","shape":[1],"data_offsets":\#(offsets)}}"#
            assertRejects(Builder.file(header: header, data: [0, 0, 0, 0]), .invalidDataOffsets(reason: reason), tensor: "w")
        }
    }

    func testReversedDataOffsets() {
        let header = #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#
        let error = assertRejects(Builder.file(header: header, data: [UInt8](repeating: 0, count: 8)), .reversedDataOffsets(begin: 8, end: 4), tensor: "w")
        XCTAssertEqual(error?.description, "hostile.safetensors: tensor 'w': data_offsets [8, 4] begin after they end")
    }

    func testDataOffsetsBeyondDataSection() {
        assertRejects(Builder.file(header: "{\(entry("w", begin: 0, count: 2))}", data: [0, 0, 0, 0]),
                      .dataOffsetsOutOfBounds(end: 8, dataSectionSize: 4), tensor: "w")
        // Huge offsets near Int.max must not overflow anything.
        let header = #"{"w":{"dtype":"U8","shape":[1],"data_offsets":[9223372036854775806,9223372036854775807]}}"#
        assertRejects(Builder.file(header: header, data: [0]), .dataOffsetsOutOfBounds(end: Int.max, dataSectionSize: 1), tensor: "w")
    }

    func testByteLengthMismatch() {
        assertRejects(Builder.file(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: [UInt8](repeating: 0, count: 8)),
                      .byteSizeMismatch(expected: 8, actual: 4), tensor: "w")
        assertRejects(Builder.file(header: #"{"w":{"dtype":"F16","shape":[2,2],"data_offsets":[0,16]}}"#, data: [UInt8](repeating: 0, count: 16)),
                      .byteSizeMismatch(expected: 8, actual: 16), tensor: "w")
        assertRejects(Builder.file(header: #"{"w":{"dtype":"F32","shape":[0],"data_offsets":[0,4]}}"#, data: [UInt8](repeating: 0, count: 4)),
                      .byteSizeMismatch(expected: 0, actual: 4), tensor: "w")
    }

    func testOverlappingTensors() {
        let data = [UInt8](repeating: 0, count: 64)
        // b starts inside a.
        assertRejects(Builder.file(header: "{\(entry("a", begin: 0, count: 4)),\(entry("b", begin: 12, count: 2))}", data: data),
                      .overlappingTensors(other: "a"), tensor: "b")
        // c lies entirely inside a long a, after a short b that a also covers.
        assertRejects(Builder.file(header: "{\(entry("a", begin: 0, count: 16)),\(entry("b", begin: 4, count: 1)),\(entry("c", begin: 40, count: 1))}", data: data),
                      .overlappingTensors(other: "a"), tensor: "b")
        // Identical ranges.
        assertRejects(Builder.file(header: "{\(entry("x", begin: 8, count: 2)),\(entry("y", begin: 8, count: 2))}", data: data),
                      .overlappingTensors(other: "x"), tensor: "y")
        // Adjacent tensors and zero-size tensors anywhere are fine.
        let ok = "{\(entry("a", begin: 0, count: 4)),\(entry("b", begin: 16, count: 4)),\(entry("e1", begin: 8, count: 0)),\(entry("e2", begin: 8, count: 0)),\(entry("e3", begin: 64, count: 0))}"
        XCTAssertNoThrow(try SafeTensorsFile(bytes: Builder.file(header: ok, data: data)))
        XCTAssertEqual(try SafeTensorsFile(bytes: Builder.file(header: ok, data: data)).tensorNames, ["a", "b", "e1", "e2", "e3"])
    }

    func testDuplicateTensorNames() {
        let header = "{\(entry("w", begin: 0, count: 1)),\(entry("v", begin: 4, count: 1)),\(entry("w", begin: 8, count: 1))}"
        let error = assertRejects(Builder.file(header: header, data: [UInt8](repeating: 0, count: 12)), .duplicateTensorName, tensor: "w")
        XCTAssertEqual(error?.description, "hostile.safetensors: tensor 'w': name appears more than once in the header")
        // Names that differ only in escaping are the same name.
        let escaped = "{\(entry("w", begin: 0, count: 1)),\(entry(#"\u0077"#, begin: 4, count: 1))}"
        assertRejects(Builder.file(header: escaped, data: [UInt8](repeating: 0, count: 8)), .duplicateTensorName, tensor: "w")
        // Canonically equivalent names ("é" precomposed and decomposed) cannot both be looked up.
        let equivalent = "{\(entry("caf\u{E9}", begin: 0, count: 1)),\(entry("cafe\u{301}", begin: 4, count: 1))}"
        assertRejects(Builder.file(header: equivalent, data: [UInt8](repeating: 0, count: 8)), .duplicateTensorName, tensor: "cafe\u{301}")
        // Two __metadata__ objects.
        assertRejects(Builder.file(header: #"{"__metadata__":{},"__metadata__":{}}"#), .duplicateTensorName, tensor: "__metadata__")
    }

    func testInvalidMetadata() {
        let cases: [(String, String)] = [
            ("[]", "expected an object, found an array"),
            (#""pt""#, "expected an object, found a string"),
            ("null", "expected an object, found null"),
            (#"{"format":1}"#, "value of 'format' is a number, not a string"),
            (#"{"nested":{"a":"b"}}"#, "value of 'nested' is an object, not a string"),
            (#"{"format":"pt","format":"np"}"#, "key 'format' appears more than once"),
        ]
        for (metadata, reason) in cases {
            assertRejects(Builder.file(header: #"{"__metadata__":\#(metadata)}"#), .invalidMetadata(reason: reason))
        }
    }

    func testHostileNamesAreEscapedInDescriptions() {
        let error = assertRejects(Builder.file(header: #"{"a\nb":7}"#), .tensorEntryNotObject, tensor: "a\nb")
        XCTAssertEqual(error?.description, #"hostile.safetensors: tensor 'a\u{a}b': header entry is not a JSON object"#)
    }

    // MARK: Valid edge cases

    func testValidEdgeCases() throws {
        // Empty header object, trailing whitespace padding, unknown extra fields, escaped names, extra data.
        XCTAssertEqual(try SafeTensorsFile(bytes: Builder.file(header: "{}")).tensorNames, [])
        let header = #"{"na\"me\u00e9":{"dtype":"I16","shape":[2],"data_offsets":[2,6],"extra":[1,{"x":null}]}}      "#
        let file = try SafeTensorsFile(bytes: Builder.file(header: header, data: [9, 9, 1, 0, 0xFF, 0xFF, 9]))
        XCTAssertEqual(file.tensorNames, ["na\"meé"])
        XCTAssertEqual(try file.intTensor("na\"meé").values, [1, -1])
        XCTAssertEqual(file.metadata, [:])
    }
}

extension HostileFileTests {
    /// `invalidJSON` reasons are prose; this checks the offset, file and description prefix.
    private func assertInvalidJSON(_ header: String, at offset: Int, line: UInt = #line) {
        do {
            _ = try SafeTensorsFile(bytes: Builder.file(header: header), name: "hostile.safetensors")
            XCTFail("expected invalid JSON at \(offset): \(header)", line: line)
        } catch {
            guard case .invalidJSON(let gotOffset, let reason) = error.kind else {
                return XCTFail("expected invalidJSON, got \(error)", line: line)
            }
            XCTAssertEqual(gotOffset, offset, "\(error) — header: \(header)", line: line)
            XCTAssertFalse(reason.isEmpty, line: line)
            XCTAssertEqual(error.file, "hostile.safetensors", line: line)
            XCTAssertNil(error.tensor, line: line)
            XCTAssertTrue(error.description.hasPrefix("hostile.safetensors: header is not valid JSON at byte \(offset): "), line: line)
        }
    }
}
