// A small strict JSON parser (RFC 8259) for safetensors headers.
//
// Why not JSONSerialization: it silently keeps one of two duplicate keys, accepts some
// non-standard input, and recurses without a bound. This parser keeps objects as ordered
// key/value lists (duplicates preserved, so the caller can reject them), limits nesting
// depth, never reads outside the buffer, and reports the byte offset of the first error.

/// A JSON number, classified by what a safetensors header needs from it.
enum JSONNumber: Equatable {
    /// An integer literal (no fraction, no exponent) that fits in `Int`.
    case int(Int)
    /// An integer literal too large in magnitude for `Int`.
    case bigInteger(negative: Bool)
    /// A literal with a fraction or exponent (e.g. `1.5`, `2e3`, `4.0`).
    case nonInteger
}

/// A parsed JSON value. Objects keep their members in order, duplicates included.
enum JSONValue {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    /// A short name of the value's type, for error messages.
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// One `"key": value` member of a JSON object.
struct JSONMember {
    let key: String
    let value: JSONValue
}

/// A syntax error at `offset` bytes from the start of the parsed buffer.
struct JSONSyntaxError: Error {
    let offset: Int
    let reason: String
}

/// Returns the offset of the first byte that is not part of a well-formed UTF-8 sequence
/// (overlong forms, surrogates and code points above U+10FFFF are ill-formed), or nil.
func firstInvalidUTF8Offset(_ bytes: UnsafeRawBufferPointer) -> Int? {
    var i = 0
    let n = bytes.count
    while i < n {
        let lead = bytes[i]
        if lead < 0x80 { i += 1; continue }
        let need: Int
        var scalar: UInt32
        let minimum: UInt32
        if lead & 0xE0 == 0xC0 {
            need = 1; scalar = UInt32(lead & 0x1F); minimum = 0x80
        } else if lead & 0xF0 == 0xE0 {
            need = 2; scalar = UInt32(lead & 0x0F); minimum = 0x800
        } else if lead & 0xF8 == 0xF0 {
            need = 3; scalar = UInt32(lead & 0x07); minimum = 0x10000
        } else {
            return i
        }
        if need >= n - i { return i }
        for k in 1...need {
            let c = bytes[i + k]
            if c & 0xC0 != 0x80 { return i }
            scalar = scalar << 6 | UInt32(c & 0x3F)
        }
        if scalar < minimum || scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) { return i }
        i += need + 1
    }
    return nil
}

/// Strict recursive-descent JSON parser over a byte buffer that must already be valid UTF-8.
struct HeaderJSONParser {
    /// Maximum nesting of arrays and objects. A safetensors header needs 3.
    static let defaultMaxDepth = 64

    private let bytes: UnsafeRawBufferPointer
    private let maxDepth: Int
    private var pos = 0

