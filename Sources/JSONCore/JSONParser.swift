/// Why a JSON document was rejected, and where.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Not JSON (RFC 8259) at ``JSONParseError/offset``.
        case syntax
        /// The byte at ``JSONParseError/offset`` starts no well-formed UTF-8 sequence.
        case invalidUTF8
        /// Arrays and objects nest deeper than the parser's bound.
        case tooDeep
        /// An object has the member `key` twice (keys compared as Swift strings, i.e. up to
        /// Unicode canonical equivalence); ``JSONParseError/path`` names the object.
        case duplicateKey(String)
    }

    /// Where in the document: an object member or an array element.
    public enum PathComponent: Sendable, Equatable, CustomStringConvertible {
        case key(String)
        case index(Int)

        public var description: String {
            switch self {
            case .key(let key): return ".\(key)"
            case .index(let index): return "[\(index)]"
            }
        }
    }

    public let kind: Kind
    /// Byte offset of the problem from the start of the parsed buffer.
    public let offset: Int
    /// What is wrong, in prose.
    public let reason: String
    /// The members and elements enclosing the problem, outermost first (empty at the top level).
    public internal(set) var path: [PathComponent] = []

    /// The former Tokenizers parser's name for ``reason``.
    public var message: String { reason }

    /// The enclosing path as `model.vocab` / `added_tokens[3]`, or "the top level".
    public var pathDescription: String {
        if path.isEmpty { return "the top level" }
        let text = path.map(\.description).joined()
        return text.hasPrefix(".") ? String(text.dropFirst()) : text
    }

    public var description: String { "\(reason) at byte \(offset)" }
}

/// A strict JSON parser (RFC 8259) over a byte buffer.
///
/// Strict where other readers are lenient: duplicate object keys are an error (naming the key and
/// the object), nesting is bounded, the text must be well-formed UTF-8 (no overlong forms,
/// surrogates or code points above U+10FFFF), no trailing commas, comments, `NaN` or leading zeros.
/// Integer literals keep their exact value (see ``JSONNumber``). It never reads outside the buffer.
public struct JSONParser {
    /// Maximum nesting of arrays and objects by default (real `tokenizer.json` files need about 6).
    public static let defaultMaxDepth = 128

    private let bytes: UnsafeRawBufferPointer
    private let maxDepth: Int
    private var pos = 0

