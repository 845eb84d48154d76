/// Writes JSON text: strings escaped exactly as RFC 8259 requires, numbers printed as the shortest
/// decimal that reads back to the same value.
///
/// Only what RFC 8259 requires is escaped: `"` and `\` as `\"` and `\\`, the controls U+0000–U+001F
/// (as `\b \f \n \r \t` or `\u00XX`). `/` and non-ASCII text are written as they are (UTF-8).
/// JSON has no NaN or infinity: ``append(_:)-(Double)`` refuses them with ``NonFiniteNumber``.
public struct JSONWriter: Sendable {
    /// A NaN or infinite number, which JSON cannot represent.
    public struct NonFiniteNumber: Error, Sendable, Equatable {
        public let value: Double
    }

    /// The text written so far.
    public private(set) var text: String = ""

    public init() {}

    /// Appends text that is already JSON (punctuation such as `{`, `,`, `:`).
    public mutating func appendRaw(_ json: String) { text += json }

    /// Appends `string` as a quoted, escaped JSON string.
    public mutating func append(string: String) { Self.appendQuoted(string, to: &text) }

    public mutating func append(_ value: Int) { text += String(value) }

    public mutating func append(_ value: Bool) { text += value ? "true" : "false" }

    /// Appends `value` shortest-round-trip (`0.1`, `1e-07`, `3.0`).
    public mutating func append(_ value: Double) throws(NonFiniteNumber) {
        guard value.isFinite else { throw NonFiniteNumber(value: value) }
        text += Self.format(value)
    }

    /// Appends `value` shortest-round-trip as a `Float` (`0.1`, not `0.10000000149011612`).
    public mutating func append(_ value: Float) throws(NonFiniteNumber) {
        guard value.isFinite else { throw NonFiniteNumber(value: Double(value)) }
        text += value.description
    }

    /// Appends a parsed value (object keys sorted, so the output is deterministic).
    public mutating func append(_ value: JSONValue) throws(NonFiniteNumber) {
        switch value {
        case .null: text += "null"
        case .bool(let bool): append(bool)
        case .number(.int(let int)): append(int)
        case .number(.bigInteger(let double)), .number(.fraction(let double)): try append(double)
        case .string(let string): append(string: string)
        case .array(let elements):
            text += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { text += "," }
                try append(element)
            }
            text += "]"
        case .object(let members):
            text += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { text += "," }
                append(string: key)
                text += ":"
                try append(members[key]!)
            }
            text += "}"
        }
    }

    /// `string` as a quoted, escaped JSON string.
    public static func quoted(_ string: String) -> String {
        var out = ""
        appendQuoted(string, to: &out)
        return out
    }

    /// `value` shortest-round-trip; for finite values only (NaN and infinities give Swift's spelling).
    public static func format(_ value: Double) -> String { value.description }

    private static func appendQuoted(_ string: String, to out: inout String) {
        out.reserveCapacity(out.utf8.count + string.utf8.count + 2)
        out += "\""
        var runStart = string.unicodeScalars.startIndex
        var index = runStart
        let scalars = string.unicodeScalars
        while index != scalars.endIndex {
            let scalar = scalars[index]
            let escape: String?
            switch scalar.value {
            case 0x22: escape = "\\\""
            case 0x5C: escape = "\\\\"
            case 0x08: escape = "\\b"
            case 0x0C: escape = "\\f"
            case 0x0A: escape = "\\n"
            case 0x0D: escape = "\\r"
            case 0x09: escape = "\\t"
            case 0x00..<0x20:
                let hex = String(scalar.value, radix: 16, uppercase: false)
                escape = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: escape = nil
            }
            if let escape {
                out.unicodeScalars.append(contentsOf: scalars[runStart..<index])
                out += escape
                runStart = scalars.index(after: index)
            }
            index = scalars.index(after: index)
        }
        out.unicodeScalars.append(contentsOf: scalars[runStart..<index])
        out += "\""
    }
}
