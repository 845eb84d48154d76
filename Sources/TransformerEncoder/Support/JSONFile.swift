import Foundation
import JSONCore

/// Reads small JSON configuration files (`config.json`, `modules.json`, pooling and
/// sentence-transformers configs) with the strict ``JSONParser``, with errors that name the file
/// (and, for a duplicated key, the key and the object holding it).
enum JSONFile {
    /// Largest configuration file accepted; real ones are a few kilobytes.
    static let maximumSize = 16 << 20

    /// The top-level JSON object of the file at `url`.
    static func object(at url: URL) throws(EncoderError) -> [String: JSONValue] {
        try object(from: read(url), path: url.path)
    }

    /// The top-level JSON object of `data` (the contents of the file at `path`, named in errors).
    static func object(from data: Data, path: String) throws(EncoderError) -> [String: JSONValue] {
        guard case .object(let object) = try parse(data, path: path) else {
            throw .malformedJSON(path: path, reason: "top level is not a JSON object")
        }
        return object
    }

    /// The top-level JSON array of the file at `url`.
    static func array(at url: URL) throws(EncoderError) -> [JSONValue] {
        guard case .array(let array) = try parse(read(url), path: url.path) else {
            throw .malformedJSON(path: url.path, reason: "top level is not a JSON array")
        }
        return array
    }

    private static func parse(_ data: Data, path: String) throws(EncoderError) -> JSONValue {
        do {
            return try JSONValue.parse(data)
        } catch {
            if case .duplicateKey(let key) = error.kind {
                throw .malformedJSON(path: path, reason: "not valid JSON: key '\(key)' appears twice in \(error.pathDescription)")
            }
            throw .malformedJSON(path: path, reason: "not valid JSON: \(error.reason) at byte \(error.offset)")
        }
    }

    private static func read(_ url: URL) throws(EncoderError) -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw .unreadableFile(path: url.path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw .unreadableFile(path: url.path, reason: "is a directory") }
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        guard size <= maximumSize else {
            throw .unreadableFile(path: url.path, reason: "\(size) bytes is too large for a configuration file")
        }
        do {
            return try Data(contentsOf: url)
        } catch {
            throw .unreadableFile(path: url.path, reason: "cannot be read")
        }
    }
}

/// Typed access to the fields of a decoded JSON object (through ``JSONField``), with errors naming
/// file and field.
struct JSONFields {
    let object: [String: JSONValue]
    let path: String

    /// The field is present and not `null`.
    func has(_ field: String) -> Bool { object[field].map { $0 != .null } ?? false }

    /// An integer field; `default` when absent (or `nil` → the field is required).
    func int(_ field: String, default fallback: Int? = nil, range: ClosedRange<Int>) throws(EncoderError) -> Int {
        try read(field) { () throws(JSONFieldError) in try JSONField.int(object[field], default: fallback, range: range) }
    }

    /// A floating-point field (an integer literal is accepted too).
    func double(_ field: String, default fallback: Double? = nil, range: ClosedRange<Double>) throws(EncoderError) -> Double {
        try read(field) { () throws(JSONFieldError) in try JSONField.double(object[field], default: fallback, range: range) }
    }

    /// A string field.
    func string(_ field: String, default fallback: String? = nil) throws(EncoderError) -> String {
        try read(field) { () throws(JSONFieldError) in try JSONField.string(object[field], default: fallback) }
    }

    /// A boolean field.
    func bool(_ field: String, default fallback: Bool) throws(EncoderError) -> Bool {
        try read(field) { () throws(JSONFieldError) in try JSONField.bool(object[field], default: fallback) }
    }

    private func read<T>(_ field: String, _ body: () throws(JSONFieldError) -> T) throws(EncoderError) -> T {
        do {
            return try body()
        } catch {
            throw .invalidField(path: path, field: field, reason: error.reason)
        }
    }
}