    /// Parses `bytes` as one JSON document (whitespace allowed around it).
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, maxDepth: Int = defaultMaxDepth, allowsByteOrderMark: Bool = false
    ) throws(JSONParseError) -> JSONValue {
        if let bad = firstInvalidUTF8Offset(bytes) {
            throw JSONParseError(kind: .invalidUTF8, offset: bad, reason: "invalid UTF-8")
        }
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        if allowsByteOrderMark, bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            parser.pos = 3
        }
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

    private func error(_ reason: String, at offset: Int? = nil, kind: JSONParseError.Kind = .syntax) -> JSONParseError {
        JSONParseError(kind: kind, offset: offset ?? pos, reason: reason)
    }

    @inline(__always) private var current: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    private func describeCurrent() -> String {
        guard let c = current else { return "end of input" }
        if c >= 0x21 && c < 0x7F { return "character '\(Character(Unicode.Scalar(c)))'" }
        return "byte 0x\(String(c, radix: 16))"
    }

    @inline(__always) private mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    // MARK: Values

    private mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard let c = current else { throw error("expected a value, found end of input") }
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

    private mutating func parseLiteral(_ word: StaticString) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        let ok: Bool = word.withUTF8Buffer { w in
            guard n <= bytes.count - pos else { return false }
            for k in 0..<n where bytes[pos + k] != w[k] { return false }
            return true
        }
        guard ok else { throw error("invalid literal (expected '\(word)')") }
        pos += n
    }

    private mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        if depth > maxDepth { throw error("nesting deeper than \(maxDepth) levels", kind: .tooDeep) }
        pos += 1  // '{'
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if current == UInt8(ascii: "}") { pos += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else {
                throw error("expected a string key, found \(describeCurrent())")
            }
            let keyOffset = pos
            let key = try parseString()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else {
                throw error("expected ':' after an object key, found \(describeCurrent())")
            }
            pos += 1
            skipWhitespace()
            let value: JSONValue
            do {
                value = try parseValue(depth: depth)
            } catch {
                var error = error
                error.path.insert(.key(key), at: 0)
                throw error
            }
            if members.updateValue(value, forKey: key) != nil, let index = members.index(forKey: key) {
                let first = members.keys[index]  // an update keeps the first spelling of the key
                // Swift compares String keys up to canonical equivalence ("é" and "e\u{301}"): say so.
                let reason = first.utf8.elementsEqual(key.utf8)
                    ? "duplicate key '\(key)'"
                    : "keys '\(first)' and '\(key)' differ only by Unicode normalization"
                throw error(reason, at: keyOffset, kind: .duplicateKey(key))
            }
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "}"): pos += 1; return .object(members)
            default: throw error("expected ',' or '}' in an object, found \(describeCurrent())")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        if depth > maxDepth { throw error("nesting deeper than \(maxDepth) levels", kind: .tooDeep) }
        pos += 1  // '['
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") { pos += 1; return .array(elements) }
        while true {
            skipWhitespace()
            do {
                elements.append(try parseValue(depth: depth))
            } catch {
                var error = error
                error.path.insert(.index(elements.count), at: 0)
                throw error
            }
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "]"): pos += 1; return .array(elements)
            default: throw error("expected ',' or ']' in an array, found \(describeCurrent())")
            }
        }
    }

    // MARK: Numbers

    private mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = pos
        var negative = false
        if current == UInt8(ascii: "-") { negative = true; pos += 1 }
        guard let first = current, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else {
            throw error("expected a digit, found \(describeCurrent())")
        }
        // Integer part: accumulate the magnitude as a negative number (Int.min has no positive twin).
        var negated = 0
        var overflow = false
        if first == UInt8(ascii: "0") {
            pos += 1
            if let c = current, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                throw error("leading zeros are not allowed in numbers")
            }
        } else {
            while let c = current, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                if !overflow {
                    let (m, o1) = negated.multipliedReportingOverflow(by: 10)
                    let (s, o2) = m.subtractingReportingOverflow(Int(c &- UInt8(ascii: "0")))
                    if o1 || o2 { overflow = true } else { negated = s }
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
        if isInteger && !overflow {
            if negative { return .int(negated) }
            if negated != Int.min { return .int(-negated) }
        }
        // The literal is plain ASCII digits, signs, '.' and 'e': Double's parser rounds it correctly.
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
        let value = Double(text) ?? (negative ? -.infinity : .infinity)
        return isInteger ? .bigInteger(value) : .fraction(value)
    }

    private mutating func skipDigits(_ what: String) throws(JSONParseError) {
        guard let c = current, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else {
            throw error("expected \(what), found \(describeCurrent())")
        }
        while let c = current, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { pos += 1 }
    }

    // MARK: Strings

    /// Parses a string starting at the opening quote; leaves `pos` after the closing quote.
    /// The buffer was validated as UTF-8 up front, so raw bytes are copied as they are.
    private mutating func parseString() throws(JSONParseError) -> String {
        let openQuote = pos
        pos += 1
        let start = pos
        // Fast path: no escapes.
        while pos < bytes.count {
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
                pos += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw error("unescaped control character in a string") }
            pos += 1
        }
        if pos >= bytes.count { throw error("unterminated string", at: openQuote) }
        // Slow path: collect UTF-8 bytes, decoding escapes.
        var out = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<pos]))
        while let c = current {
            switch c {
            case UInt8(ascii: "\""):
                pos += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                pos += 1
                guard let e = current else { throw error("unterminated string", at: openQuote) }
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
                    out.append(contentsOf: String(scalar).utf8)
                default:
                    throw error("invalid escape sequence", at: pos - 2)
                }
            default:
                if c < 0x20 { throw error("unescaped control character in a string") }
                out.append(c)
                pos += 1
            }
        }
        throw error("unterminated string", at: openQuote)
    }

    /// After `\u`: reads 4 hex digits (and a second `\uXXXX` for a surrogate pair).
    private mutating func parseUnicodeEscape() throws(JSONParseError) -> Unicode.Scalar {
        let escapeStart = pos - 2
        let high = try parseHex4()
        if (0xDC00...0xDFFF).contains(high) {
            throw error("unpaired low surrogate in \\u escape", at: escapeStart)
        }
        if (0xD800...0xDBFF).contains(high) {
            guard bytes.count - pos >= 2, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                throw error("unpaired high surrogate in \\u escape", at: escapeStart)
            }
            pos += 2
            let low = try parseHex4()
            guard (0xDC00...0xDFFF).contains(low), let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) else {
                throw error("high surrogate not followed by a low surrogate", at: escapeStart)
            }
            return scalar
        }
        guard let scalar = Unicode.Scalar(high) else { throw error("invalid \\u escape", at: escapeStart) }
        return scalar
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt32 {
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

/// Returns the offset of the first byte that is not part of a well-formed UTF-8 sequence
/// (overlong forms, surrogates and code points above U+10FFFF are ill-formed), or nil.
public func firstInvalidUTF8Offset(_ bytes: UnsafeRawBufferPointer) -> Int? {
    var i = 0
    let n = bytes.count
    while i < n {
        // ASCII run: 8 bytes at a time.
        while i + 8 <= n, bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { i += 8 }
        guard i < n else { break }
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
