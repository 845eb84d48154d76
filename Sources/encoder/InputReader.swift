import Foundation
import JSONCore

/// One input: its text and, for a keyed `jsonl` record, its id as the raw JSON text of a scalar.
struct InputRecord {
    let text: String
    /// The id exactly as written in the input (`7`, `"doc-7"`, `1e400`, `null`), copied unchanged to the output.
    let id: String?
}

/// Reads inputs one at a time from a file or standard input without holding the whole file:
/// `lines` (one text per line) or `jsonl` (per line, a JSON string or an object with a text field and an
/// optional id field, so texts may hold newlines or be empty).
///
/// Invalid UTF-8 is replaced by U+FFFD with a warning on stderr naming the line (the tokenizer then drops
/// U+FFFD, as Hugging Face's does). A trailing "\r" (Windows line ends) is removed in `lines` format.
/// Reads go through read(2): a read error (a directory on stdin, a closed stdin, EIO) is a ``Failure``.
final class InputReader {
    enum Format {
        case lines
        case jsonl(textField: String, idField: String)
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private let format: Format
    let name: String
    private var buffer: [UInt8] = []
    private var start = 0
    private var searchFrom = 0
    private var atEnd = false
    private var block = [UInt8](repeating: 0, count: 1 << 20)
    /// 1-based number of the last line returned.
    private(set) var lineNumber = 0

    init(path: String?, format: Format) throws {
        self.format = format
        if let path, path != "-" {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw Failure(description: "\(path): cannot open for reading (\(String(cString: strerror(errno))))") }
            descriptor = fd
            ownsDescriptor = true
            name = path
        } else {
            descriptor = 0
            ownsDescriptor = false
            name = "<stdin>"
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let reason = errno == EBADF ? "it is closed" : String(cString: strerror(errno))
            throw Failure(description: "\(name): cannot read (\(reason))")
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            if ownsDescriptor { close(descriptor) }
            throw Failure(description: "\(name): is a directory")
        }
    }

    deinit { if ownsDescriptor { close(descriptor) } }

    /// The device and inode of the input when it is a regular file (to refuse writing over it).
    var fileIdentity: FileIdentity? { FileIdentity(descriptor: descriptor) }

    /// The next input, or `nil` at the end. Throws for a read error and for a bad `jsonl` line.
    func next() throws -> InputRecord? {
        guard var raw = try nextLine() else { return nil }
        lineNumber += 1
        switch format {
        case .lines:
            if raw.last == 0x0D { raw.removeLast() }
            return InputRecord(text: decode(raw), id: nil)
        case let .jsonl(textField, idField):
            do {
                return try KeyedRecord.parse(raw, textField: textField, idField: idField)
            } catch let error as KeyedRecord.Problem {
                throw Failure(description: "\(name): line \(lineNumber): \(error.description)")
            }
        }
    }

    private func decode(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        StandardError.write("warning: \(name): line \(lineNumber) is not valid UTF-8; invalid bytes replaced by U+FFFD\n")
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The bytes up to the next "\n" (excluded); the last line may lack one. An empty final chunk after
    /// a trailing newline is not an input.
    private func nextLine() throws -> [UInt8]? {
        while true {
            if let newline = buffer[searchFrom...].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                searchFrom = start
                return line
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                defer { buffer.removeAll(); start = 0; searchFrom = 0 }
                return Array(buffer[start...])
            }
            // Drop consumed bytes before reading more, so the buffer holds at most one line plus one block.
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            searchFrom = buffer.count
            let count = try readBlock()
            if count == 0 { atEnd = true } else { buffer.append(contentsOf: block[0..<count]) }
        }
    }

    private func readBlock() throws -> Int {
        while true {
            let n = block.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
            if n >= 0 { return n }
            if errno == EINTR { continue }
            let reason = errno == EBADF ? "it is closed" : String(cString: strerror(errno))
            throw Failure(description: "\(name): cannot read after line \(lineNumber) (\(reason))")
        }
    }
}