    /// Parses `bytes` as one JSON document (whitespace allowed around it).
    static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = defaultMaxDepth) throws(JSONSyntaxError) -> JSONValue {
        var parser = HeaderJSONParser(bytes: bytes, maxDepth: maxDepth)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.pos != bytes.count {
            throw parser.error("unexpected \(parser.describeCurrent()) after the top-level value")
        }
        return value
    }

    private init(bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    // MARK: Helpers

    private func error(_ reason: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: pos, reason: reason)
    }

    private var atEnd: Bool { pos >= bytes.count }

    private var current: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    private func describeCurrent() -> String {
        guard let c = current else { return "end of header" }
        if c >= 0x21 && c < 0x7F { return "character '\(Character(Unicode.Scalar(c)))'" }
        return "byte 0x\(String(c, radix: 16))"
    }

    private mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(JSONSyntaxError) {
        guard current == byte else { throw error("expected \(what), found \(describeCurrent())") }
        pos += 1
    }

    // MARK: Values

    private mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard let c = current else { throw error("expected a value, found end of header") }
        switch c {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try parseLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("expected a value, found \(describeCurrent())")
        }
    }

    private mutating func parseLiteral(_ word: StaticString) throws(JSONSyntaxError) {
        let start = pos
        let n = word.utf8CodeUnitCount
        let ok: Bool = word.withUTF8Buffer { w in
            guard n <= bytes.count - pos else { return false }
            for k in 0..<n where bytes[pos + k] != w[k] { return false }
            return true
        }
        guard ok else { throw JSONSyntaxError(offset: start, reason: "invalid literal (expected '\(word)')") }
        pos += n
    }

    private mutating func parseObject(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        if depth > maxDepth { throw error("nesting deeper than \(maxDepth) levels") }
        pos += 1  // '{'
        var members: [JSONMember] = []
        skipWhitespace()
        if current == UInt8(ascii: "}") { pos += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else {
                throw error("expected a string key, found \(describeCurrent())")
            }
            let key = try parseString()
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':' after an object key")
            skipWhitespace()
            let value = try parseValue(depth: depth)
            members.append(JSONMember(key: key, value: value))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "}"): pos += 1; return .object(members)
            default: throw error("expected ',' or '}' in an object, found \(describeCurrent())")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        if depth > maxDepth { throw error("nesting deeper than \(maxDepth) levels") }
        pos += 1  // '['
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") { pos += 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "]"): pos += 1; return .array(elements)
            default: throw error("expected ',' or ']' in an array, found \(describeCurrent())")
            }
        }
    }

    // MARK: Numbers

    private mutating func parseNumber() throws(JSONSyntaxError) -> JSONNumber {
        var negative = false
        if current == UInt8(ascii: "-") { negative = true; pos += 1 }
        guard let first = current, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else {
            throw error("expected a digit, found \(describeCurrent())")
        }
        // Integer part: accumulate the magnitude, watching for overflow.
        var magnitude = 0
        var overflow = false
        if first == UInt8(ascii: "0") {
            pos += 1
            if let c = current, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                throw error("leading zeros are not allowed in numbers")
            }
        } else {
            while let c = current, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                if !overflow {
                    let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
                    let (s, o2) = m.addingReportingOverflow(Int(c - UInt8(ascii: "0")))
                    if o1 || o2 { overflow = true } else { magnitude = s }
                }
                pos += 1
            }
        }
        var isInteger = true
        if current == UInt8(ascii: ".") {
            pos += 1
            try skipDigits("a digit after the decimal point")
            isInteger = false
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            pos += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { pos += 1 }
            try skipDigits("a digit in the exponent")
            isInteger = false
        }
        if !isInteger { return .nonInteger }
        if overflow { return .bigInteger(negative: negative) }
        return .int(negative ? -magnitude : magnitude)
    }

    private mutating func skipDigits(_ what: String) throws(JSONSyntaxError) {
        guard let c = current, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else {
            throw error("expected \(what), found \(describeCurrent())")
        }
        while let c = current, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { pos += 1 }
    }

    // MARK: Strings

    /// Parses a string starting at the opening quote; leaves `pos` after the closing quote.
    private mutating func parseString() throws(JSONSyntaxError) -> String {
        let openQuote = pos
        pos += 1
        let start = pos
        // Fast path: no escapes.
        while let c = current {
            if c == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
                pos += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw error("unescaped control character in a string") }
            pos += 1
        }
        if atEnd { throw JSONSyntaxError(offset: openQuote, reason: "unterminated string") }
        // Slow path: collect UTF-8 bytes, decoding escapes.
        var out = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<pos]))
        while let c = current {
            switch c {
            case UInt8(ascii: "\""):
                pos += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                pos += 1
                guard let e = current else { break }
                pos += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    let scalar = try parseUnicodeEscape()
                    out.append(contentsOf: UTF8.encode(scalar)!)
                default:
                    pos -= 2
                    throw error("invalid escape sequence")
                }
            default:
                if c < 0x20 { throw error("unescaped control character in a string") }
                out.append(c)
                pos += 1
            }
        }
        throw JSONSyntaxError(offset: openQuote, reason: "unterminated string")
    }

    /// After `\u`: reads 4 hex digits (and a second `\uXXXX` for a surrogate pair).
    private mutating func parseUnicodeEscape() throws(JSONSyntaxError) -> Unicode.Scalar {
        let escapeStart = pos - 2
        let high = try parseHex4()
        if (0xDC00...0xDFFF).contains(high) {
            throw JSONSyntaxError(offset: escapeStart, reason: "unpaired low surrogate in \\u escape")
        }
        if (0xD800...0xDBFF).contains(high) {
            guard bytes.count - pos >= 2, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                throw JSONSyntaxError(offset: escapeStart, reason: "unpaired high surrogate in \\u escape")
            }
            pos += 2
            let low = try parseHex4()
            guard (0xDC00...0xDFFF).contains(low) else {
                throw JSONSyntaxError(offset: escapeStart, reason: "high surrogate not followed by a low surrogate")
            }
            let value = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            return Unicode.Scalar(value)!
        }
        return Unicode.Scalar(high)!
    }

    private mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
        guard bytes.count - pos >= 4 else { throw error("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw error("invalid hex digit in \\u escape")
            }
            v = v << 4 | UInt32(d)
            pos += 1
        }
        return v
    }
}
