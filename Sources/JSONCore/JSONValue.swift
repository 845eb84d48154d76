// JSONCore: the project's one JSON reader and writer, shared by SafeTensors, Tokenizers and
// TransformerEncoder (and the command-line tool's output). It is an internal module of this
// package: not a product, no stable API; its declarations are `public` only so that the
// package's other modules can use them.

import Foundation

/// A JSON number as written: an integer literal (no fraction, no exponent) is kept exact when it
/// fits in `Int`; everything else is the nearest `Double`.
///
/// Equality is numeric and exact: `.int(150) == .fraction(150)` (so `1.5e2` equals `150`), but
/// `.int(9007199254740993)` differs from `.fraction(9007199254740992)`.
public enum JSONNumber: Sendable, Hashable, CustomStringConvertible,
    ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral
{
    /// An integer literal that fits in `Int`, exactly.
    case int(Int)
    /// An integer literal too large in magnitude for `Int`; the nearest `Double` (±inf beyond its range).
    case bigInteger(Double)
    /// A literal with a fraction or an exponent (`1.5`, `2e3`, `4.0`); the nearest `Double`.
    case fraction(Double)

    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .fraction(value) }
    /// `value` as a JSON number: `.int` when it is integral and fits in `Int`, `.fraction` otherwise.
    public init(_ value: Double) {
        if let exact = Int(exactly: value) { self = .int(exact) } else { self = .fraction(value) }
    }

    /// The value as a `Double` (rounded to nearest for integers beyond 2^53).
    public var doubleValue: Double {
        switch self {
        case .int(let value): return Double(value)
        case .bigInteger(let value), .fraction(let value): return value
        }
    }

    /// The value as an `Int` when the literal was an integer that fits (`4.0` and `1e2` are not integers).
    public var intValue: Int? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// True for integer literals (with or without an exact `Int`).
    public var isIntegerLiteral: Bool {
        switch self {
        case .int, .bigInteger: return true
        case .fraction: return false
        }
    }

    public var description: String {
        switch self {
        case .int(let value): return String(value)
        case .bigInteger(let value), .fraction(let value): return JSONWriter.format(value)
        }
    }

    public static func == (a: JSONNumber, b: JSONNumber) -> Bool {
        switch (a, b) {
        case let (.int(x), .int(y)): return x == y
        case let (.int(x), .bigInteger(y)), let (.int(x), .fraction(y)),
             let (.bigInteger(y), .int(x)), let (.fraction(y), .int(x)):
            return Int(exactly: y) == x
        default: return a.doubleValue == b.doubleValue
        }
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(doubleValue) }
}

/// A parsed JSON value. Objects are dictionaries: the parser rejects duplicate keys, so nothing is lost.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The syntax error type of ``parse(_:maxDepth:)`` (named as Tokenizers' former parser named it).
    public typealias SyntaxError = JSONParseError

    /// Parses `data` as one JSON document (RFC 8259, strict; a leading UTF-8 byte-order mark is skipped).
    public static func parse(_ data: Data, maxDepth: Int = JSONParser.defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        let result = data.withUnsafeBytes { bytes in
            Result { () throws(JSONParseError) -> JSONValue in
                try JSONParser.parse(bytes, maxDepth: maxDepth, allowsByteOrderMark: true)
            }
        }
        return try result.get()
    }

    /// A short name of the value's JSON type, for error messages ("a number", "an object").
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// The member `key` of an object; nil for a missing key or a value that is not an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var doubleValue: Double? {
        if case .number(let number) = self { return number.doubleValue }
        return nil
    }

    /// An integer literal that fits in `Int`.
    public var intValue: Int? {
        if case .number(let number) = self { return number.intValue }
        return nil
    }

    public var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let bool) = self { return bool }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let array) = self { return array }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let object) = self { return object }
        return nil
    }
}