/// A `jsonl` input line: a JSON string, or an object with a string text field and an optional scalar id field,
/// parsed by JSONCore's strict parser (a duplicate key anywhere in the line is an error naming it).
enum KeyedRecord {
    struct Problem: Error, CustomStringConvertible { let description: String }

    static func parse(_ line: [UInt8], textField: String, idField: String) throws -> InputRecord {
        let expected = #"input-format jsonl expects a JSON string or an object {"\#(idField)": …, "\#(textField)": "…"} per line"#
        let value: JSONValue
        do {
            value = try line.withUnsafeBytes { bytes throws(JSONParseError) in
                try JSONParser.parse(bytes, allowsByteOrderMark: true)
            }
        } catch let error as JSONParseError {
            if case let .duplicateKey(key) = error.kind {
                let place = error.path.isEmpty ? "" : " in \(error.pathDescription)"
                throw Problem(description: "duplicate key \"\(key)\"\(place)")
            }
            throw Problem(description: "not JSON (\(error.reason) at byte \(error.offset); \(expected))")
        }
        switch value {
        case let .string(text):
            return InputRecord(text: text, id: nil)
        case let .object(members):
            var id: String?
            if let idValue = members[idField] {
                switch idValue {
                case .array, .object:
                    throw Problem(description: "\"\(idField)\" is not a JSON scalar (string, number, true, false or null)")
                default:
                    // The raw bytes, so the id is copied byte for byte (`1e400`, `"\u00e9"`, `-0.5e3`).
                    id = RawJSONObject.rawMember(idField, of: line).map { String(decoding: $0, as: UTF8.self) }
                }
            }
            guard let textValue = members[textField] else { throw Problem(description: "the object has no \"\(textField)\" field") }
            guard case let .string(text) = textValue else { throw Problem(description: "\"\(textField)\" is not a string") }
            return InputRecord(text: text, id: id)
        default:
            throw Problem(description: "not a JSON string or object (\(expected))")
        }
    }
}

/// The raw bytes of top-level members of a JSON object already validated by the parser (no duplicate keys).
enum RawJSONObject {
    /// The raw value bytes of the top-level member `name` of the object in `bytes`, `nil` when it has none.
    static func rawMember(_ name: String, of bytes: [UInt8]) -> ArraySlice<UInt8>? {
        var i = 0
        func skipSpace() { while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 } }
        /// Index just past the string starting at `from` (a quote).
        func endOfString(_ from: Int) -> Int {
            var j = from + 1
            while j < bytes.count, bytes[j] != UInt8(ascii: "\"") { j += bytes[j] == UInt8(ascii: "\\") ? 2 : 1 }
            return j + 1
        }
        /// Index just past the value starting at `from`.
        func endOfValue(_ from: Int) -> Int {
            var j = from, depth = 0
            while j < bytes.count {
                switch bytes[j] {
                case UInt8(ascii: "\""): j = endOfString(j); if depth == 0 { return j }; continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if depth == 0 { return j }
                    depth -= 1
                    if depth == 0 { return j + 1 }
                case UInt8(ascii: ","): if depth == 0 { return j }
                case 0x20, 0x09, 0x0A, 0x0D: if depth == 0 { return j }
                default: break
                }
                j += 1
            }
            return j
        }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
        skipSpace()
        i += 1  // "{"
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }  // "}" of an empty object
            let keyEnd = endOfString(i)
            let key: String? = bytes[i..<keyEnd].withUnsafeBytes { raw in
                guard case let .string(key)? = try? JSONParser.parse(raw) else { return nil }
                return key
            }
            i = keyEnd
            skipSpace()
            i += 1  // ":"
            skipSpace()
            let valueEnd = endOfValue(i)
            if key == name { return bytes[i..<valueEnd] }
            i = valueEnd
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ",") else { return nil }
            i += 1
        }
    }
}

/// A regular file's device and inode.
struct FileIdentity: Equatable {
    let device: UInt64
    let inode: UInt64

    init?(descriptor: Int32) {
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    /// The file at `path` (symlinks followed), if it exists and is a regular file.
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
