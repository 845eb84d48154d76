import Foundation

/// A parsed JSON value (used to read `tokenizer.json` and `tokenizer_config.json`).
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// A JSON syntax error at a byte offset.
    struct SyntaxError: Error {
        var offset: Int
        var message: String
    }

    /// Parses JSON text (RFC 8259). Duplicate object keys keep the last value.
    static func parse(_ data: Data) throws(SyntaxError) -> JSONValue {
        let bytes = [UInt8](data)
        var parser = JSONParser(bytes: bytes)
        return try parser.parseDocument()
    }

    /// A short name of the value's JSON type, for error messages.
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

    subscript(key: String) -> JSONValue? {
        if case .object(let dictionary) = self { return dictionary[key] }
        return nil
    }
}

/// A small recursive-descent JSON parser over UTF-8 bytes (much faster than bridging
/// `JSONSerialization` results on Linux, and without its number/boolean ambiguity).
struct JSONParser {
    let bytes: [UInt8]
    var position = 0
    var depth = 0
    static let maximumDepth = 512

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    func fail(_ message: String) -> JSONValue.SyntaxError {
        JSONValue.SyntaxError(offset: position, message: message)
    }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    mutating func parseDocument() throws(JSONValue.SyntaxError) -> JSONValue {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        let value = try parseValue()
        skipWhitespace()
        guard position == bytes.count else { throw fail("unexpected data after the JSON value") }
        return value
    }

    mutating func parseValue() throws(JSONValue.SyntaxError) -> JSONValue {
        skipWhitespace()
        guard position < bytes.count else { throw fail("unexpected end of data") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("unexpected character")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONValue.SyntaxError) {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw fail("unexpected end of data") }
        let matches = literal.withUTF8Buffer { buffer in
            bytes[position..<(position + count)].elementsEqual(buffer)
        }
        guard matches else { throw fail("invalid literal") }
        position += count
    }

    mutating func parseObject() throws(JSONValue.SyntaxError) -> JSONValue {
        depth += 1
        defer { depth -= 1 }
        guard depth <= JSONParser.maximumDepth else { throw fail("nesting too deep") }
        position += 1
        var result: [String: JSONValue] = [:]
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(result)
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            position += 1
            let value = try parseValue()
            // Swift's String keys compare by canonical equivalence: "é" and "e\u{301}" would silently
            // become one key, which for a vocabulary means a lost token. Refuse such documents.
            if let index = result.index(forKey: key), !result.keys[index].utf8.elementsEqual(key.utf8) {
                throw fail("the keys \"\(result.keys[index])\" and \"\(key)\" differ only by Unicode normalization, "
                           + "which this reader cannot keep apart")
            }
            result[key] = value
            skipWhitespace()
            guard position < bytes.count else { throw fail("unexpected end of data") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
            } else if bytes[position] == UInt8(ascii: "}") {
                position += 1
                return .object(result)
            } else {
                throw fail("expected ',' or '}'")
            }
        }
    }

    mutating func parseArray() throws(JSONValue.SyntaxError) -> JSONValue {
        depth += 1
        defer { depth -= 1 }
        guard depth <= JSONParser.maximumDepth else { throw fail("nesting too deep") }
        position += 1
        var result: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(result)
        }
        while true {
            result.append(try parseValue())
            skipWhitespace()
            guard position < bytes.count else { throw fail("unexpected end of data") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
            } else if bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array(result)
            } else {
                throw fail("expected ',' or ']'")
            }
        }
    }

    mutating func parseHex4() throws(JSONValue.SyntaxError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw fail("unexpected end of data in \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("invalid \\u escape")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    mutating func parseString() throws(JSONValue.SyntaxError) -> String {
        position += 1  // opening quote
        let start = position
        // Fast path: no escapes.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let string = try decodeUTF8(bytes[start..<position])
                position += 1
                return string
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            position += 1
        }
        var buffer = [UInt8](bytes[start..<position])
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return try decodeUTF8(buffer[...])
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { throw fail("unexpected end of data in escape") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): buffer.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): buffer.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): buffer.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try parseHex4()
                    if (0xD800...0xDBFF).contains(code) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        guard position + 6 <= bytes.count, bytes[position] == UInt8(ascii: "\\"),
                              bytes[position + 1] == UInt8(ascii: "u") else { throw fail("unpaired surrogate") }
                        position += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(code) {
                        throw fail("unpaired surrogate")
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw fail("invalid code point") }
                    buffer.append(contentsOf: String(scalar).utf8)
                default:
                    throw fail("invalid escape")
                }
            default:
                guard byte >= 0x20 else { throw fail("control character in string") }
                buffer.append(byte)
            }
        }
        throw fail("unterminated string")
    }

    func decodeUTF8(_ slice: ArraySlice<UInt8>) throws(JSONValue.SyntaxError) -> String {
        guard let string = String(validating: slice, as: UTF8.self) else { throw fail("invalid UTF-8 in string") }
        return string
    }

    mutating func parseNumber() throws(JSONValue.SyntaxError) -> JSONValue {
        let start = position
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        func digits(_ parser: inout JSONParser) -> Int {
            let begin = parser.position
            while parser.position < parser.bytes.count,
                  (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(parser.bytes[parser.position]) {
                parser.position += 1
            }
            return parser.position - begin
        }
        let integerStart = position
        let integerDigits = digits(&self)
        guard integerDigits > 0 else { throw fail("invalid number") }
        if integerDigits > 1 && bytes[integerStart] == UInt8(ascii: "0") { throw fail("leading zero in number") }
        var isInteger = true
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            isInteger = false
            guard digits(&self) > 0 else { throw fail("invalid number") }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            isInteger = false
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard digits(&self) > 0 else { throw fail("invalid number") }
        }
        if isInteger && position - start <= 15 {
            // Small integers (all ids) without going through a string.
            var value = 0
            var index = integerStart
            while index < position {
                value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
            return .number(Double(bytes[start] == UInt8(ascii: "-") ? -value : value))
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        guard let value = Double(text) else { throw fail("invalid number") }
        return .number(value)
    }
}
