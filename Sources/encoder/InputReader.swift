import Foundation

/// Reads inputs one at a time from a file or standard input without holding the whole file:
/// `lines` (one text per line) or `jsonl` (one JSON string per line, so texts may hold newlines or be empty).
///
/// Invalid UTF-8 is replaced by U+FFFD with a warning on stderr naming the line (the tokenizer then drops
/// U+FFFD, as Hugging Face's does). A trailing "\r" (Windows line ends) is removed in `lines` format.
final class InputReader {
    enum Format: String, CaseIterable { case lines, jsonl }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let handle: FileHandle
    private let format: Format
    private let name: String
    private var buffer = Data()
    private var searchFrom = 0
    private var atEnd = false
    /// 1-based number of the last line returned.
    private(set) var lineNumber = 0

    init(path: String?, format: Format) throws {
        self.format = format
        if let path, path != "-" {
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw Failure(description: "\(path): cannot open for reading")
            }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                throw Failure(description: "\(path): is a directory")
            }
            self.handle = handle
            self.name = path
        } else {
            self.handle = FileHandle.standardInput
            self.name = "<stdin>"
        }
    }

    /// The next input, or `nil` at the end. Throws for a `jsonl` line that is not a JSON string.
    func next() throws -> String? {
        guard let raw = nextLine() else { return nil }
        lineNumber += 1
        switch format {
        case .lines:
            var line = raw
            if line.last == 0x0D { line.removeLast() }
            return decode(line)
        case .jsonl:
            guard let value = try? JSONSerialization.jsonObject(with: raw, options: [.fragmentsAllowed]),
                  let text = value as? String
            else {
                throw Failure(description: "\(name): line \(lineNumber) is not a JSON string (input-format jsonl expects one per line)")
            }
            return text
        }
    }

    private func decode(_ bytes: Data) -> String {
        if let text = String(data: bytes, encoding: .utf8) { return text }
        FileHandle.standardError.write(Data("warning: \(name): line \(lineNumber) is not valid UTF-8; invalid bytes replaced by U+FFFD\n".utf8))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The bytes up to the next "\n" (excluded); the last line may lack one. An empty final chunk after
    /// a trailing newline is not an input.
    private func nextLine() -> Data? {
        while true {
            if let newline = buffer[buffer.startIndex.advanced(by: searchFrom)...].firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<newline]
                buffer = Data(buffer[(newline + 1)...])
                searchFrom = 0
                return Data(line)
            }
            if atEnd {
                guard !buffer.isEmpty else { return nil }
                defer { buffer = Data(); searchFrom = 0 }
                return buffer
            }
            searchFrom = buffer.count
            let chunk = handle.readData(ofLength: 1 << 20)
            if chunk.isEmpty { atEnd = true } else { buffer.append(chunk) }
        }
    }
}
