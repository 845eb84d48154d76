/// Why a field of a JSON object is not what its reader asked for. The caller adds the file and
/// the field's name (``JSONFieldReader`` does both for a whole object).
public struct JSONFieldError: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case missing, wrongType, outOfRange }
    public let kind: Kind
    /// `is missing`, `is not an integer: 1.5`, `is 0, must be in 1...4096`.
    public let reason: String
}

/// Typed reads of single JSON values, shared by every reader of configuration files.
///
/// `null` counts as absent; an absent value takes the `default`, or is ``JSONFieldError/Kind-swift.enum/missing``
/// when there is none. Integers must fit `range` and be integer literals (`4.0` and `1e2` are not).
public enum JSONField {
    public static func int(_ value: JSONValue?, default fallback: Int? = nil, range: ClosedRange<Int>) throws(JSONFieldError) -> Int {
        guard let value = present(value) else { return try fallbackOrMissing(fallback) }
        guard case .number(let number) = value else {
            throw JSONFieldError(kind: .wrongType, reason: "is not an integer: \(describe(value))")
        }
        // Range first (so 1e300 is "out of range"), then exactness (so 4.0 is "not an integer").
        let inRange: Bool
        if let exact = number.intValue { inRange = range.contains(exact) }
        else { inRange = number.doubleValue >= Double(range.lowerBound) && number.doubleValue <= Double(range.upperBound) }
        guard inRange else {
            throw JSONFieldError(kind: .outOfRange, reason: "is \(number), must be in \(range.lowerBound)...\(range.upperBound)")
        }
        guard let exact = number.intValue else {
            throw JSONFieldError(kind: .wrongType, reason: "is not an integer: \(number)")
        }
        return exact
    }

    public static func double(_ value: JSONValue?, default fallback: Double? = nil, range: ClosedRange<Double>) throws(JSONFieldError) -> Double {
        guard let value = present(value) else { return try fallbackOrMissing(fallback) }
        guard case .number(let number) = value else {
            throw JSONFieldError(kind: .wrongType, reason: "is not a number")
        }
        let double = number.doubleValue
        guard range.contains(double) else {
            throw JSONFieldError(kind: .outOfRange, reason: "is \(number), must be in \(range.lowerBound)...\(range.upperBound)")
        }
        return double
    }

    public static func string(_ value: JSONValue?, default fallback: String? = nil) throws(JSONFieldError) -> String {
        guard let value = present(value) else { return try fallbackOrMissing(fallback) }
        guard case .string(let string) = value else { throw JSONFieldError(kind: .wrongType, reason: "is not a string") }
        return string
    }

    public static func bool(_ value: JSONValue?, default fallback: Bool? = nil) throws(JSONFieldError) -> Bool {
        guard let value = present(value) else { return try fallbackOrMissing(fallback) }
        guard case .bool(let bool) = value else { throw JSONFieldError(kind: .wrongType, reason: "is not true or false") }
        return bool
    }

    public static func object(_ value: JSONValue?) throws(JSONFieldError) -> [String: JSONValue] {
        guard let value = present(value) else { throw missing }
        guard case .object(let object) = value else { throw JSONFieldError(kind: .wrongType, reason: "is not an object") }
        return object
    }

    public static func array(_ value: JSONValue?) throws(JSONFieldError) -> [JSONValue] {
        guard let value = present(value) else { throw missing }
        guard case .array(let array) = value else { throw JSONFieldError(kind: .wrongType, reason: "is not an array") }
        return array
    }

    private static let missing = JSONFieldError(kind: .missing, reason: "is missing")

    private static func present(_ value: JSONValue?) -> JSONValue? {
        if let value, value != .null { return value }
        return nil
    }

    private static func fallbackOrMissing<T>(_ fallback: T?) throws(JSONFieldError) -> T {
        guard let fallback else { throw missing }
        return fallback
    }

    /// A value for an error message: numbers and short strings as written, containers by type.
    private static func describe(_ value: JSONValue) -> String {
        switch value {
        case .number(let number): return number.description
        case .string(let string): return JSONWriter.quoted(string.count > 40 ? String(string.prefix(40)) + "…" : string)
        case .bool(let bool): return String(bool)
        default: return value.typeName
        }
    }
}
