import Foundation

/// Reads small JSON configuration files (`config.json`, `modules.json`, pooling and
/// sentence-transformers configs) into dictionaries, with errors that name the file.
enum JSONFile {
    /// Largest configuration file accepted; real ones are a few kilobytes.
    static let maximumSize = 16 << 20

    /// The top-level JSON object of the file at `url`.
    static func object(at url: URL) throws(EncoderError) -> [String: Any] {
        try object(from: read(url), path: url.path)
    }

    /// The top-level JSON object of `data` (the contents of the file at `path`, named in errors).
    static func object(from data: Data, path: String) throws(EncoderError) -> [String: Any] {
        guard let object = try parse(data, path: path) as? [String: Any] else {
            throw .malformedJSON(path: path, reason: "top level is not a JSON object")
        }
        return object
    }

    /// The top-level JSON array of the file at `url`.
    static func array(at url: URL) throws(EncoderError) -> [Any] {
        guard let array = try parse(read(url), path: url.path) as? [Any] else {
            throw .malformedJSON(path: url.path, reason: "top level is not a JSON array")
        }
        return array
    }

    private static func parse(_ data: Data, path: String) throws(EncoderError) -> Any {
        do {
            return try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw .malformedJSON(path: path, reason: "not valid JSON")
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

/// Typed access to the fields of a decoded JSON object, with errors naming file and field.
struct JSONFields {
    let object: [String: Any]
    let path: String

    /// JSON `true`/`false` (Foundation bridges numbers to `Bool`, so `is Bool` alone cannot tell).
    static func isBoolean(_ value: Any) -> Bool {
        type(of: value) == Bool.self || ObjectIdentifier(type(of: value)) == ObjectIdentifier(booleanType)
    }
    private static let booleanType: Any.Type = type(of: NSNumber(value: true))

    func has(_ field: String) -> Bool { object[field] != nil && !(object[field] is NSNull) }

    /// An integer field; `default` when absent (or `nil` → the field is required).
    func int(_ field: String, default fallback: Int? = nil, range: ClosedRange<Int>) throws(EncoderError) -> Int {
        guard has(field) else {
            if let fallback { return fallback }
            throw .invalidField(path: path, field: field, reason: "is missing")
        }
        guard let number = object[field] as? NSNumber, !Self.isBoolean(object[field]!),
              number.doubleValue.isFinite, number.doubleValue.rounded() == number.doubleValue
        else {
            throw .invalidField(path: path, field: field, reason: "is not an integer: \(String(describing: object[field]!))")
        }
        // Integral but possibly beyond Int (1e300, 2^63): out of range, not "not an integer".
        guard let value = Int(exactly: number.doubleValue), range.contains(value) else {
            throw .invalidField(path: path, field: field, reason: "is \(number), must be in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// A floating-point field.
    func double(_ field: String, default fallback: Double? = nil, range: ClosedRange<Double>) throws(EncoderError) -> Double {
        guard has(field) else {
            if let fallback { return fallback }
            throw .invalidField(path: path, field: field, reason: "is missing")
        }
        guard let number = object[field] as? NSNumber, !Self.isBoolean(object[field]!) else {
            throw .invalidField(path: path, field: field, reason: "is not a number")
        }
        let value = number.doubleValue
        guard range.contains(value) else {
            throw .invalidField(path: path, field: field, reason: "is \(value), must be in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// A string field.
    func string(_ field: String, default fallback: String? = nil) throws(EncoderError) -> String {
        guard has(field) else {
            if let fallback { return fallback }
            throw .invalidField(path: path, field: field, reason: "is missing")
        }
        guard let value = object[field] as? String else {
            throw .invalidField(path: path, field: field, reason: "is not a string")
        }
        return value
    }

    /// A boolean field.
    func bool(_ field: String, default fallback: Bool) throws(EncoderError) -> Bool {
        guard has(field) else { return fallback }
        guard let value = object[field] as? Bool else {
            throw .invalidField(path: path, field: field, reason: "is not true or false")
        }
        return value
    }
}
